/**
 * Adjoint toll gradients with elastic demand: one adjoint solve per measure on the augmented
 * (excess-demand) network gives d/dτ of TSTT, revenue, welfare (consumer surplus + revenue) and
 * trips made for every tolled link at once, demand derivatives included.
 *
 * Sioux Falls, exponential demand with elasticity 0.3 at the no-toll pivot, value of time 1,
 * tolls of 4 on five links and 1 on a sixth: the gradients agree with central finite differences of solves at
 * relative gap 1e-12 (step 1e-3; the rounding noise of a difference is about
 * 4·gap·|measure|/(2h)), and with the per-link directional derivatives; the leader's evaluator
 * takes the adjoint route for single-link variables with elastic demand.
 */
import { describe, expect, test } from "vitest";
import { ElasticDemandProblem, ElasticResult } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import {
  elasticAdjointGradient,
  elasticSensitivity,
  Evaluator,
  Merit,
  parseScenario,
  resolveInstrument,
  scenarioClasses,
  scenarioNetwork,
} from "@tollkit/leader";

const GAP = 1e-12;

async function setup(): Promise<{ p: ElasticDemandProblem; tolls: Float64Array }> {
  const net = await loadNetwork("sioux-falls");
  const classes = [{ name: "car", demand: net.demand, tollFactor: 1, distanceFactor: 0, pce: 1, tolled: true }];
  const p = ElasticDemandProblem.create(net, { form: "exponential", elasticity: 0.3 }, { classes });
  const tolls = new Float64Array(net.linkCount);
  for (const l of [16, 19, 29, 39, 74]) tolls[l - 1] = 4;
  tolls[9] = 1; // link 10
  return { p, tolls };
}

const measures = (r: ElasticResult) => ({ welfare: r.elastic.welfare, tstt: r.tstt, revenue: r.revenue, trips: r.elastic.tripsMade });

describe("elastic demand: adjoint toll gradients", () => {
  test("Sioux Falls: welfare, TSTT, revenue and trips gradients agree with central finite differences and the directional derivatives", async () => {
    const { p, tolls } = await setup();
    const opts = { algorithm: "bush", gap: GAP } as const;
    const at = p.solveSync({ ...opts, tolls });
    expect(at.relativeGap).toBeLessThan(GAP);
    const links = [15, 28, 73, 38, 9]; // 0-based: links 16, 29, 74, 39 (toll 4) and 10 (toll 1)
    const g = elasticAdjointGradient(p, at, links);
    expect(g.adjoint.degenerate).toBe(false);
    const d = elasticSensitivity(p, at, links, []);
    const h = 1e-3;
    const m0 = measures(at);
    links.forEach((a, j) => {
      const up = tolls.slice();
      up[a] += h;
      const dn = tolls.slice();
      dn[a] -= h;
      const mu = measures(p.solveSync({ ...opts, tolls: up, warmStart: at.warmStart }));
      const md = measures(p.solveSync({ ...opts, tolls: dn, warmStart: at.warmStart }));
      const grads = { welfare: g.dWelfare[j], tstt: g.dTstt[j], revenue: g.dRevenue[j], trips: g.dTrips[j] };
      for (const k of ["welfare", "tstt", "revenue", "trips"] as const) {
        const fd = (mu[k] - md[k]) / (2 * h);
        const noise = (4 * GAP * Math.abs(m0[k])) / (2 * h);
        expect(Math.abs(grads[k] - fd), `${k}, link ${a + 1}: adjoint ${grads[k]}, central difference ${fd}`).toBeLessThan(
          1e-4 * Math.abs(fd) + noise + 1e-6,
        );
      }
      // the directional derivatives (forward sensitivities) say the same
      const close = (x: number, y: number) => expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(x), Math.abs(y)));
      close(g.dWelfare[j], d.dWelfare[j]);
      close(g.dTstt[j], d.dTstt[j]);
      close(g.dRevenue[j], d.dRevenue[j]);
      close(g.dTrips[j], d.dTrips[j]);
      // a toll prices trips off the road
      expect(g.dTrips[j]).toBeLessThan(0);
    });
  }, 300_000);

  test("the leader's evaluator differentiates single-link variables by the adjoint with elastic demand, as the gradient check does directionally", async () => {
    const s = parseScenario({
      network: "sioux-falls",
      classes: [{ name: "car", valueOfTime: 1 }],
      demand: { type: "elastic", form: "exponential", elasticity: 0.3 },
      instrument: { type: "links", links: [16, 29, 74], bounds: { min: 0, max: 30 } },
      objective: { type: "welfare" },
      method: { type: "gradient" },
      follower: { algorithm: "bush", gap: GAP },
    });
    const net = await scenarioNetwork(s);
    const classes = scenarioClasses(s, net);
    const ev = new Evaluator({
      net,
      classes,
      instrument: resolveInstrument(net, s.instrument),
      background: new Float64Array(net.linkCount),
      follower: s.follower,
      merit: new Merit(s.objective.type, s.objective.minRevenue, s.objective.penalty),
      rule: s.ties.rule,
      elastic: ElasticDemandProblem.create(net, { form: "exponential", elasticity: 0.3 }, { classes }),
    });
    const z = Float64Array.of(4, 4, 4);
    const e = await ev.evaluate(z, { gradient: true });
    expect(e.gradientMethod).toBe("adjoint");
    const adjoint = { tstt: e.grads!.tstt.slice(), revenue: e.grads!.revenue.slice(), welfare: e.grads!.welfare.slice() };
    // the gradient check asks for directional derivatives by the option (not by the phase's name)
    const dir = await ev.evaluate(z, { gradient: true, directional: true });
    expect(dir.gradientMethod).toBe("directional");
    for (const m of ["tstt", "revenue", "welfare"] as const)
      for (let k = 0; k < z.length; k++)
        expect(Math.abs(adjoint[m][k] - dir.grads![m][k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(dir.grads![m][k])));
    expect(ev.gradientsByMethod).toEqual({ adjoint: 1, directional: 1 });
    expect(Math.max(...adjoint.welfare.map(Math.abs))).toBeGreaterThan(0);
  }, 300_000);
});
