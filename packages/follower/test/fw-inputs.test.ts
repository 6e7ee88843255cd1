/**
 * Classes files and tolls files: what they build, and every malformed input rejected with the
 * file, line (tolls) or JSON path (classes) and what was expected.
 */
import { describe, expect, it } from "vitest";
import { twoRoute } from "@tollkit/graph-core";
import { parseClassesJson, parseTollsCsv } from "@tollkit/follower";

const net = twoRoute(); // demand 10 from zone 1 to zone 2, two links, toll factor 1

describe("classes file", () => {
  it("builds classes: demand scales, value of time → toll factor, PCE, tolled", () => {
    // (car gave demandShare 0.75 before shares had to add up to 1: as a scale it means the same)
    const cls = parseClassesJson(
      JSON.stringify([
        { name: "car", demandScale: 0.75, valueOfTime: 0.5 },
        { name: "truck", demandScale: 0.25, tollFactor: 0.1, pce: 2.5, tolled: false, distanceFactor: 0.3 },
      ]),
      net,
      "classes.json",
    );
    expect(cls.map((c) => c.name)).toEqual(["car", "truck"]);
    expect(cls[0].demand[1]).toBeCloseTo(7.5, 12);
    expect(cls[1].demand[1]).toBeCloseTo(2.5, 12);
    expect(cls[0].tollFactor).toBe(2); // 1 / 0.5
    expect(cls[1].tollFactor).toBe(0.1);
    expect(cls[0].pce).toBe(1);
    expect(cls[1].pce).toBe(2.5);
    expect(cls[0].tolled).toBe(true);
    expect(cls[1].tolled).toBe(false);
    expect(cls[0].distanceFactor).toBe(net.costWeights.distanceFactor);
    expect(cls[1].distanceFactor).toBe(0.3);
    // neither valueOfTime nor tollFactor: the network's toll factor
    expect(parseClassesJson('[{"name": "a", "demandScale": 1}]', net)[0].tollFactor).toBe(net.costWeights.tollFactor);
  });

  it("builds classes from demand shares that add up to 1 (share is another name for demandShare)", () => {
    const cls = parseClassesJson(
      '[{"name": "car", "demandShare": 0.7}, {"name": "bus", "share": 0.2}, {"name": "van", "demandShare": 0.1}]',
      net,
    );
    // two-route: 10 trips from zone 1 to zone 2 (index 1 of the 2 × 2 matrix)
    expect(cls.map((c) => c.demand[1])).toEqual([7, 2, 1].map((v) => expect.closeTo(v, 12)));
    expect(cls.map((c) => c.demand[1]).reduce((a, b) => a + b)).toBeCloseTo(10, 12);
  });

  const bad: [string, string, RegExp][] = [
    [
      "shares adding up to 0.95, less than the network's demand",
      '[{"name": "car", "demandShare": 0.85}, {"name": "truck", "demandShare": 0.10}]',
      /classes\.json, field "\(root\)": the demand shares add up to 0\.95 \(expected shares summing to 1\)/,
    ],
    [
      "share and demandShare both",
      '[{"name": "a", "share": 1, "demandShare": 1}]',
      /field "\[0\]\.share": both share and demandShare given/,
    ],
    [
      "a share and a scale both",
      '[{"name": "a", "share": 0.5, "demandScale": 1}]',
      /field "\[0\]\.share": both demandScale and share given/,
    ],
    ["not an array", '{"name": "a"}', /classes\.json, field "\(root\)".*expected a JSON array/],
    ["empty", "[]", /field "\(root\)".*at least one class/],
    ["malformed JSON, with its line", '[\n  {"name": "a",\n  "pce": }\n]', /classes\.json:3: not valid JSON/],
    [
      "negative PCE",
      '[{"name": "a", "demandShare": 0.5}, {"name": "b", "demandShare": 0.5, "pce": -1}]',
      /field "\[1\]\.pce": got -1 \(expected a positive number\)/,
    ],
    ["PCE as a string", '[{"name": "a", "demandScale": 1, "pce": "2"}]', /field "\[0\]\.pce": got "2"/],
    ["no name", '[{"demandScale": 1}]', /field "\[0\]\.name"/],
    [
      "duplicate name",
      '[{"name": "a", "demandShare": 0.5}, {"name": "a", "demandShare": 0.5}]',
      /field "\[1\]\.name": duplicate class name "a"/,
    ],
    ["no demand", '[{"name": "a"}]', /field "\[0\]\.demandScale": no demand given \(expected demandScale or demandShare\)/],
    ["both demands", '[{"name": "a", "demandScale": 1, "demandShare": 1}]', /field "\[0\]\.demandShare"/],
    ["share above 1", '[{"name": "a", "demandShare": 1.5}]', /field "\[0\]\.demandShare".*\(0, 1\]/],
    [
      "shares above 1 in total",
      '[{"name": "a", "demandShare": 0.7}, {"name": "b", "demandShare": 0.4}]',
      /field "\[1\]\.demandShare": the demand shares add up to 1\.1/,
    ],
    ["zero value of time", '[{"name": "a", "demandScale": 1, "valueOfTime": 0}]', /field "\[0\]\.valueOfTime"/],
    [
      "both value of time and toll factor",
      '[{"name": "a", "demandScale": 1, "valueOfTime": 2, "tollFactor": 0.5}]',
      /field "\[0\]\.tollFactor"/,
    ],
    ["tolled not a boolean", '[{"name": "a", "demandScale": 1, "tolled": "yes"}]', /field "\[0\]\.tolled".*true or false/],
    ["unknown key (a typo)", '[{"name": "a", "demandScale": 1, "valueOfTme": 2}]', /field "\[0\]\.valueOfTme": unknown key/],
    ["not an object", '[{"name": "a", "demandScale": 1}, 3]', /field "\[1\]"/],
  ];
  for (const [what, text, msg] of bad)
    it(`rejects ${what}`, () => {
      expect(() => parseClassesJson(text, net, "classes.json")).toThrow(msg);
    });
});

describe("tolls file", () => {
  it("sets the listed links and keeps the network's toll elsewhere", () => {
    const base = twoRoute();
    base.links.toll[1] = 0.5;
    const t = parseTollsCsv("link,toll\n1,2.5\n\n", base, "tolls.csv");
    expect(Array.from(t)).toEqual([2.5, 0.5]);
    expect(Array.from(parseTollsCsv("Link, Toll\r\n2, -0.25\r\n", base, "tolls.csv", { allowSubsidies: true }))).toEqual([0, -0.25]);
  });

  it("reads quoted cells and a byte-order mark (RFC 4180, graph-core's CSV reader)", () => {
    expect(Array.from(parseTollsCsv('\uFEFFlink,toll\n"2","5"\n', twoRoute()))).toEqual([0, 5]);
  });

  const bad: [string, string, RegExp][] = [
    [
      "an unknown link",
      "link,toll\n1,2\n3,1\n",
      /tolls\.csv:3, field "link": unknown link "3" \(expected a link id in 1\.\.2 of two-route\)/,
    ],
    ["link 0", "link,toll\n0,1\n", /tolls\.csv:2, field "link"/],
    ["a fractional link", "link,toll\n1.5,1\n", /tolls\.csv:2, field "link"/],
    ["a non-numeric toll", "link,toll\n1,abc\n", /tolls\.csv:2, field "toll": toll "abc" is not a number/],
    ["an empty toll", "link,toll\n1,\n", /tolls\.csv:2, field "toll"/],
    ["a missing header", "1,2.5\n", /tolls\.csv:1, field "header".*expected the header "link,toll"/],
    ["an empty file", "", /tolls\.csv:1, field "header": the file is empty/],
    ["a row with three fields", "link,toll\n1,2,3\n", /tolls\.csv:2, field "link": 3 fields/],
    ["a link listed twice", "link,toll\n1,2\n1,3\n", /tolls\.csv:3, field "link": link 1 is listed twice \(first on line 2\)/],
  ];
  for (const [what, text, msg] of bad)
    it(`rejects ${what}`, () => {
      expect(() => parseTollsCsv(text, net, "tolls.csv")).toThrow(msg);
    });
});
