/**
 * Select-link analysis: for a set S of links, the demand that uses them — by origin, by
 * destination and by OD pair, per user class — and the flow pattern of that demand on every
 * link, from the bushes of a bush run (one bush per class and origin: flows by origin).
 *
 * What is exact and what follows a rule (docs/incidence.md):
 * - by origin, the flow of each origin on the selected links (`originFlow`, Σ_{a∈S} f_oa) is
 *   exact: it is the bushes' own flow; summed over origins it is the assigned flow of S;
 * - which trips use S (`odTrips`, `originTrips`, `destinationTrips`, `linkFlows`) needs route
 *   flows, which link flows by origin do not determine. The rule: inside a bush, the flow arriving
 *   at a node enters it on each in-link in proportion to the in-link flows, whatever its
 *   destination (route flows are the products of these shares: the proportional decomposition
 *   of an origin-based solution, as `./skims.ts` uses). Then, with s_j the share of the flow
 *   arriving at node j that has used S and ρ_j the share of it that will use S after j, both
 *   found in one pass each way:
 *     s_j = Σ_{a into j} f_a·(a∈S ? 1 : s_tail(a)) / F_j          (forward, topological order)
 *     ρ_j = Σ_{b out of j} f_b·(b∈S ? 1 : ρ_head(b)) / F_j        (backward)
 *   trips of OD pair (o, d) using S = demand_od · s_d, and the select-link flow on link a = (i, j)
 *   is f_a · (1 − (1 − α_a)(1 − ρ_j)) with α_a = (a∈S ? 1 : s_i) (under the rule the route before
 *   a node and the route after it are independent).
 *   With one selected link, or links no route can use twice, the trips using S are exactly the
 *   flow on S (Σ_od odTrips = Σ_{a∈S} f_a, any rule); with several links on one route a trip
 *   counts once.
 *
 * Cost: one forward and one backward pass per bush (about two AON loadings in all) plus a
 * zone × zone array per class. Flows in vehicles of each class; `linkFlowsPce` sums classes in PCE.
 */

import { InputError, Network } from "@tollkit/graph-core";
import { isBushState } from "../bush/store.js";
import { defaultClasses } from "../cost-model.js";
import { FollowerResult, UserClass } from "../types.js";

const MOD = "follower/select-link";

/** Select-link results of one class (zone arrays indexed by zone, OD arrays zone × zone, row = origin). */
export interface ClassSelectLink {
  name: string;
  /** Trips of each OD pair that use a selected link (vehicles). */
  odTrips: Float64Array;
  /** Trips from each origin that use a selected link. */
  originTrips: Float64Array;
  /** Trips to each destination that use a selected link. */
  destinationTrips: Float64Array;
  /** Exact: each origin's flow on the selected links, Σ_{a∈S} f_oa (vehicle-links). */
  originFlow: Float64Array;
  /** The flow of the trips that use a selected link, on every link (vehicles). */
  linkFlows: Float64Array;
  /** The class's assigned flow on the selected links, Σ_{a∈S} f_a. */
  selectedFlow: number;
  /** Trips using a selected link, in all. */
  trips: number;
}

export interface SelectLinkResult {
  network: string;
  /** The selected links, 1-based ids, as given (duplicates removed). */
  links: number[];
  classes: ClassSelectLink[];
  /** Σ_k pce_k · linkFlows_k per link (PCE). */
  linkFlowsPce: Float64Array;
}

/**
 * Parses a list of 1-based link ids (`"12,40"` or numbers), checking them against the network.
 * @param field the flag or field named in errors (`--select-link`, `links`)
 * @throws InputError for an empty list, a non-integer or a link not in the network
 */
export function parseLinkList(net: Network, spec: string | readonly (number | string)[], field: string): number[] {
  const parts = typeof spec === "string" ? spec.split(",").map((s) => s.trim()) : spec.map((s) => String(s).trim());
  const out: number[] = [];
  for (const p of parts) {
    if (p === "") continue;
    const v = Number(p);
    if (!Number.isInteger(v) || v < 1 || v > net.linkCount)
      throw new InputError(
        MOD,
        `link ${JSON.stringify(p)} is not in ${net.name}`,
        { field },
        `1-based link ids in 1..${net.linkCount}, comma-separated`,
      );
    if (!out.includes(v)) out.push(v);
  }
  if (out.length === 0) throw new InputError(MOD, "no links given", { field }, "one or more 1-based link ids, e.g. 12,40");
  return out;
}

/**
 * Select-link analysis of a bush run (see the module comment for what is exact and the rule).
 * @param links the selected links, 1-based ids (see {@link parseLinkList})
 * @param classes the classes the result was solved with (default: the network's single class)
 * @throws InputError when the result holds no bushes (a run of another algorithm: solve with
 *   `algorithm: "bush"`), or does not fit the network and classes, or a link is out of range
 */
export function selectLink(
  net: Network,
  r: FollowerResult,
  links: readonly number[],
  classes: UserClass[] = defaultClasses(net),
): SelectLinkResult {
  const state = r.warmStart?.state;
  if (!isBushState(state))
    throw new InputError(
      MOD,
      `select-link needs flows by origin, which only the bush algorithm keeps (this run used ${r.algorithm})`,
      { field: "algorithm" },
      'a run with algorithm "bush" (tollkit assign … --algorithm bush)',
    );
  const Z = net.zoneCount;
  const m = net.linkCount;
  if (state.linkCount !== m || state.zoneCount !== Z || state.classCount !== classes.length)
    throw new InputError(
      MOD,
      "the run's bushes do not fit this network or its classes",
      { field: "classes" },
      "the network and classes of the run",
    );
  const sel = new Uint8Array(m);
  for (const l of links) {
    if (!(Number.isInteger(l) && l >= 1 && l <= m))
      throw new InputError(MOD, `link ${l} is not in ${net.name}`, { field: "links" }, `1..${m}`);
    sel[l - 1] = 1;
  }
  const n = net.nodeCount;
  const { from, to } = net.links;
  const zn = net.zoneNodes;
  const F = new Float64Array(n);
  const s = new Float64Array(n);
  const acc = new Float64Array(n);
  const rho = new Float64Array(n);
  const out: ClassSelectLink[] = classes.map((c) => ({
    name: c.name,
    odTrips: new Float64Array(Z * Z),
    originTrips: new Float64Array(Z),
    destinationTrips: new Float64Array(Z),
    originFlow: new Float64Array(Z),
    linkFlows: new Float64Array(m),
    selectedFlow: 0,
    trips: 0,
  }));
  for (const b of state.bushes) {
    const cs = out[b.cls];
    const demand = classes[b.cls].demand;
    const root = zn[b.zone];
    const bl = b.links;
    const bf = b.flows;
    const len = bl.length;
    F[root] = 0;
    s[root] = 0;
    acc[root] = 0;
    let onS = 0;
    // forward: inflow and the share of it that has used S
    for (let p = 0; p < len;) {
      const j = to[bl[p]];
      let inflow = 0;
      let tagged = 0;
      for (; p < len && to[bl[p]] === j; p++) {
        const a = bl[p];
        const f = bf[p];
        inflow += f;
        if (sel[a] === 1) {
          tagged += f;
          onS += f;
        } else tagged += f * s[from[a]];
      }
      F[j] = inflow;
      s[j] = inflow > 0 ? Math.min(1, tagged / inflow) : 0;
      acc[j] = 0;
    }
    // backward: the share of the flow at each node that will use S, and the select-link flows
    const lf = cs.linkFlows;
    for (let p = len - 1; p >= 0;) {
      const j = to[bl[p]];
      const r = F[j] > 0 ? Math.min(1, acc[j] / F[j]) : 0;
      rho[j] = r;
      for (; p >= 0 && to[bl[p]] === j; p--) {
        const a = bl[p];
        const f = bf[p];
        if (f === 0) continue;
        const i = from[a];
        const alpha = sel[a] === 1 ? 1 : s[i];
        acc[i] += sel[a] === 1 ? f : f * r;
        lf[a] += f * (1 - (1 - alpha) * (1 - r));
      }
    }
    const row = b.zone * Z;
    let trips = 0;
    for (let d = 0; d < Z; d++) {
      if (d === b.zone) continue;
      const t = demand[row + d];
      if (!(t > 0)) continue;
      const v = t * s[zn[d]];
      cs.odTrips[row + d] = v;
      cs.destinationTrips[d] += v;
      trips += v;
    }
    cs.originTrips[b.zone] += trips;
    cs.originFlow[b.zone] += onS;
    cs.trips += trips;
    cs.selectedFlow += onS;
  }
  const linkFlowsPce = new Float64Array(m);
  classes.forEach((c, k) => {
    const lf = out[k].linkFlows;
    for (let a = 0; a < m; a++) linkFlowsPce[a] += c.pce * lf[a];
  });
  return { network: net.name, links: [...links], classes: out, linkFlowsPce };
}
