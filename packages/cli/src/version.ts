import { readFileSync } from "node:fs";

/** tollkit's version, from the CLI package's package.json. */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;
