/**
 * Malformed inputs, generated here into a temporary folder from a small valid network (a
 * Braess-like 4-node net), one defect each. Every one must be rejected with an InputError whose
 * message names the file, the line and the field, and says what was expected.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isInputError, loadNetwork, readTntpNetwork } from "@tollkit/graph-core";

const root = mkdtempSync(join(tmpdir(), "tollkit-bad-input-"));
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
  load: () => Promise<unknown>;
  file: string;
  line: number;
  field: string;
}

const tntp =
  (net = NET, trips = TRIPS, nodes?: Lines) =>
  async () =>
    readTntpNetwork(writeTntp(net, trips, nodes));
const gmns = (files: Partial<Record<string, Lines>>) => async () => loadNetwork(writeGmns(files));

const cases: Case[] = [
  // TNTP net file
  {
    name: "non-numeric capacity",
    load: tntp(edit(NET, 9, "1 4 abc 1 5 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 9,
    field: "capacity",
  },
  { name: "truncated link line", load: tntp(edit(NET, 10, "3 2 100")), file: "bad_net.tntp", line: 10, field: "length" },
  {
    name: "zero capacity on a flow-dependent link",
    load: tntp(edit(NET, 11, "3 4 0 1 1 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 11,
    field: "capacity",
  },
  {
    name: "negative capacity on a flow-dependent link",
    load: tntp(edit(NET, 8, "1 3 -5 1 1 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 8,
    field: "capacity",
  },
  {
    name: "NaN free-flow time",
    load: tntp(edit(NET, 12, "4 2 100 1 NaN 0.15 4 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 12,
    field: "free_flow_time",
  },
  { name: "Infinity b", load: tntp(edit(NET, 8, "1 3 100 1 1 Infinity 4 0 0 1 ;")), file: "bad_net.tntp", line: 8, field: "b" },
  {
    name: "power overflowing to infinity",
    load: tntp(edit(NET, 9, "1 4 100 1 5 0.15 1e999 0 0 1 ;")),
    file: "bad_net.tntp",
    line: 9,
    field: "power",
  },
  { name: "hexadecimal length", load: tntp(edit(NET, 9, "1 4 100 0x10 5 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 9, field: "length" },
  { name: "negative length", load: tntp(edit(NET, 10, "3 2 100 -1 5 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 10, field: "length" },
  { name: "node id 0", load: tntp(edit(NET, 8, "0 3 100 1 1 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 8, field: "init_node" },
  { name: "loop link", load: tntp(edit(NET, 11, "3 3 100 1 1 0.15 4 0 0 1 ;")), file: "bad_net.tntp", line: 11, field: "term_node" },
  {
    name: "link to a node missing from the node file",
    load: tntp(edit(NET, 12, "4 5 100 1 1 0.15 4 0 0 1 ;"), TRIPS, NODES),
    file: "bad_net.tntp",
    line: 12,
    field: "term_node",
  },
  {
    name: "truncated net file (fewer links than declared)",
    load: tntp(NET.slice(0, 10)),
    file: "bad_net.tntp",
    line: 10,
    field: "<NUMBER OF LINKS>",
  },
  { name: "net file without links", load: tntp(NET.slice(0, 7)), file: "bad_net.tntp", line: 7, field: "init_node" },
  {
    name: "missing <END OF METADATA>",
    load: tntp(NET.filter((_, i) => i !== 4)),
    file: "bad_net.tntp",
    line: 6,
    field: "<END OF METADATA>",
  },
  { name: "missing <NUMBER OF ZONES>", load: tntp(NET.slice(1)), file: "bad_net.tntp", line: 1, field: "<NUMBER OF ZONES>" },
  {
    name: "non-numeric <NUMBER OF ZONES>",
    load: tntp(edit(NET, 1, "<NUMBER OF ZONES> two")),
    file: "bad_net.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  {
    name: "more zones than nodes",
    load: tntp(edit(NET, 1, "<NUMBER OF ZONES> 9")),
    file: "bad_net.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  // TNTP trips file
  {
    name: "destination that is not a zone",
    load: tntp(NET, edit(TRIPS, 6, "  3 : 100;")),
    file: "bad_trips.tntp",
    line: 6,
    field: "destination",
  },
  { name: "origin that is not a zone", load: tntp(NET, edit(TRIPS, 7, "Origin 4")), file: "bad_trips.tntp", line: 7, field: "origin" },
  { name: "duplicate origin", load: tntp(NET, edit(TRIPS, 7, "Origin 1")), file: "bad_trips.tntp", line: 7, field: "origin" },
  {
    name: "duplicate destination",
    load: tntp(NET, edit(TRIPS, 6, "  2 : 50; 2 : 50;")),
    file: "bad_trips.tntp",
    line: 6,
    field: "destination",
  },
  { name: "negative trips", load: tntp(NET, edit(TRIPS, 8, "  1 : -10;")), file: "bad_trips.tntp", line: 8, field: "trips 2→1" },
  { name: "non-numeric trips", load: tntp(NET, edit(TRIPS, 6, "  2 : lots;")), file: "bad_trips.tntp", line: 6, field: "trips 1→2" },
  { name: "entry without a colon", load: tntp(NET, edit(TRIPS, 6, "  2 100;")), file: "bad_trips.tntp", line: 6, field: "destination" },
  {
    name: "demand before any Origin line",
    load: tntp(
      NET,
      TRIPS.filter((_, i) => i !== 4),
    ),
    file: "bad_trips.tntp",
    line: 5,
    field: "origin",
  },
  {
    name: "truncated trips file (total short of <TOTAL OD FLOW>)",
    load: tntp(NET, TRIPS.slice(0, 7)),
    file: "bad_trips.tntp",
    line: 7,
    field: "<TOTAL OD FLOW>",
  },
  {
    name: "trips file disagreeing on the zone count",
    load: tntp(NET, edit(TRIPS, 1, "<NUMBER OF ZONES> 3")),
    file: "bad_trips.tntp",
    line: 1,
    field: "<NUMBER OF ZONES>",
  },
  // TNTP node file
  { name: "non-numeric node coordinate", load: tntp(NET, TRIPS, edit(NODES, 3, "2 east 0 ;")), file: "bad_node.tntp", line: 3, field: "x" },
  {
    name: "node listed twice in the node file",
    load: tntp(NET, TRIPS, edit(NODES, 4, "2 0.5 1 ;")),
    file: "bad_node.tntp",
    line: 4,
    field: "node",
  },
  // GMNS
  {
    name: "GMNS: empty capacity",
    load: gmns({ "link.csv": edit(GMNS["link.csv"], 3, "2,1,4,1,5,,0.15,4,0,1") }),
    file: "link.csv",
    line: 3,
    field: "VDF_cap1",
  },
  {
    name: "GMNS: zero capacity",
    load: gmns({ "link.csv": edit(GMNS["link.csv"], 4, "3,3,2,1,5,0,0.15,4,0,1") }),
    file: "link.csv",
    line: 4,
    field: "VDF_cap1",
  },
  {
    name: "GMNS: NaN free-flow time",
    load: gmns({ "link.csv": edit(GMNS["link.csv"], 5, "4,3,4,1,NaN,100,0.15,4,0,1") }),
    file: "link.csv",
    line: 5,
    field: "VDF_fftt1",
  },
  {
    name: "GMNS: link from an unknown node",
    load: gmns({ "link.csv": edit(GMNS["link.csv"], 6, "5,7,2,1,1,100,0.15,4,0,1") }),
    file: "link.csv",
    line: 6,
    field: "from_node_id",
  },
  {
    name: "GMNS: truncated link row",
    load: gmns({ "link.csv": edit(GMNS["link.csv"], 2, "1,1,3,1") }),
    file: "link.csv",
    line: 2,
    field: "vdf_fftt1",
  },
  {
    name: "GMNS: missing VDF_alpha1 column",
    load: gmns({
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
    load: gmns({ "link.csv": GMNS["link.csv"].map((l, i) => `${l},${i === 0 ? "dir_flag" : i === 3 ? "0" : "1"}`) }),
    file: "link.csv",
    line: 4,
    field: "dir_flag",
  },
  {
    name: "GMNS: unknown volume-delay function",
    load: gmns({ "link.csv": GMNS["link.csv"].map((l, i) => `${l},${i === 0 ? "vdf_type" : i === 5 ? "akcelik" : "bpr"}`) }),
    file: "link.csv",
    line: 6,
    field: "vdf_type",
  },
  {
    name: "GMNS: duplicate node id",
    load: gmns({ "node.csv": edit(GMNS["node.csv"], 4, "2,0.5,1,") }),
    file: "node.csv",
    line: 4,
    field: "node_id",
  },
  {
    name: "GMNS: one zone on two nodes",
    load: gmns({ "node.csv": edit(GMNS["node.csv"], 5, "4,0.5,-1,2") }),
    file: "node.csv",
    line: 5,
    field: "zone_id",
  },
  {
    name: "GMNS: no zones at all",
    load: gmns({ "node.csv": GMNS["node.csv"].map((l) => l.replace(/,[^,]*$/, (m) => (m === ",zone_id" ? m : ","))) }),
    file: "node.csv",
    line: 1,
    field: "zone_id",
  },
  {
    name: "GMNS: Infinity coordinate",
    load: gmns({ "node.csv": edit(GMNS["node.csv"], 3, "2,Infinity,0,2") }),
    file: "node.csv",
    line: 3,
    field: "x_coord",
  },
  {
    name: "GMNS: demand from a non-zone",
    load: gmns({ "demand.csv": edit(GMNS["demand.csv"], 3, "3,1,10") }),
    file: "demand.csv",
    line: 3,
    field: "o_zone_id",
  },
  {
    name: "GMNS: demand to a non-zone",
    load: gmns({ "demand.csv": edit(GMNS["demand.csv"], 2, "1,4,100") }),
    file: "demand.csv",
    line: 2,
    field: "d_zone_id",
  },
  {
    name: "GMNS: duplicate origin–destination pair",
    load: gmns({ "demand.csv": [...GMNS["demand.csv"], "1,2,5"] }),
    file: "demand.csv",
    line: 4,
    field: "d_zone_id",
  },
  {
    name: "GMNS: negative volume",
    load: gmns({ "demand.csv": edit(GMNS["demand.csv"], 2, "1,2,-100") }),
    file: "demand.csv",
    line: 2,
    field: "volume",
  },
  {
    name: "GMNS: demand file with no rows",
    load: gmns({ "demand.csv": GMNS["demand.csv"].slice(0, 1) }),
    file: "demand.csv",
    line: 2,
    field: "o_zone_id",
  },
  {
    name: "GMNS: unclosed quote",
    load: gmns({ "demand.csv": edit(GMNS["demand.csv"], 3, '2,"1,10') }),
    file: "demand.csv",
    line: 3,
    field: "d_zone_id",
  },
  {
    name: "GMNS: unknown coordinate system in config.csv",
    load: gmns({ "config.csv": ["dataset_name,coordinate_system", "bad,mercator"] }),
    file: "config.csv",
    line: 2,
    field: "coordinate_system",
  },
];

describe("bad input is rejected with file, line and field", () => {
  it("covers at least 25 malformed files", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
  for (const c of cases) {
    it(c.name, async () => {
      let error: unknown;
      try {
        await c.load();
      } catch (e) {
        error = e;
      }
      expect(error, "the input was accepted").toBeDefined();
      expect(isInputError(error), String(error)).toBe(true);
      const msg = (error as Error).message;
      expect(msg.split("\n")).toHaveLength(1);
      expect(msg).toContain(`${c.file}:${c.line}`);
      expect(msg.toLowerCase()).toContain(`field "${c.field.toLowerCase()}"`);
      expect(msg).toMatch(/\(expected .+\)$/);
    });
  }
});
