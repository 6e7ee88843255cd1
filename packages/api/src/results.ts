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
 * Compares two runs on the same network ({@link runs.compareRuns}).
 * @throws ApiError 409 when the runs are on networks with different links
 */
export function compareRuns(a: ComparedRun<number>, b: ComparedRun<number>) {
  if (!runs.sameNetwork(a, b))
    throw new ApiError(
      409,
      `api: runs ${a.id} (${a.network}) and ${b.id} (${b.network}) are on different networks; compare runs of one network`,
      { path: "b", in: "query" },
    );
  return runs.compareRuns(a, b);
}
