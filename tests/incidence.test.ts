/**
 * The incidence of a toll design against its no-toll baseline (docs/incidence.md) on Sioux
 * Falls, first-best and second-best: the totals reconcile with the runs' own summaries — users'
 * change of time and distance cost + revenue (in time units) = their change of generalised cost
 * = the change of the runs' total generalised cost; revenue by origin sums to the revenue; sums by
 * origin and by destination equal the OD total.
 */
import { describe, expect, it } from "vitest";
import { computeSkims, defaultClasses, solveBush } from "@tollkit/follower";
import { loadNetwork } from "@tollkit/graph-core";
import { design, loadScenario, scenarioClasses, scenarioNetwork } from "@tollkit/leader";
import { assignSummary, designSummary, incidence, IncidenceBy, incidenceRows, skimTable } from "@tollkit/runs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const rel = (a: number, b: number, scale = Math.abs(b)) => Math.abs(a - b) / Math.max(scale, 1e-300);

describe("incidence of Sioux Falls toll designs against the no-toll baseline", async () => {
  const net = await loadNetwork("sioux-falls");
  const base = solveBush(net, { algorithm: "bush", gap: 1e-10 });
  const a = { skims: skimTable(net, computeSkims(net, base, defaultClasses(net))), summary: assignSummary(base), label: "no toll" };

  for (const file of ["sioux-falls-first-best.json", "sioux-falls-second-best-10.json"]) {
    it(`${file}: users' change + revenue = change of total generalised cost; sums by origin and destination = OD total`, async () => {
      const scenario = loadScenario(join(root, "scenarios", file));
      const r = await design(scenario);
      const snet = await scenarioNetwork(scenario);
      const b = {
        skims: skimTable(snet, computeSkims(snet, r.equilibrium, scenarioClasses(scenario, snet))),
        summary: designSummary(r, "cli"),
        label: file,
      };
      const inc = incidence(a, b, "origin");
      const t = inc.totals;
      const scale = Math.max(Math.abs(t.totalCostA!), Math.abs(t.totalCostB!));
      expect(t.revenueB).toBeGreaterThan(0);
      expect(t.revenueA).toBe(0);
      // users' change of time and distance cost + revenue (time units) = users' change of generalised cost
      expect(rel(t.resourceCostChange + t.tollCostChange, t.userCostChange, scale)).toBeLessThan(1e-12);
      // = the change of the runs' total generalised cost (Σ flow·cost), to the designs' gap
      expect(rel(t.userCostChange, t.totalCostChange!, scale)).toBeLessThan(1e-9);
      // revenue by zone = the run's revenue (value of time 1: tolls in time units are money)
      expect(rel(t.revenueB, r.equilibrium.revenue)).toBeLessThan(1e-12);
      expect(rel(t.tollCostChange, t.revenueChange)).toBeLessThan(1e-12);
      // every grouping sums to the same totals
      const sums = (by: IncidenceBy) => {
        let cost = 0;
        let toll = 0;
        let trips = 0;
        for (const row of incidenceRows(a.skims, b.skims, by)) {
          cost += row.costChange;
          toll += row.tollPaid;
          trips += row.trips;
        }
        return { cost, toll, trips };
      };
      const od = sums("od");
      for (const by of ["origin", "destination"] as const) {
        const s = sums(by);
        expect(rel(s.cost, od.cost, scale)).toBeLessThan(1e-12);
        expect(rel(s.toll, od.toll)).toBeLessThan(1e-12);
        expect(rel(s.trips, od.trips)).toBeLessThan(1e-12);
      }
      expect(rel(od.cost, t.userCostChange, scale)).toBeLessThan(1e-12);
      expect(rel(od.toll, r.equilibrium.revenue)).toBeLessThan(1e-12);
      expect(od.trips).toBeCloseTo(360600, 6);
      // winners and losers are named, largest first, beyond the threshold
      for (const l of inc.losers) expect(l.costChangePerTrip!).toBeGreaterThan(inc.threshold);
      for (const w of inc.winners) expect(w.costChangePerTrip!).toBeLessThan(-inc.threshold);
      expect(inc.losers.length + inc.winners.length).toBeGreaterThan(0);
    });
  }
});
