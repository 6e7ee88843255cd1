/**
 * The OD analyses of a finished run ({@link OdAnalysis}): skims, select-link and the bushes kept
 * for select-link later (the API answers `GET /api/runs/:id/select-link` from them). Computed in
 * the process that solved the run, from its follower result, so nothing is solved twice.
 */
import { BushState, computeSkims, FollowerResult, isBushState, parseLinkList, selectLink, UserClass } from "@tollkit/follower";
import { InputError, Network } from "@tollkit/graph-core";
import { SelectLinkTable, selectLinkTable, SkimTable, skimTable } from "./incidence.js";
import type { OdAnalysis } from "./task.js";

const MOD = "runs/od-analysis";

/** The bushes of a bush run with what select-link needs of its classes. */
export interface KeptBushes {
  classes: { name: string; pce: number; demand: Float64Array }[];
  state: BushState;
}

/** Bytes of a bush state's arrays. */
export function bushStateBytes(s: BushState): number {
  let n = 0;
  for (const b of s.bushes) n += b.links.byteLength + b.flows.byteLength;
  return n;
}

/**
 * Runs the analyses a task asked for on its equilibrium.
 * @throws InputError when select-link is asked of a run that holds no bushes, or names a link not in the network
 */
export function analyseRun(
  net: Network,
  r: FollowerResult,
  classes: UserClass[],
  a: OdAnalysis | undefined,
): { skims?: SkimTable; selectLink?: SelectLinkTable; bushes?: KeptBushes } {
  if (!a) return {};
  const out: { skims?: SkimTable; selectLink?: SelectLinkTable; bushes?: KeptBushes } = {};
  if (a.skims) out.skims = skimTable(net, computeSkims(net, r, classes));
  if (a.selectLink && a.selectLink.length > 0) {
    const field = a.selectLinkField ?? "selectLink";
    const links = parseLinkList(net, a.selectLink === "tolled" ? tolledLinks(r, field) : a.selectLink, field);
    out.selectLink = selectLinkTable(net, selectLink(net, r, links, classes), classes);
  }
  const state = r.warmStart?.state;
  if (a.keepBushes !== undefined && isBushState(state) && bushStateBytes(state) <= a.keepBushes * 1e6)
    out.bushes = { classes: classes.map((c) => ({ name: c.name, pce: c.pce, demand: c.demand })), state };
  return out;
}

/**
 * The links with a toll ≠ 0 in a result (1-based ids).
 * @throws InputError naming `field` when no link has a toll
 */
export function tolledLinks(r: { tolls: Float64Array }, field: string): number[] {
  const out: number[] = [];
  for (let a = 0; a < r.tolls.length; a++) if (r.tolls[a] !== 0) out.push(a + 1);
  if (out.length === 0) throw new InputError(MOD, "the run has no tolled links to select", { field }, "link ids, e.g. 39,74");
  return out;
}

/**
 * Select-link from kept bushes (a stored run).
 * @throws InputError for a link not in the network
 */
export function selectLinkFromBushes(net: Network, kept: KeptBushes, links: number[]): SelectLinkTable {
  if (kept.state.linkCount !== net.linkCount)
    throw new InputError(MOD, `the run's bushes have ${kept.state.linkCount} links, the network ${net.linkCount}`, { field: "links" });
  const classes: UserClass[] = kept.classes.map((c) => ({ ...c, tollFactor: 0, distanceFactor: 0, tolled: true }));
  const r = { algorithm: "bush", warmStart: { classFlows: [], state: kept.state } } as unknown as FollowerResult;
  return selectLinkTable(net, selectLink(net, r, links, classes), classes);
}
