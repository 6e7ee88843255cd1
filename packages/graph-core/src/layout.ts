/**
 * Node positions for drawing any network, whatever its coordinates say.
 *
 * Frames (the `frame` of a {@link DrawingPositions}):
 * - `lonlat`: the network's own longitude/latitude (degrees), unchanged;
 * - `local`: coordinates that are not lon/lat (State Plane feet, arbitrary units) moved and
 *   scaled into a small box: centred on (0°, 0°), the larger side spanning `boxDegrees`
 *   (default 0.2°, about 22 km), aspect ratio kept, y growing north. Drawn without a base map.
 * - `layout`: the network has no coordinates (Barcelona, Winnipeg, Eastern Massachusetts,
 *   Braess): positions come from a deterministic graph layout — PivotMDS (Brandes & Pich 2006)
 *   on hop distances of the undirected graph, from `pivots` pivots chosen farthest-first after a
 *   seeded first pick — then scaled into the same box as `local`.
 *
 * A node without coordinates in a network that has them is put at the mean of its placed
 * neighbours (breadth-first from the placed nodes); if a whole component has no coordinates
 * the network is laid out instead. Either is stated in `note`.
 */

import { InputError } from "./errors.js";
import { Network } from "./network.js";
import { seededRandom } from "./random.js";

/** How positions relate to the earth. */
export type DrawingFrame = "lonlat" | "local" | "layout";

/** Node positions for drawing, indexed by node index. */
export interface DrawingPositions {
  /** Longitude-like x, degrees. */
  x: Float64Array;
  /** Latitude-like y, degrees. */
  y: Float64Array;
  frame: DrawingFrame;
  /** What was done to obtain the positions, in one sentence. */
  note: string;
}

/** Options of {@link drawingPositions}. */
export interface DrawingOptions {
  /** Side of the box that `local` and `layout` positions are scaled into, degrees. Default 0.2. */
  boxDegrees?: number;
  /** Seed of the layout's first pivot. Default 1. */
  seed?: number;
  /** Number of layout pivots. Default 50 (capped at the node count). */
  pivots?: number;
}

const DEFAULTS: Required<DrawingOptions> = { boxDegrees: 0.2, seed: 1, pivots: 50 };

/** Undirected adjacency in CSR form (each link seen from both ends). */
function undirected(net: Network): { start: Int32Array; adj: Int32Array } {
  const n = net.nodeCount;
  const { from, to } = net.links;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < net.linkCount; i++) {
    start[from[i] + 1]++;
    start[to[i] + 1]++;
  }
  for (let u = 0; u < n; u++) start[u + 1] += start[u];
  const fill = start.slice(0, n);
  const adj = new Int32Array(2 * net.linkCount);
  for (let i = 0; i < net.linkCount; i++) {
    adj[fill[from[i]]++] = to[i];
    adj[fill[to[i]]++] = from[i];
  }
  return { start, adj };
}

function bfs(g: { start: Int32Array; adj: Int32Array }, source: number, dist: Float64Array, queue: Int32Array): void {
  dist.fill(Infinity);
  dist[source] = 0;
  queue[0] = source;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const u = queue[head++];
    const du = dist[u] + 1;
    for (let p = g.start[u]; p < g.start[u + 1]; p++) {
      const v = g.adj[p];
      if (dist[v] === Infinity) {
        dist[v] = du;
        queue[tail++] = v;
      }
    }
  }
}

/**
 * A deterministic 2-D layout of a network's graph (PivotMDS on undirected hop distances).
 * Unscaled: units are hops. The same network and options always give the same positions.
 */
export function pivotMdsLayout(net: Network, opts: DrawingOptions = {}): { x: Float64Array; y: Float64Array } {
  const { seed, pivots } = { ...DEFAULTS, ...opts };
  const n = net.nodeCount;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  if (n <= 1) return { x, y };
  const g = undirected(net);
  const k = Math.max(2, Math.min(pivots, n));
  const D = new Float64Array(n * k); // squared hop distances, row = node, column = pivot
  const dist = new Float64Array(n);
  const minDist = new Float64Array(n).fill(Infinity);
  const queue = new Int32Array(n);
  let pivot = Math.floor(seededRandom(seed)() * n);
  for (let j = 0; j < k; j++) {
    bfs(g, pivot, dist, queue);
    // unreachable nodes (another component) are put one hop beyond the farthest reachable one
    let far = 0;
    for (let v = 0; v < n; v++) if (dist[v] !== Infinity && dist[v] > far) far = dist[v];
    let next = 0;
    let best = -1;
    for (let v = 0; v < n; v++) {
      const d = dist[v] === Infinity ? far + 1 : dist[v];
      D[v * k + j] = d * d;
      if (d < minDist[v]) minDist[v] = d;
      if (minDist[v] > best) {
        best = minDist[v];
        next = v;
      }
    }
    pivot = next;
  }
  // double centring: C = −½ (D − row means − column means + grand mean)
  const colMean = new Float64Array(k);
  let grand = 0;
  for (let v = 0; v < n; v++) for (let j = 0; j < k; j++) colMean[j] += D[v * k + j];
  for (let j = 0; j < k; j++) {
    grand += colMean[j];
    colMean[j] /= n;
  }
  grand /= n * k;
  for (let v = 0; v < n; v++) {
    let rowMean = 0;
    for (let j = 0; j < k; j++) rowMean += D[v * k + j];
    rowMean /= k;
    for (let j = 0; j < k; j++) D[v * k + j] = -0.5 * (D[v * k + j] - rowMean - colMean[j] + grand);
  }
  // B = CᵀC (k × k); its two leading eigenvectors by power iteration with deflation
  const B = new Float64Array(k * k);
  for (let v = 0; v < n; v++) {
    const row = v * k;
    for (let a = 0; a < k; a++) {
      const ca = D[row + a];
      if (ca === 0) continue;
      for (let b = 0; b < k; b++) B[a * k + b] += ca * D[row + b];
    }
  }
  const rnd = seededRandom(seed + 1);
  const vecs: Float64Array[] = [];
  const tmp = new Float64Array(k);
  for (let e = 0; e < 2; e++) {
    const q = Float64Array.from({ length: k }, () => rnd() - 0.5);
    for (let it = 0; it < 500; it++) {
      for (const w of vecs) {
        let dot = 0;
        for (let a = 0; a < k; a++) dot += q[a] * w[a];
        for (let a = 0; a < k; a++) q[a] -= dot * w[a];
      }
      let norm = 0;
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let b = 0; b < k; b++) s += B[a * k + b] * q[b];
        tmp[a] = s;
        norm += s * s;
      }
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      let change = 0;
      for (let a = 0; a < k; a++) {
        const nv = tmp[a] / norm;
        change += Math.abs(nv - q[a]);
        q[a] = nv;
      }
      if (change < 1e-10) break;
    }
    vecs.push(q);
  }
  for (let v = 0; v < n; v++) {
    let sx = 0;
    let sy = 0;
    for (let j = 0; j < k; j++) {
      sx += D[v * k + j] * vecs[0][j];
      sy += D[v * k + j] * vecs[1][j];
    }
    x[v] = sx;
    y[v] = sy;
  }
  // nodes with the same hop distances to every pivot coincide (leaves of one node, isolated
  // nodes): spread the c-th duplicate on a sunflower spiral around the shared point
  const seen = new Map<string, number>();
  for (let v = 0; v < n; v++) {
    const key = `${x[v]},${y[v]}`;
    const c = seen.get(key) ?? 0;
    seen.set(key, c + 1);
    if (c > 0) {
      const angle = c * 2.399963229728653; // the golden angle
      const r = 0.3 * Math.sqrt(c);
      x[v] += r * Math.cos(angle);
      y[v] += r * Math.sin(angle);
    }
  }
  return { x, y };
}

function fitIntoBox(x: Float64Array, y: Float64Array, box: number): void {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  const span = Math.max(x1 - x0, y1 - y0);
  const s = span > 0 ? box / span : 0;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  for (let i = 0; i < x.length; i++) {
    x[i] = (x[i] - cx) * s;
    y[i] = (y[i] - cy) * s;
  }
}

/** Places nodes without coordinates at the mean of their placed neighbours; false if some stay unplaced. */
function fillMissing(net: Network, x: Float64Array, y: Float64Array): boolean {
  const n = net.nodeCount;
  const g = undirected(net);
  const placed = new Uint8Array(n);
  const queue = new Int32Array(n);
  const queued = new Uint8Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (Number.isFinite(x[v]) && Number.isFinite(y[v])) placed[v] = queued[v] = 1;
  for (let v = 0; v < n; v++) {
    if (placed[v]) continue;
    for (let p = g.start[v]; p < g.start[v + 1]; p++) {
      if (placed[g.adj[p]]) {
        queue[tail++] = v;
        queued[v] = 1;
        break;
      }
    }
  }
  let head = 0;
  while (head < tail) {
    const v = queue[head++];
    let sx = 0;
    let sy = 0;
    let c = 0;
    for (let p = g.start[v]; p < g.start[v + 1]; p++) {
      const u = g.adj[p];
      if (placed[u]) {
        sx += x[u];
        sy += y[u];
        c++;
      } else if (!queued[u]) {
        queued[u] = 1;
        queue[tail++] = u;
      }
    }
    x[v] = sx / c;
    y[v] = sy / c;
    placed[v] = 1;
  }
  // a node without any link is harmless: put it at the centre of the placed ones
  let cx = 0;
  let cy = 0;
  let c = 0;
  for (let v = 0; v < n; v++) {
    if (!placed[v]) continue;
    cx += x[v];
    cy += y[v];
    c++;
  }
  for (let v = 0; v < n; v++) {
    if (placed[v] || g.start[v] !== g.start[v + 1]) continue;
    x[v] = cx / c;
    y[v] = cy / c;
    placed[v] = 1;
  }
  return placed.every((p) => p === 1);
}

/**
 * Positions for drawing every node of a network (degrees, lon/lat-like); see the module notes
 * for the frames. Deterministic: the same network and options give the same positions.
 * @throws InputError when `boxDegrees` is not a positive number
 */
export function drawingPositions(net: Network, opts: DrawingOptions = {}): DrawingPositions {
  const o = { ...DEFAULTS, ...opts };
  if (!(o.boxDegrees > 0 && o.boxDegrees <= 180))
    throw new InputError("graph-core/layout", `box ${o.boxDegrees}`, { field: "boxDegrees" }, "a size in degrees in (0, 180]");
  const n = net.nodeCount;
  const layout = (why: string): DrawingPositions => {
    const { x, y } = pivotMdsLayout(net, o);
    fitIntoBox(x, y, o.boxDegrees);
    return {
      x,
      y,
      frame: "layout",
      note: `${why}; nodes placed by a deterministic PivotMDS layout (seed ${o.seed}, ${Math.min(o.pivots, n)} pivots) scaled into a ${o.boxDegrees}° box around (0, 0); no base map`,
    };
  };
  if (net.coordinateSystem === "none") return layout("the network has no coordinates");
  const x = Float64Array.from(net.nodeX);
  const y = Float64Array.from(net.nodeY);
  let missing = 0;
  for (let v = 0; v < n; v++) if (!Number.isFinite(x[v]) || !Number.isFinite(y[v])) missing++;
  if (missing === n) return layout("no node has coordinates");
  if (missing > 0 && !fillMissing(net, x, y))
    return layout(`${missing} of ${n} nodes have no coordinates and some cannot be placed from their neighbours`);
  const filled = missing > 0 ? `; ${missing} nodes without coordinates placed at the mean of their neighbours` : "";
  if (net.coordinateSystem === "lonlat") return { x, y, frame: "lonlat", note: `longitude/latitude from the network${filled}` };
  fitIntoBox(x, y, o.boxDegrees);
  return {
    x,
    y,
    frame: "local",
    note: `${net.coordinateSystem} coordinates moved and scaled into a ${o.boxDegrees}° box around (0, 0), aspect ratio kept; no base map${filled}`,
  };
}
