/** The CLI's number formats, checked against strings written out by hand. */
import { describe, expect, it } from "vitest";
import { formatClock, formatGap, formatNumber, formatPercent, formatSeconds, formatTable } from "../src/format.js";

describe("CLI number formats", () => {
  it("prints quantities with up to 9 significant digits and thousands separators", () => {
    expect(formatNumber(552)).toBe("552");
    expect(formatNumber(-54)).toBe("-54");
    expect(formatNumber(18123456.789)).toBe("18,123,456.8");
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(0.125)).toBe("0.125");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(-0)).toBe("0");
  });

  it("writes quantities as Intl.NumberFormat (en-US, 9 significant digits) does, for 20,000 values of every magnitude", () => {
    const intl = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 9 });
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const magnitude = 10 ** (-3 + 12 * random()); // 1e-3 … 1e9
      const v = (random() < 0.5 ? -1 : 1) * (i % 4 === 0 ? Math.round(magnitude) || 1 : magnitude);
      if (Math.abs(v) >= 1e9) continue;
      expect(formatNumber(v), String(v)).toBe(intl.format(v));
    }
    for (const v of [0.001, 999999999.4, 999999999.6, 1234.5, 0.0012345678951, 100000, -0.5]) expect(formatNumber(v)).toBe(intl.format(v));
  });

  it("switches to scientific notation below 1e-3 and from 1e9", () => {
    expect(formatNumber(1.23456789e-7)).toBe("1.2346e-7");
    expect(formatNumber(-4231335290)).toBe("-4.2313e+9");
    expect(formatNumber(999999999)).toBe("999,999,999");
  });

  it("prints a missing or non-finite value as a dash", () => {
    for (const f of [formatNumber, formatGap, formatPercent, formatSeconds, formatClock]) {
      expect(f(null)).toBe("—");
      expect(f(undefined)).toBe("—");
      expect(f(NaN)).toBe("—");
      expect(f(Infinity)).toBe("—");
    }
  });

  it("prints gaps, percentages and durations", () => {
    expect(formatGap(3.2149e-5)).toBe("3.21e-5");
    expect(formatGap(0)).toBe("0");
    expect(formatPercent(-0.0978)).toBe("-9.8%");
    expect(formatPercent(-0.09783, 2)).toBe("-9.78%");
    expect(formatSeconds(0.374)).toBe("0.37 s");
    expect(formatSeconds(125.4)).toBe("2 min 5 s");
    expect(formatClock(59.6)).toBe("1:00");
    expect(formatClock(3725)).toBe("1:02:05");
  });

  it("aligns table columns", () => {
    expect(
      formatTable(
        [
          ["", "a", "b"],
          ["TSTT", "552", "498"],
        ],
        ["left"],
      ),
    ).toEqual(["        a    b", "TSTT  552  498"]);
  });
});
