#!/usr/bin/env node
/**
 * The `tollkit` entry (bundled to `dist/main.js`, see ../scripts/bundle.ts). `tollkit --version`
 * is answered here, before anything else is loaded (not even commander); every other command
 * goes to the program (./program.ts), which loads only the command it runs.
 */
import { VERSION } from "./version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) process.stdout.write(`${VERSION}\n`);
else await (await import("./program.js")).main();
