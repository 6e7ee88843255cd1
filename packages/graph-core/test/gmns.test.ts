/**
 * GMNS reader and writer: round trips (Sioux Falls, Chicago-Sketch, a polynomial built-in),
 * loadNetwork(folder) reading GMNS, zone ids that are not node ids, Path4GMNS-style files
 * (capacity per lane, no config.csv) and atomic writing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AonLoader, builtinNetwork, compileNetwork, loadNetwork, parseGmns, readGmnsNetwork, writeGmnsNetwork } from "@tollkit/graph-core";
import { expectSameNetwork } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tollkit-gmns-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("GMNS round trip", () => {
  for (const id of ["sioux-falls", "chicago-sketch", "barcelona", "two-route"]) {
    it(`${id} → GMNS → read back: same nodes, zones, links and demand`, async () => {
      const net = await loadNetwork(id);
      const dir = join(root, id);
      writeGmnsNetwork(net, dir);
      expect(readdirSync(dir).sort()).toEqual(["config.csv", "demand.csv", "link.csv", "node.csv"]);
      const back = readGmnsNetwork(dir);
      expectSameNetwork(back, net);
      expect(back.name).toBe(net.name);
      expect(back.units).toEqual(net.units);
      expect(back.warnings).toEqual([]);
      // loadNetwork(folder) is the GMNS reader
      expectSameNetwork(await loadNetwork(dir), net);
    });
  }

  it("Sioux Falls files have the Path4GMNS columns and one demand row per non-zero OD pair", async () => {
    const net = await loadNetwork("sioux-falls");
    const dir = join(root, "sf-columns");
    writeGmnsNetwork(net, dir);
    const link = readFileSync(join(dir, "link.csv"), "utf8").split("\n");
    expect(link[0].split(",")).toEqual(
      expect.arrayContaining([
        "link_id",
        "from_node_id",
        "to_node_id",
        "length",
        "capacity",
        "VDF_fftt1",
        "VDF_cap1",
        "VDF_alpha1",
        "VDF_beta1",
        "toll",
        "link_type",
      ]),
    );
    expect(link[1]).toBe("1,1,2,6,1,0,25900.20064,6,25900.20064,0.15,4,bpr,0,1");
    const demand = readFileSync(join(dir, "demand.csv"), "utf8").trim().split("\n");
    expect(demand[0]).toBe("o_zone_id,d_zone_id,volume");
    expect(demand.length - 1).toBe(Array.from(net.demand).filter((v) => v !== 0).length);
    expect(readFileSync(join(dir, "node.csv"), "utf8").split("\n")[1]).toBe("1,-96.77041974,43.61282792,1");
  });

  it("writes atomically: an existing folder is replaced file by file and no temporary file is left", async () => {
    const dir = join(root, "atomic");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "link.csv"), "old");
    writeGmnsNetwork(builtinNetwork("braess-builtin"), dir);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readFileSync(join(dir, "link.csv"), "utf8")).toMatch(/^link_id,/);
    // a folder that cannot be created (a file is in the way) fails without writing anything
    const blocked = join(root, "a-file");
    writeFileSync(blocked, "x");
    expect(() => writeGmnsNetwork(builtinNetwork("pigou"), join(blocked, "net"))).toThrow();
    expect(readFileSync(blocked, "utf8")).toBe("x");
  });
});

describe("GMNS zones and Path4GMNS-style files", () => {
  // zones 101, 102 on nodes 7 and 9; capacity per lane × lanes; no config.csv; link ids 11..15
  const texts = {
    node: ["node_id,x_coord,y_coord,zone_id", "7,-111.9,33.4,101", "9,-111.8,33.4,102", "20,-111.85,33.45,", "21,-111.85,33.35,"].join(
      "\n",
    ),
    link: [
      "link_id,from_node_id,to_node_id,dir_flag,length,lanes,free_speed,capacity,VDF_fftt1,VDF_alpha1,VDF_beta1",
      "11,7,20,1,0.5,2,30,900,1,0.15,4",
      "12,7,21,1,0.5,1,30,900,5,0.15,4",
      "13,20,9,1,0.5,1,30,900,5,0.15,4",
      "14,20,21,1,0.5,3,30,900,1,0.15,4",
      "15,21,9,1,0.5,1,30,900,1,0.15,4",
    ].join("\n"),
    demand: "o_zone_id,d_zone_id,volume\n101,102,60\n102,101,0\n",
  };

  it("keeps the file's zone ids, maps them to their nodes and reads capacity per lane × lanes", () => {
    const net = parseGmns(texts, { folder: "p4g" });
    expect(Array.from(net.zoneIds)).toEqual([101, 102]);
    expect(Array.from(net.zoneNodes, (i) => net.nodeIds[i])).toEqual([7, 9]);
    expect(Array.from(net.links.capacity)).toEqual([1800, 900, 900, 2700, 900]);
    expect(net.coordinateSystem).toBe("lonlat");
    expect(net.firstThruNode).toBe(1);
    expect(Array.from(net.throughBlocked)).toEqual([0, 0, 0, 0]);
    expect(net.warnings).toEqual([
      "p4g/link.csv: link_id is not the row position; tollkit numbers links by position (link k = data row k)",
    ]);
    // all-or-nothing at free flow takes 7→20→21→9 (cost 3)
    const flows = new Float64Array(net.linkCount);
    const r = new AonLoader(compileNetwork(net)).load(net.links.freeFlowTime, net.demand, flows);
    expect(Array.from(flows)).toEqual([60, 0, 0, 60, 60]);
    expect(r.sptt).toBe(180);
  });

  it("honours first_thru_node from config.csv (zone nodes with ids below it are not passed through)", () => {
    // node 20, in the middle of the cheap path 7→20→21→9, becomes zone 103
    const node = texts.node.replace("20,-111.85,33.45,", "20,-111.85,33.45,103");
    const load = (config?: string) => {
      const net = parseGmns({ ...texts, node, config });
      const flows = new Float64Array(net.linkCount);
      const r = new AonLoader(compileNetwork(net)).load(net.links.freeFlowTime, net.demand, flows);
      return { net, flows: Array.from(flows), sptt: r.sptt };
    };
    const blocked = load("first_thru_node\n21\n");
    expect(blocked.net.firstThruNode).toBe(21);
    expect(Array.from(blocked.net.throughBlocked)).toEqual([1, 1, 1, 0]);
    expect(blocked.flows).toEqual([0, 60, 0, 0, 60]);
    expect(blocked.sptt).toBe(360);
    const open = load();
    expect(Array.from(open.net.throughBlocked)).toEqual([0, 0, 0, 0]);
    expect(open.flows).toEqual([60, 0, 0, 60, 60]);
  });

  it("takes coordinates outside ±180/±90 as a local frame, with a warning", () => {
    const node = texts.node.replace("-111.9,33.4", "690309,1976022");
    const net = parseGmns({ ...texts, node });
    expect(net.coordinateSystem).toBe("local");
    expect(net.warnings.some((w) => /not longitude\/latitude/.test(w))).toBe(true);
  });

  it("a folder without node.csv is an error naming the file", () => {
    const dir = join(root, "empty");
    mkdirSync(dir);
    expect(existsSync(join(dir, "node.csv"))).toBe(false);
    expect(() => readGmnsNetwork(dir)).toThrow(/empty\/node\.csv: node\.csv not found/);
  });
});
