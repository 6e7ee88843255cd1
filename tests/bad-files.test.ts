/**
 * Bad files, one defect each, through the `tollkit` command as users meet them (issue 15): TNTP
 * network, trips and node files, GMNS folders, tolls CSV, user-class JSON, elastic-demand JSON,
 * scenario JSON and sweep JSON (batch; a sweep too large is refused before any run is planned). Each is generated here into a temporary folder from a small valid input and
 * must make the CLI exit 2 with one line on stderr that names the file, the line (text files)
 * and the field or JSON path, and says what was expected; nothing on stdout, no stack trace, and
 * no output folder left behind (nothing half-written).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "tollkit-bad-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A valid TNTP network. Line numbers (1-based) are what the expectations below refer to.
const NET = [
  "<NUMBER OF ZONES> 2", // 1
  "<NUMBER OF NODES> 4", // 2
  "<FIRST THRU NODE> 1", // 3
  "<NUMBER OF LINKS> 5", // 4
  "<END OF METADATA>", // 5
  "", // 6
  "~ init_node term_node capacity length free_flow_time b power speed toll link_type ;", // 7
  "1 3 100 1 1 0.15 4 0 0 1 ;", // 8
  "1 4 100 1 5 0.15 4 0 0 1 ;", // 9
  "3 2 100 1 5 0.15 4 0 0 1 ;", // 10
  "3 4 100 1 1 0.15 4 0 0 1 ;", // 11
  "4 2 100 1 1 0.15 4 0 0 1 ;", // 12
];
const TRIPS = [
  "<NUMBER OF ZONES> 2", // 1
  "<TOTAL OD FLOW> 110", // 2
  "<END OF METADATA>", // 3
  "", // 4
  "Origin 1", // 5
  "  2 : 100;", // 6
  "Origin 2", // 7
  "  1 : 10;", // 8
];
const NODES = ["Node X Y ;", "1 0 0 ;", "2 1 0 ;", "3 0.5 1 ;", "4 0.5 -1 ;"];

const GMNS = {
  "node.csv": ["node_id,x_coord,y_coord,zone_id", "1,0,0,1", "2,1,0,2", "3,0.5,1,", "4,0.5,-1,"],
  "link.csv": [
    "link_id,from_node_id,to_node_id,length,VDF_fftt1,VDF_cap1,VDF_alpha1,VDF_beta1,toll,link_type",
    "1,1,3,1,1,100,0.15,4,0,1", // line 2
    "2,1,4,1,5,100,0.15,4,0,1", // 3
    "3,3,2,1,5,100,0.15,4,0,1", // 4
    "4,3,4,1,1,100,0.15,4,0,1", // 5
    "5,4,2,1,1,100,0.15,4,0,1", // 6
  ],
  "demand.csv": ["o_zone_id,d_zone_id,volume", "1,2,100", "2,1,10"],
};

type Lines = string[];
const edit = (lines: Lines, line: number, text: string): Lines => lines.map((l, i) => (i === line - 1 ? text : l));

let serial = 0;
function writeTntp(net: Lines, trips: Lines, nodes?: Lines): string {
  const dir = join(root, `tntp-${++serial}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "bad_net.tntp"), net.join("\n") + "\n");
  writeFileSync(join(dir, "bad_trips.tntp"), trips.join("\n") + "\n");
  if (nodes) writeFileSync(join(dir, "bad_node.tntp"), nodes.join("\n") + "\n");
  return join(dir, "bad_net.tntp");
}
function writeGmns(files: Partial<Record<string, Lines>>): string {
  const dir = join(root, `gmns-${++serial}`);
  mkdirSync(dir);
  for (const [name, lines] of Object.entries({ ...GMNS, ...files })) if (lines) writeFileSync(join(dir, name), lines.join("\n") + "\n");
  return dir;
}

interface Case {
  name: string;
  /** Writes the bad file(s) and returns the CLI arguments (without --out). */
  args: () => string[];
  /** The bad file's name as the message gives it (its base name). */
  file: string;
  /** The line named (text files; JSON syntax errors). */
  line?: number;
  /** The field or JSON path named (absent only for a JSON syntax error, which names the line). */
  field?: string;
}

const tntp =
  (net = NET, trips = TRIPS, nodes?: Lines) =>
  () => ["assign", writeTntp(net, trips, nodes)];
const gmns = (files: Partial<Record<string, Lines>>) => () => ["assign", writeGmns(files)];

/** A file of its own in the temp folder, for `tollkit <command> <network> --<option> <file>` or `design <file>`. */
function fileArg(name: string, text: string): string {
  const dir = join(root, `file-${++serial}`);
  mkdirSync(dir);
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
const tolls = (name: string, text: string) => () => ["assign", "two-route", "--tolls", fileArg(name, text)];
const classes = (name: string, json: unknown) => () => ["assign", "two-route", "--classes", fileArg(name, JSON.stringify(json))];
const demand = (name: string, json: unknown) => () => ["assign", "two-route", "--demand-function", fileArg(name, JSON.stringify(json))];
const scenario = (name: string, json: unknown) => () => ["design", fileArg(name, JSON.stringify(json))];
const sweep = (name: string, runs: unknown[]) => () => ["batch", fileArg(name, JSON.stringify({ kind: "sweep", name: "bad", runs }))];
const range = (n: number, f: (k: number) => number) => Array.from({ length: n }, (_, k) => f(k));
const raw =
  (name: string, text: string, ...cmd: string[]) =>
  () =>
    cmd.length ? [...cmd, fileArg(name, text)] : ["design", fileArg(name, text)];

/** A valid two-route scenario (the grid method needs bounds) to break one field at a time. */
const SCENARIO = {
  network: "two-route",
  instrument: { type: "links", links: [1], bounds: { min: 0, max: 30 } },
  objective: { type: "revenue" },
  method: { type: "grid" },
};
const withField = (patch: Record<string, unknown>) => ({ ...SCENARIO, ...patch });

const cases: Case[] = [
  // TNTP net file
  {
    name: "non-numeric capacity",
    args: tntp(edit(NET, 9, "1 4 abc 1 5 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 9,
    field: "capacity",
  },
  { name: "truncated link line", args: tntp(edit(NET, 10, "3 2 100")), file: "bad_net.tntp", line: 10, field: "length" },
  {
    name: "zero capacity on a flow-dependent link",
    args: tntp(edit(NET, 11, "3 4 0 1 1 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 11,
    field: "capacity",
  },
  {
    name: "negative capacity on a flow-dependent link",
    args: tntp(edit(NET, 8, "1 3 -5 1 1 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 8,
    field: "capacity",
  },
  {
    name: "NaN free-flow time",
    args: tntp(edit(NET, 12, "4 2 100 1 NaN 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 12,
    field: "free_flow_time",
  },
  { name: "Infinity b", args: tntp(edit(NET, 8, "1 3 100 1 1 Infinity 4 0 0 1 ;")), file: "bad_net.tntp", line: 8, field: "b" },
  {
    name: "power overflowing to infinity",
    args: tntp(edit(NET, 9, "1 4 100 1 5 0.15 1e999 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 9,
    field: "power",
  },
  { name: "hexadecimal length", args: tntp(edit(NET, 9, "1 4 100 0x10 5 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 9, field: "length" },
  { name: "negative length", args: tntp(edit(NET, 10, "3 2 100 -1 5 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 10, field: "length" },
  { name: "node id 0", args: tntp(edit(NET, 8, "0 3 100 1 1 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 8, field: "init_node" },
  { name: "loop link", args: tntp(edit(NET, 11, "3 3 100 1 1 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 11, field: "term_node" },
  {
    name: "link to a node missing from the node file",
    args: tntp(edit(NET, 12, "4 5 100 1 1 0.15 4 0 0 1 ;"), TRIPS, NODES),
    file: "bad_net.tntp",
    line: 12,
    field: "term_node",
  },
  {
    name: "truncated net file (fewer links than declared)",
    args: tntp(NET.slice(0, 10)),
    file: "bad_net.tntp",
    line: 10,
    field: "<NUMBER OF LINKS>",
  },
  { name: "net file without links", args: tntp(NET.slice(0, 7)), file: "bad_net.tntp", line: 7, field: "init_node" },
  {
    name: "missing <END OF METADATA>",
    args: tntp(NET.filter((_, i) => i !== 4)),
    file: "bad_net.tntp",
    line: 6,
    field: "<END OF METADATA>",
  },
  { name: "missing <NUMBER OF ZONES>", args: tntp(NET.slice(1)), file: "bad_net.tntp", line: 1, field: "<NUMBER OF ZONES>" },
  {
    name: "non-numeric <NUMBER OF ZONES>",
    args: tntp(edit(NET, 1, "<NUMBER OF ZONES> two")),
    file: "bad_net.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  {
    name: "more zones than nodes",
    args: tntp(edit(NET, 1, "<NUMBER OF ZONES> 9")),
    file: "bad_net.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  // TNTP trips file
  {
    name: "destination that is not a zone",
    args: tntp(NET, edit(TRIPS, 6, "  3 : 100;")),
    file: "bad_trips.tntp",
    line: 6,
    field: "destination",
  },
  { name: "origin that is not a zone", args: tntp(NET, edit(TRIPS, 7, "Origin 4")), file: "bad_trips.tntp", line: 7, field: "origin" },
  { name: "duplicate origin", args: tntp(NET, edit(TRIPS, 7, "Origin 1")), file: "bad_trips.tntp", line: 7, field: "origin" },
  {
    name: "duplicate destination",
    args: tntp(NET, edit(TRIPS, 6, "  2 : 50; 2 : 50;")),
    file: "bad_trips.tntp",
    line: 6,
    field: "destination",
  },
  { name: "negative trips", args: tntp(NET, edit(TRIPS, 8, "  1 : -10;")), file: "bad_trips.tntp", line: 8, field: "trips 2→1" },
  { name: "non-numeric trips", args: tntp(NET, edit(TRIPS, 6, "  2 : lots;")), file: "bad_trips.tntp", line: 6, field: "trips 1→2" },
  { name: "entry without a colon", args: tntp(NET, edit(TRIPS, 6, "  2 100;")), file: "bad_trips.tntp", line: 6, field: "destination" },
  {
    name: "demand before any Origin line",
    args: tntp(
      NET,
      TRIPS.filter((_, i) => i !== 4),
    ),
    file: "bad_trips.tntp",
    line: 5,
    field: "origin",
  },
  {
    name: "truncated trips file (total short of <TOTAL OD FLOW>)",
    args: tntp(NET, TRIPS.slice(0, 7)),
    file: "bad_trips.tntp",
    line: 7,
    field: "<TOTAL OD FLOW>",
  },
  {
    name: "trips file disagreeing on the zone count",
    args: tntp(NET, edit(TRIPS, 1, "<NUMBER OF ZONES> 3")),
    file: "bad_trips.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  // TNTP node file
  { name: "non-numeric node coordinate", args: tntp(NET, TRIPS, edit(NODES, 3, "2 east 0 ;")), file: "bad_node.tntp", line: 3, field: "x" },
  {
    name: "node listed twice in the node file",
    args: tntp(NET, TRIPS, edit(NODES, 4, "2 0.5 1 ;")),
    file: "bad_node.tntp",
    line: 4,
    field: "node",
  },
  // GMNS
  {
    name: "GMNS: empty capacity",
    args: gmns({ "link.csv": edit(GMNS["link.csv"], 3, "2,1,4,1,5,,0.15,4,0,1") }),
    file: "link.csv",
    line: 3,
    field: "VDF_cap1",
  },
  {
    name: "GMNS: zero capacity",
    args: gmns({ "link.csv": edit(GMNS["link.csv"], 4, "3,3,2,1,5,0,0.15,4,0,1") }),
    file: "link.csv",
    line: 4,
    field: "VDF_cap1",
  },
  {
    name: "GMNS: NaN free-flow time",
    args: gmns({ "link.csv": edit(GMNS["link.csv"], 5, "4,3,4,1,NaN,100,0.15,4,0,1") }),
    file: "link.csv",
    line: 5,
    field: "VDF_fftt1",
  },
  {
    name: "GMNS: link from an unknown node",
    args: gmns({ "link.csv": edit(GMNS["link.csv"], 6, "5,7,2,1,1,100,0.15,4,0,1") }),
    file: "link.csv",
    line: 6,
    field: "from_node_id",
  },
  {
    name: "GMNS: truncated link row",
    args: gmns({ "link.csv": edit(GMNS["link.csv"], 2, "1,1,3,1") }),
    file: "link.csv",
    line: 2,
    field: "vdf_fftt1",
  },
  {
    name: "GMNS: missing VDF_alpha1 column",
    args: gmns({
      "link.csv": GMNS["link.csv"].map((l) =>
        l
          .split(",")
          .filter((_, k) => k !== 6)
          .join(","),
      ),
    }),
    file: "link.csv",
    line: 1,
    field: "VDF_alpha1",
  },
  {
    name: "GMNS: two-way link",
    args: gmns({ "link.csv": GMNS["link.csv"].map((l, i) => `${l},${i === 0 ? "dir_flag" : i === 3 ? "0" : "1"}`) }),
    file: "link.csv",
    line: 4,
    field: "dir_flag",
  },
  {
    name: "GMNS: unknown volume-delay function",
    args: gmns({ "link.csv": GMNS["link.csv"].map((l, i) => `${l},${i === 0 ? "vdf_type" : i === 5 ? "akcelik" : "bpr"}`) }),
    file: "link.csv",
    line: 6,
    field: "vdf_type",
  },
  {
    name: "GMNS: duplicate node id",
    args: gmns({ "node.csv": edit(GMNS["node.csv"], 4, "2,0.5,1,") }),
    file: "node.csv",
    line: 4,
    field: "node_id",
  },
  {
    name: "GMNS: one zone on two nodes",
    args: gmns({ "node.csv": edit(GMNS["node.csv"], 5, "4,0.5,-1,2") }),
    file: "node.csv",
    line: 5,
    field: "zone_id",
  },
  {
    name: "GMNS: no zones at all",
    args: gmns({ "node.csv": GMNS["node.csv"].map((l) => l.replace(/,[^,]*$/, (m) => (m === ",zone_id" ? m : ","))) }),
    file: "node.csv",
    line: 1,
    field: "zone_id",
  },
  {
    name: "GMNS: Infinity coordinate",
    args: gmns({ "node.csv": edit(GMNS["node.csv"], 3, "2,Infinity,0,2") }),
    file: "node.csv",
    line: 3,
    field: "x_coord",
  },
  {
    name: "GMNS: demand from a non-zone",
    args: gmns({ "demand.csv": edit(GMNS["demand.csv"], 3, "3,1,10") }),
    file: "demand.csv",
    line: 3,
    field: "o_zone_id",
  },
  {
    name: "GMNS: demand to a non-zone",
    args: gmns({ "demand.csv": edit(GMNS["demand.csv"], 2, "1,4,100") }),
    file: "demand.csv",
    line: 2,
    field: "d_zone_id",
  },
  {
    name: "GMNS: duplicate origin–destination pair",
    args: gmns({ "demand.csv": [...GMNS["demand.csv"], "1,2,5"] }),
    file: "demand.csv",
    line: 4,
    field: "d_zone_id",
  },
  {
    name: "GMNS: negative volume",
    args: gmns({ "demand.csv": edit(GMNS["demand.csv"], 2, "1,2,-100") }),
    file: "demand.csv",
    line: 2,
    field: "volume",
  },
  {
    name: "GMNS: demand file with no rows",
    args: gmns({ "demand.csv": GMNS["demand.csv"].slice(0, 1) }),
    file: "demand.csv",
    line: 2,
    field: "o_zone_id",
  },
  {
    name: "GMNS: unclosed quote",
    args: gmns({ "demand.csv": edit(GMNS["demand.csv"], 3, '2,"1,10') }),
    file: "demand.csv",
    line: 3,
    field: "d_zone_id",
  },
  {
    name: "GMNS: unknown coordinate system in config.csv",
    args: gmns({ "config.csv": ["dataset_name,coordinate_system", "bad,mercator"] }),
    file: "config.csv",
    line: 2,
    field: "coordinate_system",
  },

  // tolls CSV (assign two-route --tolls)
  { name: "tolls: unknown link", args: tolls("t1.csv", "link,toll\n1,2\n99,1\n"), file: "t1.csv", line: 3, field: "link" },
  { name: "tolls: link 0", args: tolls("t2.csv", "link,toll\n0,1\n"), file: "t2.csv", line: 2, field: "link" },
  { name: "tolls: fractional link id", args: tolls("t3.csv", "link,toll\n1.5,1\n"), file: "t3.csv", line: 2, field: "link" },
  { name: "tolls: a link listed twice", args: tolls("t4.csv", "link,toll\n1,1\n1,2\n"), file: "t4.csv", line: 3, field: "link" },
  { name: "tolls: non-numeric toll", args: tolls("t5.csv", "link,toll\n1,cheap\n"), file: "t5.csv", line: 2, field: "toll" },
  { name: "tolls: NaN toll", args: tolls("t6.csv", "link,toll\n1,NaN\n"), file: "t6.csv", line: 2, field: "toll" },
  { name: "tolls: toll overflowing to infinity", args: tolls("t7.csv", "link,toll\n1,1e999\n"), file: "t7.csv", line: 2, field: "toll" },
  { name: "tolls: empty toll", args: tolls("t8.csv", "link,toll\n1,\n"), file: "t8.csv", line: 2, field: "toll" },
  {
    name: "tolls: negative toll without --allow-subsidies",
    args: tolls("t9.csv", "link,toll\n1,-2\n"),
    file: "t9.csv",
    line: 2,
    field: "toll",
  },
  { name: "tolls: no header", args: tolls("t10.csv", "5,1\n"), file: "t10.csv", line: 1, field: "header" },
  { name: "tolls: header without the toll column", args: tolls("t11.csv", "link\n1\n"), file: "t11.csv", line: 1, field: "header" },
  { name: "tolls: empty file", args: tolls("t12.csv", ""), file: "t12.csv", line: 1, field: "header" },
  { name: "tolls: extra field", args: tolls("t13.csv", "link,toll\n1,2,3\n"), file: "t13.csv", line: 2, field: "link" },
  { name: "tolls: unclosed quote", args: tolls("t14.csv", 'link,toll\n"1,1\n'), file: "t14.csv", line: 2, field: "link" },
  // user classes JSON (assign two-route --classes)
  {
    name: "classes: negative PCE",
    args: classes("c1.json", [
      { name: "car", demandShare: 0.5 },
      { name: "truck", demandShare: 0.5, pce: -2 },
    ]),
    file: "c1.json",
    field: "[1].pce",
  },
  {
    name: "classes: shares over 1",
    args: classes("c2.json", [
      { name: "a", demandShare: 0.8 },
      { name: "b", demandShare: 0.8 },
    ]),
    file: "c2.json",
    field: "[1].demandShare",
  },
  {
    name: "classes: shares adding up to 0.95",
    args: classes("c3.json", [
      { name: "car", demandShare: 0.85 },
      { name: "truck", demandShare: 0.1 },
    ]),
    file: "c3.json",
    field: "(root)",
  },
  {
    name: "classes: negative value of time",
    args: classes("c4.json", [{ name: "car", demandShare: 1, valueOfTime: -1 }]),
    file: "c4.json",
    field: "[0].valueOfTime",
  },
  { name: "classes: an object, not an array", args: classes("c5.json", { name: "car" }), file: "c5.json", field: "(root)" },
  { name: "classes: no class", args: classes("c6.json", []), file: "c6.json", field: "(root)" },
  {
    name: "classes: duplicate class name",
    args: classes("c7.json", [
      { name: "car", demandShare: 0.5 },
      { name: "car", demandShare: 0.5 },
    ]),
    file: "c7.json",
    field: "[1].name",
  },
  {
    name: "classes: unknown key",
    args: classes("c8.json", [{ name: "car", demandShare: 1, colour: "red" }]),
    file: "c8.json",
    field: "[0].colour",
  },
  {
    name: "classes: both valueOfTime and tollFactor",
    args: classes("c9.json", [{ name: "car", demandShare: 1, valueOfTime: 2, tollFactor: 0.5 }]),
    file: "c9.json",
    field: "[0].tollFactor",
  },
  {
    name: "classes: not valid JSON",
    args: raw("c10.json", '[\n{"name": "car",,}\n]', "assign", "two-route", "--classes"),
    file: "c10.json",
    line: 2,
  },
  // elastic demand JSON (assign two-route --demand-function)
  {
    name: "demand: no elasticity or rate",
    args: demand("d1.json", { type: "elastic", form: "exponential" }),
    file: "d1.json",
    field: "(root)",
  },
  {
    name: "demand: unknown form",
    args: demand("d2.json", { type: "elastic", form: "cubic", elasticity: 0.5 }),
    file: "d2.json",
    field: "form",
  },
  {
    name: "demand: negative elasticity",
    args: demand("d3.json", { type: "elastic", form: "exponential", elasticity: -0.5 }),
    file: "d3.json",
    field: "elasticity",
  },
  {
    name: "demand: unknown zone",
    args: demand("d4.json", { type: "elastic", form: "exponential", elasticity: 0.5, zones: { "99": { elasticity: 0.1 } } }),
    file: "d4.json",
    field: "zones.99",
  },
  { name: "demand: fixed is not a demand function", args: demand("d5.json", { type: "fixed" }), file: "d5.json", field: "type" },
  {
    name: "demand: not valid JSON",
    args: raw("d6.json", '{"type": "elastic",\n"form": "linear",\n"rate": }', "assign", "two-route", "--demand-function"),
    file: "d6.json",
    line: 3,
  },
  // scenario JSON (design)
  {
    name: "scenario: one grid point",
    args: scenario("s1.json", withField({ method: { type: "grid", points: 0 } })),
    file: "s1.json",
    field: "method.points",
  },
  {
    name: "scenario: grid without an upper bound",
    args: scenario("s2.json", withField({ instrument: { type: "links", links: [1] } })),
    file: "s2.json",
    field: "instrument.bounds.max",
  },
  {
    name: "scenario: unknown method",
    args: scenario("s3.json", withField({ method: { type: "annealing" } })),
    file: "s3.json",
    field: "method.type",
  },
  {
    name: "scenario: a typo of network",
    args: scenario("s4.json", {
      netwrok: "two-route",
      instrument: SCENARIO.instrument,
      objective: SCENARIO.objective,
      method: SCENARIO.method,
    }),
    file: "s4.json",
    field: "netwrok",
  },
  {
    name: "scenario: bounds upside down",
    args: scenario("s5.json", withField({ instrument: { type: "links", links: [1], bounds: { min: 5, max: 1 } } })),
    file: "s5.json",
    field: "instrument.bounds.max",
  },
  {
    name: "scenario: unknown follower algorithm",
    args: scenario("s6.json", withField({ follower: { algorithm: "dijkstra" } })),
    file: "s6.json",
    field: "follower.algorithm",
  },
  {
    name: "scenario: negative follower gap",
    args: scenario("s7.json", withField({ follower: { gap: -1 } })),
    file: "s7.json",
    field: "follower.gap",
  },
  {
    name: "scenario: unknown objective",
    args: scenario("s8.json", withField({ objective: { type: "revenue-floor" } })),
    file: "s8.json",
    field: "objective.type",
  },
  {
    name: "scenario: not valid JSON",
    args: raw(
      "s9.json",
      '{"network": "two-route",\n"instrument": {"type": "links", "links": [1]},\n"objective": {"type": "revenue"},,\n"method": {"type": "grid"}}',
    ),
    file: "s9.json",
    line: 3,
  },
  {
    name: "scenario: negative value of time",
    args: scenario("s10.json", withField({ classes: [{ name: "car", valueOfTime: -0.3 }] })),
    file: "s10.json",
    field: "classes[0].valueOfTime",
  },
  {
    name: "scenario: a search with no solves",
    args: scenario("s11.json", withField({ method: { type: "gradient", maxSolves: 0 } })),
    file: "s11.json",
    field: "method.maxSolves",
  },
  {
    name: "scenario: cordon without nodes or polygon",
    args: scenario("s12.json", withField({ instrument: { type: "cordon" } })),
    file: "s12.json",
    field: "instrument",
  },
  {
    name: "scenario: unknown elastic demand form",
    args: scenario("s13.json", withField({ demand: { type: "elastic", form: "cubic", elasticity: 1 } })),
    file: "s13.json",
    field: "demand.form",
  },
  { name: "scenario: an array", args: raw("s14.json", "[]"), file: "s14.json", field: "(top level)" },
  // sweep files (batch): refused before any run is planned or solved
  {
    name: "sweep: a grid of 12 000 runs",
    args: sweep("w1.json", [
      { kind: "assign", network: "two-route", grid: { maxIterations: range(200, (k) => k + 1), gap: range(60, (k) => 10 ** -(k + 1)) } },
    ]),
    file: "w1.json",
    field: "runs[0].grid",
  },
  {
    name: "sweep: entries adding up to more than 10 000 runs",
    args: sweep("w2.json", [
      { kind: "assign", network: "two-route", grid: { maxIterations: range(6000, (k) => k + 1) } },
      { kind: "assign", network: "braess-builtin", grid: { maxIterations: range(6000, (k) => k + 1) } },
    ]),
    file: "w2.json",
    field: "runs[1].grid",
  },
  {
    name: "sweep: a value twice on an axis",
    args: sweep("w3.json", [{ kind: "assign", network: "two-route", grid: { gap: [1e-4, 1e-6, 1e-4] } }]),
    file: "w3.json",
    field: "runs[0].grid.gap[2]",
  },
  {
    name: "scenario: an empty inline network",
    args: scenario("s15.json", withField({ network: { nodes: [], links: [] } })),
    file: "s15.json",
    field: "network",
  },
];

/** Runs `tollkit …args` without blocking the other cases. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, TOLLKIT_DEBUG: "" }, timeout: 60_000 },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent("bad files: exit 2 and one line naming the file, the line and the field", () => {
  it("covers at least 60 bad files of every kind", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
  for (const c of cases) {
    it(c.name, async () => {
      const out = join(root, `out-${c.name.replace(/\W+/g, "-")}`);
      const r = await run([...c.args(), "--out", out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      const msg = lines[0];
      expect(msg).toMatch(/^tollkit: /);
      expect(r.stderr).not.toMatch(/^\s+at \S+ \(|internal error/m);
      expect(msg).toContain(c.line !== undefined ? `${c.file}:${c.line}` : c.file);
      if (c.line === undefined) expect(msg).toMatch(new RegExp(`${c.file.replace(".", "\\.")}(, |: )`));
      if (c.field !== undefined) expect(msg.toLowerCase()).toContain(`field "${c.field.toLowerCase()}"`);
      else expect(msg).toMatch(/not valid JSON/);
      expect(msg).toMatch(/\(expected .+\)$/);
      expect(existsSync(out), "an output folder was left behind").toBe(false);
    });
  }
});
