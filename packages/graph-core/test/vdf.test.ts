/**
 * Volume-delay functions against numbers computed independently: derivatives against central
 * finite differences of the value, integrals against composite Simpson quadrature of the value,
 * and the closed-form points of each function (BPR at capacity, Spiess's conical at 0 and at
 * capacity). Covers constant-cost links (b = 0) and power 0.
 */
import { describe, expect, it } from "vitest";
import {
  CompiledVdf,
  isFlowDependent,
  Network,
  VDF_BPR,
  VDF_CONICAL,
  VDF_NAMES,
  VDF_POLYNOMIAL,
  VdfParams,
  VDFS,
  vdfByName,
} from "@tollkit/graph-core";

interface Case {
  kind: number;
  p: VdfParams;
  label: string;
}

const cases: Case[] = [
  { kind: VDF_BPR, p: { freeFlowTime: 6, capacity: 25900.2, b: 0.15, power: 4 }, label: "BPR (Sioux Falls link 1)" },
  { kind: VDF_BPR, p: { freeFlowTime: 2.5, capacity: 1200, b: 1, power: 2.5 }, label: "BPR, fractional power" },
  { kind: VDF_BPR, p: { freeFlowTime: 3, capacity: 500, b: 0.8, power: 1 }, label: "BPR, linear" },
  { kind: VDF_BPR, p: { freeFlowTime: 4, capacity: 900, b: 0, power: 4 }, label: "BPR, b = 0 (constant cost)" },
  { kind: VDF_BPR, p: { freeFlowTime: 4, capacity: 900, b: 0.15, power: 0 }, label: "BPR, power 0 (constant cost)" },
  { kind: VDF_CONICAL, p: { freeFlowTime: 5, capacity: 1800, b: 0, power: 4 }, label: "conical, alpha 4" },
  { kind: VDF_CONICAL, p: { freeFlowTime: 1.2, capacity: 700, b: 0, power: 9 }, label: "conical, alpha 9" },
  { kind: VDF_POLYNOMIAL, p: { freeFlowTime: 10, capacity: 1, b: 1, power: 1 }, label: "polynomial, t = 10 + x" },
  { kind: VDF_POLYNOMIAL, p: { freeFlowTime: 0, capacity: 2, b: 3, power: 3 }, label: "polynomial, cubic without a constant" },
  { kind: VDF_POLYNOMIAL, p: { freeFlowTime: 1, capacity: 1, b: 0, power: 1 }, label: "polynomial, b = 0 (Pigou's constant link)" },
  { kind: VDF_POLYNOMIAL, p: { freeFlowTime: 1, capacity: 1, b: 2, power: 0 }, label: "polynomial, power 0" },
];

/** Flows at which each function is checked, as multiples of capacity. */
const RATIOS = [0, 0.05, 0.5, 0.97, 1, 1.6, 3];

function simpson(f: (x: number) => number, a: number, b: number, n = 2000): number {
  if (a === b) return 0;
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let k = 1; k < n; k++) s += (k % 2 ? 4 : 2) * f(a + k * h);
  return (s * h) / 3;
}

function relClose(got: number, want: number, rel: number, abs = 1e-12): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.abs(want) + abs);
}

describe("volume-delay functions", () => {
  for (const c of cases) {
    const f = VDFS[c.kind];
    const compiled = new CompiledVdf({
      vdf: Uint8Array.of(c.kind),
      freeFlowTime: Float64Array.of(c.p.freeFlowTime),
      capacity: Float64Array.of(c.p.capacity),
      b: Float64Array.of(c.p.b),
      power: Float64Array.of(c.p.power),
    });
    it(`${c.label}: derivative matches central differences`, () => {
      for (const r of RATIOS) {
        const x = r * c.p.capacity;
        const h = 1e-5 * c.p.capacity;
        // one-sided at 0 for power forms with power < 1 would be singular; all cases here are smooth on [0, ∞)
        const fd = x === 0 ? (f.value(h, c.p) - f.value(0, c.p)) / h : (f.value(x + h, c.p) - f.value(x - h, c.p)) / (2 * h);
        const tol = x === 0 ? 1e-4 : 1e-6;
        relClose(f.derivative(x, c.p), fd, tol, 1e-9 * f.value(c.p.capacity, c.p));
        relClose(compiled.derivative(0, x), fd, tol, 1e-9 * f.value(c.p.capacity, c.p));
      }
    });
    it(`${c.label}: integral matches Simpson quadrature`, () => {
      for (const r of RATIOS) {
        const x = r * c.p.capacity;
        const q = simpson((s) => f.value(s, c.p), 0, x);
        relClose(f.integral(x, c.p), q, 1e-9);
        relClose(compiled.integral(0, x), q, 1e-9);
      }
    });
    it(`${c.label}: compiled kernel equals the registry`, () => {
      const flows = new Float64Array(1);
      const out = new Float64Array(1);
      for (const r of RATIOS) {
        const x = r * c.p.capacity;
        flows[0] = x;
        compiled.times(flows, out);
        relClose(out[0], f.value(x, c.p), 1e-13);
        relClose(compiled.time(0, x), f.value(x, c.p), 1e-13);
        relClose(compiled.beckmann(flows), f.integral(x, c.p), 1e-13);
      }
    });
    if (f.isConstant(c.p)) {
      it(`${c.label}: cost does not depend on flow`, () => {
        const t0 = f.value(0, c.p);
        for (const r of RATIOS) {
          expect(f.value(r * c.p.capacity, c.p)).toBe(t0);
          expect(f.derivative(r * c.p.capacity, c.p)).toBe(0);
        }
        expect(compiled.constant[0]).toBe(1);
      });
    }
  }

  it("closed forms: BPR at capacity is fft·(1 + b); conical is fft at 0 and 2·fft at capacity", () => {
    const bpr = { freeFlowTime: 6, capacity: 25900.2, b: 0.15, power: 4 };
    relClose(VDFS[VDF_BPR].value(bpr.capacity, bpr), 6 * 1.15, 1e-15);
    const con = { freeFlowTime: 5, capacity: 1800, b: 0, power: 4 };
    relClose(VDFS[VDF_CONICAL].value(0, con), 5, 1e-14);
    relClose(VDFS[VDF_CONICAL].value(1800, con), 10, 1e-14);
    // BPR power 0 is the constant fft·(1 + b), polynomial power 0 is fft + b
    relClose(VDFS[VDF_BPR].value(123, { freeFlowTime: 4, capacity: 900, b: 0.15, power: 0 }), 4.6, 1e-15);
    relClose(VDFS[VDF_POLYNOMIAL].value(123, { freeFlowTime: 1, capacity: 1, b: 2, power: 0 }), 3, 1e-15);
  });

  it("isFlowDependent says whether the time changes with flow, free-flow time 0 included", () => {
    const more: Case[] = [
      ...cases,
      { kind: VDF_BPR, p: { freeFlowTime: 0, capacity: 900, b: 0.15, power: 4 }, label: "BPR, free-flow time 0 (always 0)" },
      { kind: VDF_CONICAL, p: { freeFlowTime: 0, capacity: 900, b: 0, power: 4 }, label: "conical, free-flow time 0 (always 0)" },
    ];
    for (const c of more) {
      const f = VDFS[c.kind];
      // the reference: does the function's own value change between 0 and 3× capacity?
      const changes = RATIOS.some((r) => f.value(r * c.p.capacity, c.p) !== f.value(0, c.p));
      const links = {
        vdf: Uint8Array.of(c.kind),
        freeFlowTime: Float64Array.of(c.p.freeFlowTime),
        capacity: Float64Array.of(c.p.capacity),
        b: Float64Array.of(c.p.b),
        power: Float64Array.of(c.p.power),
      };
      expect(isFlowDependent({ links } as unknown as Network, 0), c.label).toBe(changes);
    }
  });

  it("an unknown VDF name is an error, known names resolve", () => {
    for (const name of VDF_NAMES) expect(vdfByName(name).name).toBe(name);
    expect(() => vdfByName("akcelik")).toThrow(/unknown volume-delay function "akcelik"/);
  });
});

describe("the inverse of the excess-demand cost (CompiledVdf.excessFlowAt)", () => {
  // exponential (power 0), linear (power −1) and constant-elasticity (power 1/ε) forms, each with q̄ = 100
  const links = [
    { fft: 12, cap: 100, b: 1 / 0.05, power: 0, label: "exponential" },
    { fft: 12, cap: 100, b: 0.2, power: -1, label: "linear" },
    { fft: 12, cap: 100, b: 0, power: 1 / 0.4, label: "power" },
  ];
  const vdf = new CompiledVdf({
    vdf: Float64Array.from(links, () => 3),
    freeFlowTime: Float64Array.from(links, (l) => l.fft),
    capacity: Float64Array.from(links, (l) => l.cap),
    b: Float64Array.from(links, (l) => l.b),
    power: Float64Array.from(links, (l) => l.power),
  });
  it("returns the flow at which the link costs the given cost, 0 at or below free flow, at most the capacity", () => {
    links.forEach((l, i) => {
      for (const x of [0.5, 10, 50, 99, 99.999999]) {
        const c = vdf.time(i, x);
        expect(Math.abs(vdf.excessFlowAt(i, c) - x), `${l.label} at ${x}`).toBeLessThan(1e-9 * l.cap);
      }
      expect(vdf.excessFlowAt(i, l.fft)).toBe(0);
      expect(vdf.excessFlowAt(i, l.fft - 1)).toBe(0);
      expect(vdf.excessFlowAt(i, 1e300)).toBeLessThanOrEqual(l.cap);
    });
    // in the tangent continuation beyond the edge (exponential: 1 − x/cap < 1e-10) it is still the inverse
    const far = vdf.time(0, 100 * (1 - 1e-12));
    expect(Math.abs(vdf.excessFlowAt(0, far) - 100 * (1 - 1e-12))).toBeLessThan(1e-9);
  });
  it("is NaN for a link of another kind", () => {
    const bpr = new CompiledVdf({
      vdf: Float64Array.of(VDF_BPR),
      freeFlowTime: Float64Array.of(1),
      capacity: Float64Array.of(1),
      b: Float64Array.of(0.15),
      power: Float64Array.of(4),
    });
    expect(bpr.excessFlowAt(0, 2)).toBeNaN();
  });
});
