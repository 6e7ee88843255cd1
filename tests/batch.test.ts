/**
 * `tollkit batch` through the built binary (run `pnpm build` first):
 * - a 26-run batch (24 assignments on Sioux Falls and Anaheim from a sweep, the Braess design,
 *   a malformed scenario) writes one folder per run and a results.csv whose rows match each
 *   run's summary.json, with numbers checked against the published best-known Beckmann
 *   objectives (duality-gap bound), an in-process solve, closed forms and the inputs' sha256;
 *   the malformed scenario is a failed run with a clear message, the others complete, exit 1;
 *   progress is JSON lines since stdout is a pipe; a rerun skips every complete run;
 * - a batch killed with SIGKILL midway leaves whole run folders and no orphan child; the rerun
 *   completes the rest without redoing finished runs; a second batch on the same folder is refused;
 * - --seed reaches the grid-city demand; --timeout stops a run; usage errors exit 2;
 *   every command's --help has examples; --progress bar draws a bar with an ETA.
 */
import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { solveSync } from "@tollkit/follower";
import { gridCity, loadNetwork } from "@tollkit/graph-core";
import { tollkit } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages", "cli", "dist", "main.js");
const work = join(root, "tests", ".out", "batch");
const VERSION = JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8")).version as string;

/** Best-known Beckmann objectives published with the TransportationNetworks data. */
const BEST_KNOWN = { "sioux-falls": 4231335.28710744, anaheim: 1286032.1711 } as Record<string, number>;

/** Parses CSV with quoted fields (RFC 4180) into objects keyed by the header. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length) rows.push([...row, cell]);
  const [header, ...data] = rows;
  for (const r of data) expect(r.length).toBe(header.length);
  return data.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]])));
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Reads and checks every file of a complete run folder; returns the summary. */
function checkWholeRun(dir: string, links: number): Record<string, unknown> {
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  const run = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
  expect(run.status).toBe("done");
  const geo = JSON.parse(readFileSync(join(dir, "flows.geojson"), "utf8"));
  expect(geo.features).toHaveLength(links);
  const flows = readFileSync(join(dir, "flows.csv"), "utf8").trimEnd().split("\n");
  expect(flows[0]).toBe("link,from,to,flow,time,cost,toll,voc");
  expect(flows).toHaveLength(links + 1);
  for (const l of flows.slice(1)) {
    const cells = l.split(",");
    expect(cells).toHaveLength(8);
    for (const c of cells.slice(0, 7)) expect(Number.isFinite(Number(c))).toBe(true);
  }
  const conv = readFileSync(join(dir, "convergence.csv"), "utf8").trimEnd().split("\n");
  expect(conv[0]).toMatch(/^iteration,relativeGap/);
  expect(conv.length).toBeGreaterThan(1);
  return summary;
}

/** True when the process is gone or a zombie (exited, not yet reaped). */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("run `pnpm build` before the CLI tests");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
});

describe("a batch of 26 runs", () => {
  const out = join(work, "big");
  const sweep = join(work, "fw-family.json");
  const malformed = join(work, "malformed.json");
  let first: ReturnType<typeof tollkit>;
  let rows: Record<string, string>[];

  beforeAll(() => {
    writeFileSync(
      sweep,
      JSON.stringify({
        kind: "sweep",
        name: "fw-family",
        runs: [
          {
            kind: "assign",
            gap: 1e-3,
            grid: { network: ["sioux-falls", "anaheim"], algorithm: ["fw", "cfw", "bfw"], objective: ["ue", "so"], demandScale: [1, 0.9] },
          },
        ],
      }),
    );
    // a class with a negative value of time: a scenario that cannot run
    writeFileSync(
      malformed,
      JSON.stringify(
        {
          network: "braess-builtin",
          classes: [{ name: "car", valueOfTime: -1 }],
          instrument: { type: "links", links: [4], bounds: { min: 0, max: 20 } },
          objective: { type: "tstt" },
          method: { type: "grid", points: 5 },
        },
        null,
        2,
      ),
    );
    first = tollkit("batch", sweep, "scenarios/braess.json", malformed, "--out", out, "--concurrency", "2");
    rows = parseCsv(readFileSync(join(out, "results.csv"), "utf8"));
  }, 600_000);

  test("exit code 1 (one run failed), no error output, 26 rows: 25 done and the malformed one failed", () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(1);
    expect(rows).toHaveLength(26);
    expect(rows.filter((r) => r.status === "done")).toHaveLength(25);
    const failed = rows.filter((r) => r.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0].source).toContain("malformed.json");
  });

  test("the malformed scenario's failure names the file and the JSON path; its record has error.json and no summary.json", () => {
    const f = rows.find((r) => r.status === "failed")!;
    expect(f.error).toMatch(/malformed\.json.*classes\[0\]\.valueOfTime.*got -1/);
    const dir = join(out, f.folder);
    expect(existsSync(join(dir, "summary.json"))).toBe(false);
    const err = JSON.parse(readFileSync(join(dir, "error.json"), "utf8"));
    expect(err.error).toBe(f.error);
    expect(err.inputError).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("failed");
  });

  test("progress is JSON lines (stdout is not a terminal): batch, start/finish per run, progress, summary last", () => {
    const ev = jsonLines(first.stdout);
    expect(ev[0].event).toBe("batch");
    expect(ev[0].runs).toBe(26);
    const last = ev[ev.length - 1];
    expect(last).toMatchObject({ event: "summary", runs: 26, done: 25, failed: 1, skipped: 0, ran: 26, exitCode: 1 });
    const starts = ev.filter((e) => e.event === "start");
    const finishes = ev.filter((e) => e.event === "finish");
    expect(new Set(starts.map((e) => e.run)).size).toBe(26);
    expect(new Set(finishes.map((e) => e.run))).toEqual(new Set(rows.map((r) => r.run)));
    expect(ev.some((e) => e.event === "progress" && typeof e.relativeGap === "number")).toBe(true);
    for (const e of finishes) {
      const row = rows.find((r) => r.run === e.run)!;
      expect(e.status).toBe(row.status);
    }
  });

  test("every done row matches its run's summary.json, and every run folder is whole", () => {
    for (const r of rows.filter((x) => x.status === "done")) {
      const links = r.network === "anaheim" ? 914 : r.network === "sioux-falls" ? 76 : 5;
      const s = checkWholeRun(join(out, r.folder), links);
      const eq = (s.equilibrium ?? s) as Record<string, unknown>;
      for (const k of ["tstt", "relativeGap", "beckmann", "iterations", "sptt", "totalCost"])
        expect(Number(r[k]), `${r.run} ${k}`).toBe(eq[k]);
      expect(Number(r.revenue)).toBe(s.revenue);
      expect(r.converged).toBe(String(eq.converged));
      if (r.kind === "assign") {
        expect(s.network).toBe(r.network);
        expect(s.algorithm).toBe(r.algorithm);
        expect(s.objective).toBe(r.objective);
        expect((s.settings as { gap: number }).gap).toBe(Number(r.gap));
      }
    }
  });

  test("user equilibria at demand 1 reach the best-known Beckmann objective within their duality gap: 0 ≤ B − B* ≤ gap · TSTT", () => {
    const ue = rows.filter((r) => r.kind === "assign" && r.objective === "ue" && r.demandScale === "1");
    expect(ue).toHaveLength(6);
    for (const r of ue) {
      const best = BEST_KNOWN[r.network];
      const b = Number(r.beckmann);
      expect(Number(r.relativeGap)).toBeLessThanOrEqual(1e-3);
      expect(b - best, r.run).toBeGreaterThanOrEqual(-1e-9 * best);
      expect(b - best, r.run).toBeLessThanOrEqual(Number(r.relativeGap) * Number(r.tstt) * (1 + 1e-9));
    }
  });

  test("the system optimum's TSTT is below the user equilibrium's for each network, algorithm and demand", () => {
    for (const so of rows.filter((r) => r.objective === "so")) {
      const ue = rows.find(
        (r) => r.objective === "ue" && r.network === so.network && r.algorithm === so.algorithm && r.demandScale === so.demandScale,
      )!;
      expect(Number(so.tstt), so.run).toBeLessThan(Number(ue.tstt));
    }
  });

  test("demand scaling: the 0.9 runs load 0.9 of the demand", () => {
    for (const r of rows.filter((x) => x.kind === "assign" && x.demandScale === "0.9")) {
      const full = rows.find(
        (x) =>
          x.kind === "assign" &&
          x.network === r.network &&
          x.algorithm === r.algorithm &&
          x.objective === r.objective &&
          x.demandScale === "1",
      )!;
      const d = (row: Record<string, string>) =>
        (JSON.parse(readFileSync(join(out, row.folder, "summary.json"), "utf8")).classes as { demand: number }[]).reduce(
          (a, c) => a + c.demand,
          0,
        );
      expect(d(r) / d(full)).toBeCloseTo(0.9, 12);
    }
  });

  test("a run is reproduced by a separate in-process solve (Sioux Falls, BFW, gap 1e-3): same TSTT and link flows", async () => {
    const r = rows.find((x) => x.network === "sioux-falls" && x.algorithm === "bfw" && x.objective === "ue" && x.demandScale === "1")!;
    const net = await loadNetwork("sioux-falls");
    const own = solveSync(net, { algorithm: "bfw", objective: "ue", gap: 1e-3 });
    expect(Number(r.tstt)).toBeCloseTo(own.tstt, 6);
    expect(Number(r.iterations)).toBe(own.iterations);
    const flows = readFileSync(join(out, r.folder, "flows.csv"), "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => Number(l.split(",")[3]));
    flows.forEach((f, a) => expect(f).toBeCloseTo(own.flows[a], 6));
  });

  test("the Braess design in the batch: TSTT 552 without toll, 498 with it (closed forms)", () => {
    const r = rows.find((x) => x.kind === "design")!;
    expect(r.status).toBe("done");
    expect(Number(r.baseline)).toBeCloseTo(552, 6);
    expect(Number(r.tstt)).toBeCloseTo(498, 6);
    expect(r.method).toBe("grid");
    expect(existsSync(join(out, r.folder, "design.json"))).toBe(true);
    expect(
      readFileSync(join(out, r.folder, "history.csv"), "utf8")
        .trimEnd()
        .split("\n"),
    ).toHaveLength(41 + 1);
  });

  test("run.json records tollkit's version, the full settings, the seed and the sha256 of the inputs", () => {
    const r = rows.find((x) => x.network === "sioux-falls" && x.kind === "assign")!;
    const run = JSON.parse(readFileSync(join(out, r.folder, "run.json"), "utf8"));
    expect(run.tollkit).toBe(VERSION);
    expect(run.settings).toMatchObject({
      network: "sioux-falls",
      algorithm: r.algorithm,
      objective: r.objective,
      gap: 1e-3,
      demandScale: Number(r.demandScale),
    });
    expect(run.seed).toBe(1);
    expect(run.command).toMatch(/^tollkit batch /);
    const mirror = process.env.TOLLKIT_NETWORK_MIRROR!;
    const net = run.inputs.find((i: { role: string }) => i.role === "network");
    const netFile = net.files.find((f: { name: string }) => f.name === "SiouxFalls_net.tntp");
    expect(netFile.sha256).toBe(sha256(join(mirror, "SiouxFalls", "SiouxFalls_net.tntp")));
    const sw = run.inputs.find((i: { role: string }) => i.role === "sweep");
    expect(sw.sha256).toBe(sha256(sweep));
    const design = rows.find((x) => x.kind === "design")!;
    const drun = JSON.parse(readFileSync(join(out, design.folder, "run.json"), "utf8"));
    expect(drun.inputs).toEqual([
      { role: "scenario", name: "scenarios/braess.json", sha256: sha256(join(root, "scenarios", "braess.json")) },
      { role: "network", name: "braess-builtin", sha256: "built-in" },
    ]);
    expect(drun.settings.follower).toEqual({ algorithm: "bush", gap: 1e-12 }); // defaults filled in
    expect(drun.settings.ties).toEqual({ rule: "optimistic", margin: 0.01 });
  });

  test("a rerun skips every complete run (summary.json untouched) and retries only the failed one", () => {
    const done = rows.filter((r) => r.status === "done");
    const mtimes = done.map((r) => statSync(join(out, r.folder, "summary.json")).mtimeMs);
    const again = tollkit("batch", sweep, "scenarios/braess.json", malformed, "--out", out, "--concurrency", "2");
    expect(again.code).toBe(1);
    const ev = jsonLines(again.stdout);
    expect(ev.filter((e) => e.event === "skip")).toHaveLength(25);
    expect(ev.filter((e) => e.event === "start").map((e) => e.run)).toEqual([rows.find((r) => r.status === "failed")!.run]);
    expect(ev[ev.length - 1]).toMatchObject({ event: "summary", skipped: 25, ran: 1, done: 25, failed: 1 });
    expect(done.map((r) => statSync(join(out, r.folder, "summary.json")).mtimeMs)).toEqual(mtimes);
    expect(parseCsv(readFileSync(join(out, "results.csv"), "utf8"))).toEqual(rows);
  });
});

describe("killing a batch", () => {
  const out = join(work, "killed");
  const sweep = join(work, "kill-sweep.json");
  let batch: ChildProcess | undefined;

  afterAll(() => {
    if (batch && batch.exitCode === null) batch.kill("SIGKILL");
  });

  test("SIGKILL midway: finished runs are whole, no orphan child is left, a second batch on the folder is refused while it runs, and the rerun does only the rest", async () => {
    writeFileSync(
      sweep,
      JSON.stringify({
        kind: "sweep",
        runs: [
          {
            kind: "assign",
            network: "sioux-falls",
            algorithm: "fw",
            gap: 2e-4,
            grid: { demandScale: [0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35] },
          },
        ],
      }),
    );
    const proc = spawn(process.execPath, [bin, "batch", sweep, "--out", out, "--concurrency", "2"], { cwd: root, env: process.env });
    batch = proc;
    const events: Record<string, unknown>[] = [];
    let buf = "";
    let refused: ReturnType<typeof tollkit> | undefined;
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        let k: number;
        while ((k = buf.indexOf("\n")) >= 0) {
          events.push(JSON.parse(buf.slice(0, k)));
          buf = buf.slice(k + 1);
        }
        if (!refused && events.some((e) => e.event === "start")) refused = tollkit("batch", sweep, "--out", out);
        if (events.filter((e) => e.event === "finish").length >= 3) resolve();
      });
      proc.on("exit", () => reject(new Error(`the batch ended before it could be killed: ${JSON.stringify(events.at(-1))}`)));
    });
    proc.kill("SIGKILL");
    await new Promise((r) => proc.once("exit", r));

    expect(refused!.code).toBe(2);
    expect(refused!.stderr).toMatch(/another tollkit batch \(pid \d+\) is writing to this folder/);

    // every child the batch started is gone within a few seconds
    const pids = events.filter((e) => e.event === "start").map((e) => e.pid as number);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    const t0 = Date.now();
    while (pids.some((p) => !dead(p)) && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter((p) => !dead(p))).toEqual([]);

    // the complete runs are whole; nothing else looks complete
    const runsDir = join(out, "runs");
    const complete = readdirSync(runsDir).filter((d) => !d.startsWith(".") && existsSync(join(runsDir, d, "summary.json")));
    const finished = events.filter((e) => e.event === "finish").map((e) => e.run as string);
    for (const f of finished) expect(complete).toContain(f);
    expect(complete.length).toBeLessThan(10);
    const mtimes = new Map(complete.map((d) => [d, statSync(join(runsDir, d, "summary.json")).mtimeMs]));
    for (const d of complete) checkWholeRun(join(runsDir, d), 76);

    // the rerun takes over the stale lock, skips the complete runs and runs the rest
    const again = tollkit("batch", sweep, "--out", out, "--concurrency", "2");
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    const ev = jsonLines(again.stdout);
    expect(new Set(ev.filter((e) => e.event === "skip").map((e) => e.run))).toEqual(new Set(complete));
    expect(ev.filter((e) => e.event === "start")).toHaveLength(10 - complete.length);
    for (const [d, m] of mtimes) expect(statSync(join(runsDir, d, "summary.json")).mtimeMs).toBe(m);
    const rows = parseCsv(readFileSync(join(out, "results.csv"), "utf8"));
    expect(rows.map((r) => r.status)).toEqual(Array(10).fill("done"));
    for (const r of rows) {
      const s = checkWholeRun(join(out, r.folder), 76);
      expect(Number(r.tstt)).toBe(s.tstt);
    }
    // TSTT grows with demand
    const tstt = rows.map((r) => Number(r.tstt));
    for (let k = 1; k < tstt.length; k++) expect(tstt[k]).toBeGreaterThan(tstt[k - 1]);
    expect(readdirSync(runsDir).filter((d) => d.startsWith("."))).toEqual([]);
    expect(existsSync(join(out, ".tollkit-batch.lock"))).toBe(false);
  }, 600_000);
});

describe("seeds, timeouts, progress and errors", () => {
  test("--seed is the grid-city demand seed: two seeds, two runs, each with the demand of gridCity({seed})", () => {
    const sweep = join(work, "seed.json");
    writeFileSync(sweep, JSON.stringify({ kind: "sweep", runs: [{ kind: "assign", network: "grid-city", algorithm: "bfw", gap: 1e-4 }] }));
    const out = join(work, "seeds");
    for (const seed of ["2", "3"]) expect(tollkit("batch", sweep, "--out", out, "--seed", seed).code).toBe(0);
    const runs = readdirSync(join(out, "runs"));
    expect(runs).toHaveLength(2);
    for (const d of runs) {
      const run = JSON.parse(readFileSync(join(out, "runs", d, "run.json"), "utf8"));
      const summary = JSON.parse(readFileSync(join(out, "runs", d, "summary.json"), "utf8"));
      expect(run.seedUsedBy).toEqual(["grid-city demand"]);
      const own = gridCity({ seed: run.seed }).demand.reduce((a, b) => a + b, 0);
      expect(summary.classes[0].demand).toBeCloseTo(own, 9);
    }
    const seeds = runs.map((d) => JSON.parse(readFileSync(join(out, "runs", d, "run.json"), "utf8")).seed).sort();
    expect(seeds).toEqual([2, 3]);
  });

  test("--timeout stops a run that takes too long and records it as failed; exit 1", () => {
    const sweep = join(work, "slow.json");
    writeFileSync(
      sweep,
      JSON.stringify({ kind: "sweep", runs: [{ kind: "assign", network: "sioux-falls", algorithm: "msa", gap: 1e-12 }] }),
    );
    const out = join(work, "timeout");
    const r = tollkit("batch", sweep, "--out", out, "--timeout", "2");
    expect(r.code).toBe(1);
    const [row] = parseCsv(readFileSync(join(out, "results.csv"), "utf8"));
    expect(row.status).toBe("failed");
    expect(row.error).toBe("timed out after 2 s (--timeout)");
    expect(existsSync(join(out, row.folder, "error.json"))).toBe(true);
  });

  test("--progress bar draws a bar with runs done and an ETA, then a summary line", () => {
    const r = tollkit("batch", "scenarios/two-route-linear.json", "--out", join(work, "bar"), "--progress", "bar");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\r\x1b[K[");
    expect(r.stdout).toMatch(/\] 0\/1 runs .*ETA/);
    expect(r.stdout).toMatch(/1 runs: 1 done in \d+:\d\d; results in .*results\.csv\n$/);
  });

  const usage: [string, string[], RegExp][] = [
    ["no --out", ["batch", "scenarios/braess.json"], /required option '--out <dir>'/],
    ["--concurrency 0", ["batch", "scenarios/braess.json", "--out", "x", "--concurrency", "0"], /--concurrency.*got "0".*1\.\.64/],
    ["a missing file", ["batch", "nope.json", "--out", "x"], /nope\.json: no such file or folder/],
    [
      "an invalid sweep",
      ["batch", "tests/.out/batch/invalid-sweep.json", "--out", "tests/.out/batch/never"],
      /invalid-sweep\.json, field "runs\[0\]\.grid\.gap\[0\]": got "1e-3"/,
    ],
  ];
  test.each(usage)("%s: exit 2, one clear message, no stack trace, nothing written", (_name, args, re) => {
    writeFileSync(
      join(work, "invalid-sweep.json"),
      JSON.stringify({ kind: "sweep", runs: [{ kind: "assign", network: "pigou", grid: { gap: ["1e-3"] } }] }),
    );
    const r = tollkit(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, "never"))).toBe(false);
    expect(existsSync(join(root, "x"))).toBe(false);
  });

  test("every command in `tollkit --help` (and every networks subcommand) has examples in its --help", () => {
    const top = tollkit("--help").stdout;
    const commands = [...top.slice(top.indexOf("Commands:")).matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]).filter((c) => c !== "help");
    expect(commands).toEqual(expect.arrayContaining(["networks", "serve", "design", "assign", "batch", "compare"]));
    for (const c of [...commands.map((c) => [c]), ["networks", "list"], ["networks", "info"], ["networks", "fetch"]]) {
      const h = tollkit(...c, "--help");
      expect(h.code, c.join(" ")).toBe(0);
      expect(h.stdout, c.join(" ")).toMatch(/Examples?:\n {2}tollkit /);
    }
  });
});
