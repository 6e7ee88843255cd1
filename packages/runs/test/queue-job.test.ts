/**
 * What travels through the queue (@tollkit/runs/queue job.ts): a run's result survives the
 * job's return value bit for bit (Float64Arrays, NaN, ±Infinity, -0: what JSON would lose);
 * failure tags read back; the limits of a queued run and the workers' input checks refuse
 * with InputErrors naming the field or file.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { RunResult } from "@tollkit/runs";
import {
  checkInputs,
  checkJobLimits,
  decodeResult,
  encodeResult,
  FAILURE_TAGS,
  JOB_LIMITS,
  parseFailure,
  sha256File,
} from "@tollkit/runs/queue";

describe("queue jobs", () => {
  test("a result's typed arrays and non-finite numbers survive encoding", () => {
    const flow = Float64Array.from([1.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e-300]);
    const r = {
      output: { summary: { tstt: 7480180.911465904 }, convergence: {}, links: { flow } },
      files: [{ name: "a.csv", content: "x\n" }],
    };
    // BullMQ stores the return value as JSON
    const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(r as unknown as RunResult)))) as unknown as typeof r;
    expect(back.output.links.flow).toBeInstanceOf(Float64Array);
    expect(Array.from(back.output.links.flow)).toEqual(Array.from(flow));
    expect(Object.is(back.output.links.flow[3], -0)).toBe(true);
    expect(back.output.summary.tstt).toBe(7480180.911465904);
    expect(back.files).toEqual(r.files);
    expect(() => decodeResult({ not: "a string" })).toThrow(/not an encoded run result/);
  });

  test("failure tags read back; an untagged reason is a crash", () => {
    expect(parseFailure(`${FAILURE_TAGS.input}bad toll`)).toEqual({ kind: "input", error: "bad toll" });
    expect(parseFailure(`${FAILURE_TAGS.cancelled}cancelled by request`).kind).toBe("cancelled");
    expect(parseFailure("job stalled more than allowable limit")).toEqual({
      kind: "crashed",
      error: "job stalled more than allowable limit",
    });
  });

  test("an inline network over the API's link limit is refused before it is queued", () => {
    const links = Array.from({ length: JOB_LIMITS.maxInlineLinks + 1 }, () => 0);
    expect(() =>
      checkJobLimits({ task: { kind: "design", scenario: { network: { links } }, label: "big.json" }, tollkit: "0", label: "big" }),
    ).toThrow(/field "network\.links": the inline network of big has 20001 links/);
    expect(() =>
      checkJobLimits({ task: { kind: "design", scenario: { network: "braess-builtin" }, label: "s.json" }, tollkit: "0", label: "s" }),
    ).not.toThrow();
  });

  test("a worker refuses a file it does not have, or whose bytes differ", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollkit-queue-"));
    const f = join(dir, "tolls.csv");
    writeFileSync(f, "link,toll\n1,2\n");
    const sha = "833203f675ad0d7b5f2ac64ea4b759adab277317b2d8c933325f5f8c58f2bf25"; // sha256sum of those bytes
    expect(sha256File(f)).toBe(sha);
    expect(() => checkInputs([{ path: f, sha256: sha }], "here")).not.toThrow();
    expect(() => checkInputs([{ path: join(dir, "missing.csv"), sha256: sha }], "here")).toThrow(/missing\.csv: not on the worker here/);
    writeFileSync(f, "link,toll\n1,3\n");
    expect(() => checkInputs([{ path: f, sha256: sha }], "here")).toThrow(/tolls\.csv: differs on the worker here/);
  });
});
