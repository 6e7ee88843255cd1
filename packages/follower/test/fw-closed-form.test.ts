/**
 * The Frank-Wolfe family against closed forms: Braess, Pigou, the linear two-route network and
 * a two-class case with a toll; invariants (flow conservation, demand met); the parts of the
 * engine that are not numbers (stopping rules, warm start, progress, cancellation).
 */
import { describe, expect, it } from "vitest";
import { braess, buildNetwork, gridCity, loadNetwork, Network, pigou, twoRoute } from "@tollkit/graph-core";
import { FollowerResult, solve, solveSync, UserClass } from "@tollkit/follower";

const FW_FAMILY = ["msa", "fw", "cfw", "bfw"] as const;
/**
 * Target gap and the decimals then expected, per algorithm. FW and MSA converge sublinearly
 * (FW zig-zags when the solution lies on a face of the feasible set, e.g. Braess's SO, where the
 * shortcut is unused): they get looser targets and a cap on iterations.
 */
const PRECISION = {
  msa: { gap: 1e-5, digits: 1, maxIterations: 100_000 },
  fw: { gap: 1e-5, digits: 1, maxIterations: 100_000 },
  cfw: { gap: 1e-10, digits: 5, maxIterations: 100_000 },
  bfw: { gap: 1e-10, digits: 5, maxIterations: 100_000 },
} as const;

/** Node balance Σ out − Σ in of a link flow vector, per node. */
function nodeBalance(net: Network, flows: Float64Array): Float64Array {
  const b = new Float64Array(net.nodeCount);
  for (let i = 0; i < net.linkCount; i++) {
    b[net.links.from[i]] += flows[i];
    b[net.links.to[i]] -= flows[i];
  }
  return b;
}

/** Expected balance: trips leaving minus trips arriving at each zone node (scaled by `factor`). */
function demandBalance(net: Network, demand: Float64Array, factor = 1): Float64Array {
  const b = new Float64Array(net.nodeCount);
  const Z = net.zoneCount;
  for (let o = 0; o < Z; o++)
    for (let d = 0; d < Z; d++) {
      if (o === d) continue;
      const t = demand[o * Z + d] * factor;
      b[net.zoneNodes[o]] += t;
      b[net.zoneNodes[d]] -= t;
    }
  return b;
}

function expectConservation(net: Network, r: FollowerResult, classes?: UserClass[]): void {
  const cls = classes ?? [{ demand: net.demand, pce: 1 } as UserClass];
  r.classes.forEach((c, k) => {
    const got = nodeBalance(net, c.flows);
    const want = demandBalance(net, cls[k].demand);
    const scale = Math.max(1, ...want.map(Math.abs));
    for (let v = 0; v < net.nodeCount; v++) expect(Math.abs(got[v] - want[v])).toBeLessThan(1e-9 * scale);
    for (const f of c.flows) expect(f).toBeGreaterThanOrEqual(0);
  });
}

describe("Braess's paradox (UE TSTT 552, SO TSTT 498)", () => {
  for (const id of ["braess-builtin", "braess"]) {
    for (const algorithm of FW_FAMILY) {
      it(`${id}: ${algorithm}`, async () => {
        const net = id === "braess-builtin" ? braess() : await loadNetwork(id);
        const { gap, digits, maxIterations } = PRECISION[algorithm];
        const ue = solveSync(net, { algorithm, gap, maxIterations });
        expect(ue.tstt).toBeCloseTo(552, digits);
        expectConservation(net, ue);
        const so = solveSync(net, { algorithm, objective: "so", gap, maxIterations });
        expect(so.tstt).toBeCloseTo(498, digits);
        if (algorithm === "cfw" || algorithm === "bfw") expect(ue.converged && so.converged).toBe(true);
        // at the SO, the shortcut (link 4, 3→4) carries no flow
        expect(so.flows[3]).toBeLessThan(algorithm === "cfw" || algorithm === "bfw" ? 1e-4 : 0.1);
      });
    }
  }
});

describe("Pigou (UE cost 1, SO cost 3/4; a constant-cost link and a zero free-flow time)", () => {
  for (const algorithm of FW_FAMILY) {
    it(algorithm, () => {
      const net = pigou();
      const { gap, digits, maxIterations } = PRECISION[algorithm];
      const ue = solveSync(net, { algorithm, gap, maxIterations });
      expect(ue.tstt).toBeCloseTo(1, 8); // the first AON already is the UE (x2 = 1, both costs 1)
      expect(ue.convergence.every((c) => Number.isFinite(c.relativeGap) && Number.isFinite(c.objective))).toBe(true);
      const so = solveSync(net, { algorithm, objective: "so", gap, maxIterations });
      expect(so.tstt).toBeCloseTo(0.75, digits + 1);
      expect(so.flows[1]).toBeCloseTo(0.5, digits);
      for (const v of [...so.flows, ...so.times, so.relativeGap, so.beckmann]) expect(Number.isFinite(v)).toBe(true);
    });
  }
});

describe("linear two-route network (t1 = 10 + x1, t2 = 15 + 2 x2, demand 10)", () => {
  // UE: 10 + x1 = 15 + 2(10 − x1) ⇒ x1 = 25/3, x2 = 5/3, cost 55/3, TSTT = 550/3,
  //     Beckmann = 10 x1 + x1²/2 + 15 x2 + x2².
  // SO: marginal costs equal, 10 + 2 x1 = 15 + 4 x2 ⇒ x1 = 7.5, x2 = 2.5, TSTT = 181.25.
  // With a toll τ on route 1 (toll factor 1): 10 + x1 + τ = 15 + 2(10 − x1) ⇒ x1 = (25 − τ)/3.
  const x1 = 25 / 3;
  const x2 = 5 / 3;
  for (const algorithm of FW_FAMILY) {
    it(algorithm, () => {
      const net = twoRoute();
      const { gap, digits, maxIterations } = PRECISION[algorithm];
      const ue = solveSync(net, { algorithm, gap, maxIterations });
      expect(ue.flows[0]).toBeCloseTo(x1, digits + 1);
      expect(ue.flows[1]).toBeCloseTo(x2, digits + 1);
      expect(ue.tstt).toBeCloseTo(550 / 3, digits);
      expect(ue.beckmann).toBeCloseTo(10 * x1 + (x1 * x1) / 2 + 15 * x2 + x2 * x2, digits);
      const so = solveSync(net, { algorithm, objective: "so", gap, maxIterations });
      expect(so.flows[0]).toBeCloseTo(7.5, digits + 1);
      expect(so.tstt).toBeCloseTo(181.25, digits);
      const tolled = solveSync(net, { algorithm, gap, maxIterations, tolls: Float64Array.of(4, 0) });
      expect(tolled.flows[0]).toBeCloseTo(7, digits + 1);
      expect(tolled.revenue).toBeCloseTo(28, digits);
    });
  }

  it("the first-best toll x1·t1′(x1) at the SO makes the tolled UE reproduce the SO", () => {
    const net = twoRoute();
    const so = solveSync(net, { algorithm: "bfw", objective: "so", gap: 1e-12, maxIterations: 1000 });
    const tolls = Float64Array.of(so.flows[0] * 1, so.flows[1] * 2);
    const ue = solveSync(net, { algorithm: "bfw", gap: 1e-12, maxIterations: 1000, tolls });
    expect(ue.flows[0]).toBeCloseTo(so.flows[0], 6);
    expect(ue.tstt).toBeCloseTo(181.25, 6);
  });
});

describe("two user classes with a toll (closed form)", () => {
  // Two routes t1 = 10 + x1 (toll τ = 3), t2 = 15 + 2 x2, x in PCE. Class A: 6 cars, value of
  // time 1 (toll factor θA = 1), PCE 1. Class B: 2 trucks, value of time 4 (θB = 1/4), PCE 2.
  // Guess: B, which minds the toll least, all on route 1; A splits, a1 cars on route 1.
  //   x1 = a1 + 2·2, x2 = 6 − a1;  A indifferent: 10 + x1 + θA τ = 15 + 2 x2
  //   ⇒ 10 + a1 + 4 + 3 = 15 + 12 − 2 a1 ⇒ a1 = 10/3, x1 = 22/3, x2 = 8/3.
  // Check the guess: A's cost on both routes 61/3; B's on route 1 10 + 22/3 + 3/4 = 18.08 < 61/3,
  // so B strictly prefers route 1. Revenue: A 3·10/3 = 10, B 3·2 = 6 (a toll per vehicle).
  // TSTT = x1 t1 + x2 t2 = 22/3·52/3 + 8/3·61/3 = 1632/9.
  const net = twoRoute();
  const classes: UserClass[] = [
    { name: "car", demand: Float64Array.of(0, 6, 0, 0), tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true },
    { name: "truck", demand: Float64Array.of(0, 2, 0, 0), tollFactor: 0.25, distanceFactor: 0, pce: 2, tolled: true },
  ];
  // (FW zig-zags here: the trucks' route 2 is unused, a face of the feasible set; CFW and BFW do not)
  for (const algorithm of ["cfw", "bfw"] as const) {
    it(algorithm, () => {
      const r = solveSync(net, { algorithm, gap: 1e-11, maxIterations: 10_000, classes, tolls: Float64Array.of(3, 0) });
      expect(r.converged).toBe(true);
      expect(r.classes[0].flows[0]).toBeCloseTo(10 / 3, 6);
      expect(r.classes[0].flows[1]).toBeCloseTo(8 / 3, 6);
      expect(r.classes[1].flows[0]).toBeCloseTo(2, 6);
      expect(r.classes[1].flows[1]).toBeCloseTo(0, 6);
      expect(r.flows[0]).toBeCloseTo(22 / 3, 6);
      expect(r.classes[0].revenue).toBeCloseTo(10, 5);
      expect(r.classes[1].revenue).toBeCloseTo(6, 5);
      expect(r.revenue).toBeCloseTo(16, 5);
      expect(r.tstt).toBeCloseTo(1632 / 9, 5);
      // class costs: time + θ·toll
      expect(r.classes[0].costs[0]).toBeCloseTo(61 / 3, 6);
      expect(r.classes[1].costs[0]).toBeCloseTo(10 + 22 / 3 + 0.75, 6);
      expectConservation(net, r, classes);
    });
  }

  it("an untolled class ignores the toll", () => {
    const free = classes.map((c) => ({ ...c, tolled: c.name === "car" }));
    const r = solveSync(net, { algorithm: "bfw", gap: 1e-11, maxIterations: 10_000, classes: free, tolls: Float64Array.of(3, 0) });
    expect(r.classes[1].revenue).toBe(0);
    expect(r.classes[1].flows[0]).toBeCloseTo(2, 6);
    expect(r.revenue).toBeCloseTo(r.classes[0].flows[0] * 3, 9);
  });
});

describe("engine behaviour", () => {
  it("MSA steps are 1/(n+1); FW steps are in (0, 1]; records are numbered from 0", () => {
    const net = braess();
    const msa = solveSync(net, { algorithm: "msa", objective: "so", maxIterations: 20 });
    expect(msa.iterations).toBe(20);
    expect(msa.stopReason).toBe("iterations");
    msa.convergence.slice(1).forEach((c) => expect(c.step).toBeCloseTo(1 / (c.iteration + 1), 15));
    expect(msa.convergence.map((c) => c.iteration)).toEqual([...Array(21).keys()]);
    const fw = solveSync(net, { algorithm: "fw", objective: "so", maxIterations: 5 });
    fw.convergence.slice(1).forEach((c) => expect(c.step > 0 && c.step <= 1).toBe(true));
  });

  it("the result's gap is the last iteration's gap, recomputed from the final flows", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveSync(net, { algorithm: "bfw", gap: 1e-4 });
    expect(r.relativeGap).toBe(r.convergence[r.convergence.length - 1].relativeGap);
    expect(r.relativeGap).toBeLessThanOrEqual(1e-4);
    expect((r.totalCost - r.sptt) / r.totalCost).toBeCloseTo(r.relativeGap, 15);
    expect(r.averageExcessCost).toBeCloseTo((r.totalCost - r.sptt) / 360600, 12);
    expectConservation(net, r);
    // the objective of each record is the Beckmann potential; line searches never increase it
    for (let k = 2; k < r.convergence.length; k++)
      expect(r.convergence[k].objective).toBeLessThanOrEqual(r.convergence[k - 1].objective * (1 + 1e-12));
  });

  it("CFW records one conjugate weight in [0, 1), BFW three that sum to 1", async () => {
    const net = await loadNetwork("sioux-falls");
    const c = solveSync(net, { algorithm: "cfw", maxIterations: 30 });
    const cw = c.convergence.filter((r) => r.conjugateWeights.length > 0);
    expect(cw.length).toBeGreaterThan(10);
    for (const r of cw) expect(r.conjugateWeights[0] >= 0 && r.conjugateWeights[0] < 1).toBe(true);
    const b = solveSync(net, { algorithm: "bfw", maxIterations: 30 });
    const bw = b.convergence.filter((r) => r.conjugateWeights.length === 3);
    expect(bw.length).toBeGreaterThan(10);
    for (const r of bw) {
      expect(r.conjugateWeights.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
      for (const w of r.conjugateWeights) expect(w).toBeGreaterThanOrEqual(0);
    }
  });

  it("a gap not reached is a warning, not an error", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveSync(net, { algorithm: "fw", gap: 1e-8, maxIterations: 10 });
    expect(r.converged).toBe(false);
    expect(r.stopReason).toBe("iterations");
    expect(r.warnings.join("\n")).toMatch(/did not reach the target 1\.00e-8/);
    const aon = solveSync(net, { algorithm: "aon", gap: 1e-4 });
    expect(aon.iterations).toBe(0);
    expect(aon.converged).toBe(false);
    expect(aon.warnings.length).toBe(1);
  });

  it("a gap below rounding level stops as stalled, with a warning, instead of running forever", () => {
    const r = solveSync(gridCity({ size: 6, zones: 6 }), { algorithm: "bfw", gap: 1e-17 });
    expect(r.stopReason).toBe("stalled");
    expect(r.converged).toBe(false);
    expect(r.relativeGap).toBeLessThan(1e-12);
    expect(r.warnings.join("\n")).toMatch(/stalled at rounding level/);
  });

  it("stops on seconds", async () => {
    const net = await loadNetwork("sioux-falls");
    const r = solveSync(net, { algorithm: "msa", gap: 1e-12, maxSeconds: 0.2 });
    expect(r.stopReason).toBe("seconds");
    expect(r.seconds).toBeGreaterThanOrEqual(0.2);
    expect(r.seconds).toBeLessThan(2);
  });

  it("warm start: a solve started from converged flows stops at once; from rough flows it needs fewer iterations", async () => {
    const net = await loadNetwork("sioux-falls");
    const fine = solveSync(net, { algorithm: "bfw", gap: 1e-5 });
    const again = solveSync(net, { algorithm: "bfw", gap: 1e-5, warmStart: fine.warmStart });
    expect(again.iterations).toBe(0);
    expect(again.relativeGap).toBe(fine.relativeGap);
    const rough = solveSync(net, { algorithm: "bfw", gap: 1e-3 });
    const cold = solveSync(net, { algorithm: "bfw", gap: 1e-4 });
    const warm = solveSync(net, { algorithm: "bfw", gap: 1e-4, warmStart: rough.warmStart });
    expect(warm.converged).toBe(true);
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });

  it("progress once per iteration; cancellation from the callback and from a timer", async () => {
    const net = await loadNetwork("sioux-falls");
    let calls = 0;
    const ac = new AbortController();
    const r = solveSync(net, {
      algorithm: "bfw",
      gap: 1e-12,
      signal: ac.signal,
      onProgress: (p) => {
        calls++;
        expect(p.fraction >= 0 && p.fraction <= 1).toBe(true);
        if (p.iteration === 5) ac.abort();
      },
    });
    expect(calls).toBe(r.convergence.length);
    expect(r.stopReason).toBe("cancelled");
    expect(r.iterations).toBe(5);
    const timer = new AbortController();
    setTimeout(() => timer.abort(), 100);
    const t0 = performance.now();
    const a = await solve(net, { algorithm: "msa", gap: 1e-14, maxIterations: 10_000_000, signal: timer.signal });
    expect(a.stopReason).toBe("cancelled");
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("bad input", () => {
  const net = twoRoute();
  it("options are validated, each error naming the option", () => {
    expect(() => solveSync(net, { algorithm: "dijkstra" as never, gap: 1e-4 })).toThrow(
      /field "algorithm".*expected one of aon, msa, fw, cfw, bfw, bush/,
    );
    expect(() => solveSync(net, { algorithm: "bfw" })).toThrow(/no stopping rule/);
    expect(() => solveSync(net, { algorithm: "bfw", gap: 0 })).toThrow(/field "gap"/);
    expect(() => solveSync(net, { algorithm: "bfw", gap: -1e-4 })).toThrow(/field "gap"/);
    expect(() => solveSync(net, { algorithm: "bfw", maxIterations: 2.5 })).toThrow(/field "maxIterations"/);
    expect(() => solveSync(net, { algorithm: "bfw", maxIterations: 0 })).toThrow(/field "maxIterations"/);
    expect(() => solveSync(net, { algorithm: "bfw", maxSeconds: -1 })).toThrow(/field "maxSeconds"/);
    expect(() => solveSync(net, { algorithm: "bfw", gap: 1e-4, objective: "min" as never })).toThrow(/field "objective"/);
    expect(() => solveSync(net, { algorithm: "bfw", gap: 1e-4, warmStart: { classFlows: [new Float64Array(3)] } })).toThrow(
      /warmStart\.classFlows\[0\]/,
    );
  });

  it("unroutable demand names the OD pairs", () => {
    const cut = buildNetwork({
      name: "cut",
      nodes: [{ id: 1 }, { id: 2 }, { id: 3 }],
      zones: 3,
      links: [{ from: 1, to: 2, freeFlowTime: 1 }],
      demand: [
        [1, 2, 5],
        [1, 3, 7],
      ],
    });
    expect(() => solveSync(cut, { algorithm: "bfw", gap: 1e-4 })).toThrow(/no path for 1→3 \(7 trips\)/);
  });

  it("a toll making a generalised cost negative is an error naming the link", () => {
    expect(() => solveSync(net, { algorithm: "bfw", gap: 1e-4, tolls: Float64Array.of(-20, 0) })).toThrow(
      /tolls\[0\].*link 1 \(1→2\) has generalised cost -10/,
    );
  });
});
