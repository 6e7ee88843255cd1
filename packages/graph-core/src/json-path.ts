/**
 * JSON paths for error messages: every package that validates JSON (scenarios, sweep files,
 * classes files, API requests) names the place of a problem the same way.
 */

/** Formats a path (`["classes", 0, "valueOfTime"]`) as `classes[0].valueOfTime`; "" for the document itself. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

/** The value at `path` in a parsed JSON document, or undefined when the path does not exist. */
export function valueAtPath(json: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = json;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** A short rendering of a JSON value for messages ("nothing" for a missing value). */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
