/**
 * One all-or-nothing baseline in a process of its own (used by `assign.bench.ts`, which runs it
 * interleaved with the commands it times, so that both see the same machine load): loads the
 * network named by argv[2] and prints the median time (ms) of 5 AON loadings at free-flow cost.
 */
import { loadNetwork } from "@tollkit/graph-core";
import { aonTimesMs } from "../../follower/bench/aon-baseline.js";

const t = aonTimesMs(await loadNetwork(process.argv[2]), 5);
process.stdout.write(`${t[2]}\n`);
