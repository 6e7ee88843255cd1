// Loaded with `node --import`: records every module specifier the process resolves through the
// ESM loader (one per line) in the file named by TOLLKIT_TRACE_IMPORTS.
import { register } from "node:module";
const out = process.env.TOLLKIT_TRACE_IMPORTS;
if (out) {
  const hooks = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(out)}, specifier + " " + r.url + "\\n");
  return r;
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
