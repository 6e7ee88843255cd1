/**
 * The bush-based (origin-based) high-precision algorithm — owned by the Follower II work
 * (issue 4). Until it lands, asking for it is an error, never a silent fallback.
 */
import { Network } from "@tollkit/graph-core";
import { FollowerOptions, FollowerResult } from "./types.js";

/** Solves the follower problem with the bush-based algorithm. */
export function solveBush(_net: Network, _options: FollowerOptions): FollowerResult {
  throw new Error("follower: the bush algorithm is not available yet");
}
