/**
 * The parts of @tollkit/leader the API uses, looked up at run time: scenario validation
 * (`parseScenario`) and toll design (`design`). Looking them up (rather than importing them)
 * keeps the API building while the leader package is being written; a missing function is
 * reported as such, never replaced by something else.
 */
import type { Network } from "@tollkit/graph-core";

/** Progress of a design as the leader reports it (fields the API forwards). */
export interface LeaderProgress {
  [k: string]: unknown;
}

/** The leader functions the API calls. */
export interface LeaderApi {
  parseScenario?: (json: unknown, file?: string) => Record<string, unknown>;
  design?: (
    scenario: unknown,
    opts: { onProgress?: (p: LeaderProgress) => void; signal?: AbortSignal; network?: Network },
  ) => Promise<Record<string, unknown>>;
}

let cached: Promise<LeaderApi> | undefined;

/** The leader module's functions (those that exist in this build). */
export function leaderApi(): Promise<LeaderApi> {
  cached ??= import("@tollkit/leader").then((m) => {
    const mod = m as unknown as Record<string, unknown>;
    return {
      parseScenario: typeof mod.parseScenario === "function" ? (mod.parseScenario as LeaderApi["parseScenario"]) : undefined,
      design: typeof mod.design === "function" ? (mod.design as LeaderApi["design"]) : undefined,
    };
  });
  return cached;
}
