import { test } from "vitest";
import { design, loadScenario, Scenario } from "@tollkit/leader";
test("scratch", async () => {
  const s = loadScenario(`scenarios/chicago-sketch-cordon.json`);
  for (const gap of [1e-8, 1e-10]) {
    const fb = {
      ...s,
      follower: { ...s.follower, gap },
      method: { type: "first-best" },
      instrument: { type: "links", links: "all", bounds: { min: 0 } },
    } as Scenario;
    const r = await design(fb);
    console.log(
      gap,
      r.solves.secondsByPhase,
      r.firstBestDetail?.soTstt,
      r.firstBestDetail?.tolledTstt,
      r.firstBestDetail?.relativeDifference,
      r.diagnostics.warnings,
      r.equilibrium.iterations,
    );
  }
}, 600000);
