import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isInputError } from "@tollkit/graph-core";
import { design, loadScenario, parseScenario, resolveInstrument, scenarioJsonSchema, scenarioNetwork } from "@tollkit/leader";

const root = join(import.meta.dirname, "..", "..", "..");
const dir = join(root, "scenarios");
const schemaFile = join(dir, "scenario.schema.json");
const files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "scenario.schema.json");

/** The error message of `fn`, which must throw an InputError. */
async function inputError(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(isInputError(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

const good = {
  network: "two-route",
  classes: [{ name: "car", valueOfTime: 1 }],
  instrument: { type: "links", links: [1], bounds: { min: 0, max: 30 } },
  objective: { type: "revenue" },
  method: { type: "grid", points: 5 },
};

describe("scenario files", () => {
  test("the committed JSON Schema is the one generated from the zod definition", () => {
    // REGEN=1 rewrites the file (then run prettier on it)
    if (process.env.REGEN) writeFileSync(schemaFile, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    expect(JSON.parse(readFileSync(schemaFile, "utf8"))).toEqual(scenarioJsonSchema());
  });

  test.each(files)("%s parses and resolves its instrument", async (f) => {
    const s = loadScenario(join(dir, f));
    expect(s.file).toBe(join(dir, f));
    if (typeof s.network === "string" && !["two-route", "braess-builtin"].includes(s.network) && !process.env.TOLLKIT_NETWORK_MIRROR)
      return;
    const net = await scenarioNetwork(s);
    const ins = resolveInstrument(net, s.instrument, s.file);
    expect(ins.links.length).toBeGreaterThan(0);
    for (const a of ins.links) expect(a).toBeLessThan(net.linkCount);
  });

  test("defaults are filled in", () => {
    const s = parseScenario(good);
    expect(s.demandScale).toBe(1);
    expect(s.classes![0]).toMatchObject({ pce: 1, demandShare: 1, tolled: true });
    expect(s.follower).toEqual({ algorithm: "bush", gap: 1e-10 });
    expect(s.ties).toEqual({ rule: "optimistic", margin: 0.01 });
    expect(s.firstBest).toBe(true);
    expect(parseScenario({ ...good, method: { type: "gradient" } }).method).toMatchObject({
      maxSolves: 40,
      start: "zero",
      gradientCheck: true,
    });
  });
});

describe("bad scenarios name the file and the JSON path", () => {
  const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch });
  test.each([
    [{ classes: [{ name: "car", valueOfTime: -3 }] }, 'field "classes[0].valueOfTime"', "expected a positive number"],
    [{ classes: [{ name: "car" }] }, 'field "classes[0].valueOfTime"', "got nothing"],
    [{ classes: [{ name: "car", valueOfTime: 1, colour: "red" }] }, 'field "classes[0].colour"', 'unknown field "colour"'],
    [{ instrument: { type: "ring", links: [1] } }, 'field "instrument.type"', "expected one of"],
    [{ instrument: { type: "links", links: [0] } }, 'field "instrument.links[0]"', "a link id"],
    [{ objective: { type: "profit" } }, 'field "objective.type"', '"revenue"'],
    [{ method: undefined }, 'field "method"', "got nothing"],
    [{ demandScale: 0 }, 'field "demandScale"', "positive"],
    [{ follower: { algorithm: "dijkstra" } }, 'field "follower.algorithm"', "one of aon, msa, fw, cfw, bfw, bush"],
    [
      {
        classes: [
          { name: "a", valueOfTime: 1, share: 0.5 },
          { name: "b", valueOfTime: 2, share: 0.6 },
        ],
      },
      'field "classes[1].share"',
      "shares summing to 1",
    ],
    [
      {
        classes: [
          { name: "car", valueOfTime: 1, demandShare: 0.85 },
          { name: "truck", valueOfTime: 2, demandShare: 0.1 },
        ],
      },
      'field "classes": the demand shares add up to 0.95',
      "(expected shares summing to 1)",
    ],
    [{ classes: [{ name: "car", valueOfTime: 1, shares: 1 }] }, 'field "classes[0].shares"', 'unknown field "shares"'],
    [
      { classes: [{ name: "car", valueOfTime: 1, share: 0.5, demandScale: 0.5 }] },
      'field "classes[0].share"',
      "both demandScale and share given (expected one of them)",
    ],
    [
      { classes: [{ name: "car", valueOfTime: 1, share: 1, demandShare: 1 }] },
      'field "classes[0].share"',
      "both share and demandShare given",
    ],
    [{ instrument: { type: "links", links: [1], bounds: { min: 5, max: 2 } } }, 'field "instrument.bounds.max"', "max ≥ min"],
    [{ instrument: { type: "links", links: [1] } }, 'field "instrument.bounds.max"', "needs an upper toll bound"],
    [{ instrument: { type: "cordon", bounds: { max: 1 } } }, 'field "instrument"', "exactly one of nodes or polygon"],
    [{ method: { type: "first-best" } }, 'field "method.type"', "do not maximise revenue"],
    [{ objective: { type: "revenue", minRevenue: 3 } }, 'field "objective.minRevenue"', "revenue floor"],
  ])("%j", async (patch, where, what) => {
    const msg = await inputError(() => parseScenario(bad(patch), "scenarios/x.json"));
    expect(msg).toContain("scenarios/x.json, ");
    expect(msg).toContain(where);
    expect(msg).toContain(what);
  });

  test("problems found on the network name the JSON path too", async () => {
    const m1 = await inputError(() =>
      design(parseScenario({ ...good, instrument: { type: "links", links: [3], bounds: { max: 1 } } }, "s.json")),
    );
    expect(m1).toContain('s.json, field "instrument.links[0]"');
    expect(m1).toContain("link 3 does not exist");
    const m2 = await inputError(() =>
      design(parseScenario({ ...good, instrument: { type: "link-types", linkTypes: [7], bounds: { max: 1 } } }, "s.json")),
    );
    expect(m2).toContain('field "instrument.linkTypes[0]"');
    const m3 = await inputError(() =>
      design(parseScenario({ ...good, instrument: { type: "cordon", nodes: [99], bounds: { max: 1 } } }, "s.json")),
    );
    expect(m3).toContain('field "instrument.nodes[0]"');
    const m4 = await inputError(() => design(parseScenario({ ...good, method: { type: "gradient", start: [1, 2] } }, "s.json")));
    expect(m4).toContain('field "method.start"');
    const m5 = await inputError(() => design(parseScenario({ ...good, network: "nowhere/x_net.tntp" }, "s.json")));
    expect(m5).toContain("nowhere");
    const m6 = await inputError(() =>
      design(
        parseScenario(
          {
            ...good,
            network: {
              name: "n",
              nodes: [{ id: 1 }, { id: 2 }],
              zones: 2,
              links: [{ from: 1, to: 3, freeFlowTime: 1 }],
              demand: [[1, 2, 1]],
            },
          },
          "s.json",
        ),
      ),
    );
    expect(m6).toContain('field "network.links[0].to"');
  });

  test("a file that is not JSON names its line", async () => {
    const tmp = join(root, "tests", ".out", "not-json.json");
    (await import("node:fs")).mkdirSync(join(root, "tests", ".out"), { recursive: true });
    writeFileSync(tmp, '{\n  "network": "two-route",\n  oops\n}\n');
    const msg = await inputError(() => loadScenario(tmp));
    expect(msg).toMatch(/not-json\.json:3/);
  });
});
