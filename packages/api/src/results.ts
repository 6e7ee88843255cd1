/**
 * Per-link results of a run in the formats the API serves and the comparison of two runs: the
 * functions of @tollkit/runs (the same the CLI writes its files with), with a result that no
 * longer matches its network, or runs of two networks, answered as 409.
 */
import type { Network } from "@tollkit/graph-core";
import * as runs from "@tollkit/runs";
import type { ComparedRun, LinkColumns } from "@tollkit/runs";
import { ApiError } from "./errors.js";

export { linkCsv, linkRows } from "@tollkit/runs";

/**
 * The result as GeoJSON for map styling ({@link runs.linkGeojson}).
 * @throws ApiError 409 when the network no longer matches the stored result
 */
export function linkGeojson(net: Network, links: LinkColumns): ReturnType<typeof runs.linkGeojson> {
  if (net.linkCount !== links.linkCount)
    throw new ApiError(409, `api: network ${net.name} now has ${net.linkCount} links but the run's result has ${links.linkCount}`);
  return runs.linkGeojson(net, links);
}

/**
 * Checks that two runs can be compared ({@link runs.compareRuns}: one network, the same links);
 * the comparison itself is built in the map worker.
 * @throws ApiError 409 when the runs are on networks with different links
 */
export function comparableOr409(a: ComparedRun<number>, b: ComparedRun<number>): [ComparedRun<number>, ComparedRun<number>] {
  if (!runs.sameNetwork(a, b))
    throw new ApiError(
      409,
      `api: runs ${a.id} (${a.network}) and ${b.id} (${b.network}) are on different networks; compare runs of one network`,
      { path: "b", in: "query" },
    );
  return [a, b];
}
