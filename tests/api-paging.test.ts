/**
 * Bounded responses (issue 15): a run with a long convergence report (an MSA assignment of
 * 6000 iterations) and a design with a long search history (a 50 × 50 grid), through a real
 * `tollkit serve`. The run's own answer stays small; the report is read in pages of at most
 * MAX_PAGE rows (`GET /api/runs/:id/convergence?offset&limit`), whose rows join up to the whole
 * report and end at the summary's own figures.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { call, ServeProcess, startServe, stopServe, tempDir, waitForRun } from "../packages/api/test/helpers.js";

const MAX_PAGE = 2000;
let s: ServeProcess;
beforeAll(async () => {
  s = await startServe(join(tempDir(), "paging.db"));
}, 60_000);
afterAll(async () => {
  await stopServe(s);
});

describe("paged convergence reports", () => {
  it("an assignment of 6000 iterations: a small run answer, pages that join up to the whole report", async () => {
    const iterations = 6000;
    const post = await call(s.url, "/api/runs", {
      method: "POST",
      json: { kind: "assign", network: "sioux-falls", settings: { algorithm: "msa", gap: 1e-300, maxIterations: iterations } },
    });
    expect(post.status).toBe(202);
    const run = await waitForRun(s.url, post.body.id);
    expect(run.status).toBe("done");
    expect(run.summary.iterations).toBe(iterations);
    const rows = iterations + 1; // iteration 0 is the first all-or-nothing load
    // the run's answer does not grow with its history
    const plain = await call(s.url, `/api/runs/${run.id}`);
    expect(plain.body.convergence).toBeUndefined();
    expect(plain.text.length).toBeLessThan(8_000);
    // ?convergence=true: the first page and the total
    const first = await call(s.url, `/api/runs/${run.id}?convergence=true`);
    expect(first.body.convergenceTotal).toBe(rows);
    expect(first.body.convergence.iteration).toHaveLength(MAX_PAGE);
    // every page, joined, is the whole report: iterations 0..6000 in order
    const joined: number[] = [];
    let last: Record<string, unknown[]> = {};
    for (let offset = 0; offset < rows; offset += MAX_PAGE) {
      const p = await call(s.url, `/api/runs/${run.id}/convergence?offset=${offset}`);
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ run: run.id, kind: "assign", total: rows, offset, limit: MAX_PAGE });
      expect(Object.keys(p.body.columns).sort()).toEqual(["elapsedMs", "iteration", "objective", "relativeGap", "step"]);
      joined.push(...(p.body.columns.iteration as number[]));
      last = p.body.columns;
    }
    expect(joined).toEqual(Array.from({ length: rows }, (_, k) => k));
    // the last row is the summary's final iterate; MSA's step at iteration k is 1/(k+1)
    expect(last.relativeGap.at(-1)).toBe(run.summary.relativeGap);
    const tail = await call(s.url, `/api/runs/${run.id}/convergence?offset=${rows - 3}&limit=10`);
    expect(tail.body.columns.iteration).toEqual([iterations - 2, iterations - 1, iterations]);
    expect(tail.body.columns.step.at(-1)).toBeCloseTo(1 / (iterations + 1), 12);
    expect((await call(s.url, `/api/runs/${run.id}/convergence?offset=${rows}`)).body.columns.iteration).toEqual([]);
    // page limits are said, naming the parameter
    for (const q of [`limit=${MAX_PAGE + 1}`, "limit=0", "offset=-1", "limit=ten", "page=2"]) {
      const r = await call(s.url, `/api/runs/${run.id}/convergence?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.in, q).toBe("query");
      expect(r.body.error.path, q).toBe(q.split("=")[0]);
    }
    expect((await call(s.url, "/api/runs/999999/convergence")).status).toBe(404);
  }, 120_000);

  it("a 50 × 50 grid design: its search history is paged and its best row is the design's value", async () => {
    const post = await call(s.url, "/api/runs", {
      method: "POST",
      json: {
        kind: "design",
        scenario: {
          network: "two-route",
          instrument: { type: "links", links: [1, 2], bounds: { min: 0, max: 10 } },
          objective: { type: "tstt" },
          method: { type: "grid", points: [50, 50] },
        },
      },
    });
    expect(post.status).toBe(202);
    const run = await waitForRun(s.url, post.body.id, 300_000);
    expect(run.status).toBe("done");
    const values: number[] = [];
    let total = 0;
    for (let offset = 0; offset === 0 || offset < total; offset += MAX_PAGE) {
      const p = await call(s.url, `/api/runs/${run.id}/convergence?offset=${offset}`);
      expect(p.body.kind).toBe("design");
      total = p.body.total;
      values.push(...(p.body.columns.value as number[]));
    }
    expect(total).toBeGreaterThanOrEqual(2500);
    expect(values).toHaveLength(total);
    expect(Math.min(...values)).toBeCloseTo(run.summary.value, 9);
  }, 300_000);
});
