/**
 * Progress of a batch, as a live bar on a terminal or as JSON lines (one object per line):
 *
 * - `{"event": "batch", out, runs, complete, toRun, concurrency, tollkit}` once at the start;
 * - `{"event": "skip", run, index}` for each run already complete (a resumed batch);
 * - `{"event": "start", run, index, runs, kind, pid, parameters}` when a run starts;
 * - `{"event": "progress", run, iteration, relativeGap, phase, solves, value, fraction}` while
 *   it runs (at most one per run every {@link JSON_PROGRESS_INTERVAL_MS});
 * - `{"event": "finish", run, index, status, seconds, tstt, relativeGap, revenue, value, error}`;
 * - `{"event": "warning", message}`;
 * - `{"event": "summary", runs, done, failed, pending, skipped, ran, seconds, results, exitCode}` last.
 *
 * Every line also has `t`, seconds since the batch started.
 */
import { RunProgress } from "./types.js";
import { headline, RunState } from "./results.js";
import { formatClock, formatGap } from "../format.js";

/** Least time between two JSON progress events of one run, ms. */
export const JSON_PROGRESS_INTERVAL_MS = 250;

/** The totals reported at the end of a batch. */
export interface BatchSummary {
  runs: number;
  done: number;
  failed: number;
  pending: number;
  skipped: number;
  ran: number;
  seconds: number;
  results: string;
  exitCode: number;
  interrupted?: string;
}

/** What a batch reports while it runs. */
export interface Reporter {
  begin(info: { out: string; runs: number; complete: number; toRun: number; concurrency: number; tollkit: string }): void;
  skip(run: RunState, index: number): void;
  start(run: RunState, index: number, pid: number | undefined): void;
  progress(run: RunState, p: RunProgress): void;
  finish(run: RunState, index: number, seconds: number): void;
  warn(message: string): void;
  end(s: BatchSummary): void;
}

function finiteOr(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** JSON lines on a stream (stdout when it is not a terminal, or with --json). */
export class JsonReporter implements Reporter {
  private readonly t0 = performance.now();
  private readonly lastProgress = new Map<string, number>();
  private total = 0;
  constructor(private readonly write: (s: string) => void = (s) => process.stdout.write(s)) {}

  private emit(o: Record<string, unknown>): void {
    this.write(`${JSON.stringify({ ...o, t: Math.round(performance.now() - this.t0) / 1000 })}\n`);
  }

  begin(info: Parameters<Reporter["begin"]>[0]): void {
    this.total = info.runs;
    this.emit({ event: "batch", ...info });
  }
  skip(run: RunState, index: number): void {
    this.emit({ event: "skip", run: run.spec.id, index, reason: "complete" });
  }
  start(run: RunState, index: number, pid: number | undefined): void {
    this.emit({
      event: "start",
      run: run.spec.id,
      index,
      runs: this.total,
      kind: run.spec.kind,
      pid: pid ?? null,
      parameters: run.spec.parameters,
    });
  }
  progress(run: RunState, p: RunProgress): void {
    const now = performance.now();
    const last = this.lastProgress.get(run.spec.id);
    if (last !== undefined && now - last < JSON_PROGRESS_INTERVAL_MS) return;
    this.lastProgress.set(run.spec.id, now);
    this.emit({ event: "progress", run: run.spec.id, ...p });
  }
  finish(run: RunState, index: number, seconds: number): void {
    const h = run.summary ? headline(run.summary) : undefined;
    this.emit({
      event: "finish",
      run: run.spec.id,
      index,
      status: run.status,
      seconds,
      tstt: finiteOr(h?.tstt),
      relativeGap: finiteOr(h?.relativeGap),
      revenue: finiteOr(h?.revenue),
      value: finiteOr(h?.value),
      ...(run.error !== undefined ? { error: run.error } : {}),
      folder: run.folder,
    });
  }
  warn(message: string): void {
    this.emit({ event: "warning", message });
  }
  end(s: BatchSummary): void {
    this.emit({ event: "summary", ...s });
  }
}

/** A long run id with its middle elided (the start names the study, the end holds the last axes and the hash). */
function shorten(id: string, max: number): string {
  return id.length <= max ? id : `${id.slice(0, 12)}…${id.slice(id.length - (max - 13))}`;
}

/**
 * A live progress bar (one line, redrawn in place at most every 100 ms): runs done out of all,
 * failures, elapsed time, ETA (from the mean time per run finished so far and the runs left)
 * and the running runs with their iteration and gap (a design: its equilibrium solves).
 * Failures and warnings are printed above the bar as they happen.
 */
export class BarReporter implements Reporter {
  private readonly t0 = performance.now();
  private total = 0;
  private finished = 0;
  private ranFinished = 0;
  private failed = 0;
  private readonly running = new Map<string, RunProgress | null>();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly width = () => stream.columns || 100,
  ) {}

  begin(info: Parameters<Reporter["begin"]>[0]): void {
    this.total = info.runs;
    this.finished = info.complete;
    this.line(
      `tollkit batch: ${info.runs} runs (${info.complete} already complete, ${info.toRun} to run, ${info.concurrency} at a time) → ${info.out}`,
    );
    this.timer = setInterval(() => this.draw(true), 1000);
    this.timer.unref();
  }
  skip(): void {}
  start(run: RunState): void {
    this.running.set(run.spec.id, null);
    this.draw();
  }
  progress(run: RunState, p: RunProgress): void {
    this.running.set(run.spec.id, p);
    this.draw();
  }
  finish(run: RunState): void {
    this.running.delete(run.spec.id);
    this.finished++;
    this.ranFinished++;
    if (run.status === "failed") {
      this.failed++;
      this.line(`✗ ${run.spec.id}: ${run.error ?? "failed"}`);
    }
    this.draw(true);
  }
  warn(message: string): void {
    this.line(`warning: ${message}`);
  }
  end(s: BatchSummary): void {
    if (this.timer) clearInterval(this.timer);
    this.stream.write("\r\x1b[K");
    const parts = [`${s.runs} runs: ${s.done} done`];
    if (s.skipped) parts.push(`${s.skipped} of them already complete`);
    if (s.failed) parts.push(`${s.failed} failed`);
    if (s.pending) parts.push(`${s.pending} not run`);
    this.stream.write(
      `${parts.join(", ")} in ${formatClock(s.seconds)}${s.interrupted ? ` (${s.interrupted})` : ""}; results in ${s.results}\n`,
    );
  }

  private line(text: string): void {
    this.stream.write(`\r\x1b[K${text}\n`);
    this.draw(true);
  }

  /** The bar's text (exposed for tests through the stream). */
  private text(): string {
    const elapsed = (performance.now() - this.t0) / 1000;
    const left = this.total - this.finished;
    const eta = this.ranFinished > 0 ? (elapsed / this.ranFinished) * left : NaN;
    const w = 20;
    const filled = this.total > 0 ? Math.round((w * this.finished) / this.total) : w;
    const bar = `[${"#".repeat(filled)}${"-".repeat(w - filled)}]`;
    const failed = this.failed ? `, ${this.failed} failed` : "";
    const head = `${bar} ${this.finished}/${this.total} runs${failed} · ${formatClock(elapsed)} · ETA ${left === 0 ? "0:00" : formatClock(eta)}`;
    if (this.running.size === 0) return head;
    // what each running run is doing comes first; its id gets what room is left
    const room = Math.floor((this.width() - 1 - head.length - 3) / this.running.size) - 2;
    const running = [...this.running.entries()].map(([id, p]) => {
      const what =
        p === null
          ? "starting"
          : p.solves !== undefined
            ? `${p.solves} solve${p.solves === 1 ? "" : "s"}${p.phase ? ` ${p.phase}` : ""}`
            : `it ${p.iteration} gap ${formatGap(p.relativeGap)}`;
      return `${what} ${shorten(id, Math.max(16, room - what.length - 1))}`;
    });
    return `${head} ▸ ${running.join(" | ")}`;
  }

  private draw(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let t = this.text();
    const max = this.width() - 1;
    if (t.length > max) t = `${t.slice(0, Math.max(0, max - 1))}…`;
    this.stream.write(`\r\x1b[K${t}`);
  }
}

/** Nothing while running; one summary line at the end. */
export class QuietReporter implements Reporter {
  begin(): void {}
  skip(): void {}
  start(): void {}
  progress(): void {}
  finish(): void {}
  warn(message: string): void {
    process.stderr.write(`tollkit: warning: ${message}\n`);
  }
  end(s: BatchSummary): void {
    process.stdout.write(
      `${s.runs} runs: ${s.done} done (${s.skipped} already complete), ${s.failed} failed, ${s.pending} not run; results in ${s.results}\n`,
    );
  }
}
