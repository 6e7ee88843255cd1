/**
 * The `tollkit` command. Exit codes: 0 success, 1 some runs failed, 2 usage or input error.
 * Input errors print one line naming file, line and field; never a stack trace.
 *
 * Start-up: each command's module (and so the solver, the leader, the server) is loaded only
 * when that command runs. `tollkit --version` loads commander alone; `tollkit assign` loads
 * the follower and @tollkit/runs, never express or SQLite; the whole tree is loaded only for
 * the top-level help and unknown commands, whose messages list every command.
 *
 * This is the program; the `tollkit` entry (./entry.ts, which answers `--version` before loading
 * it) is bundled by esbuild into `dist/main.js` (see ../scripts/bundle.ts), so that a command
 * loads a few files instead of hundreds of modules.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "./version.js";

/** Each command and the module that adds it to the program, in the order help lists them. */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  networks: async () => (await import("./commands/networks.js")).registerNetworks,
  serve: async () => (await import("./commands/serve.js")).registerServe,
  design: async () => (await import("./commands/design.js")).registerDesign,
  assign: async () => (await import("./commands/assign.js")).registerAssign,
  batch: async () => (await import("./commands/batch.js")).registerBatch,
  compare: async () => (await import("./commands/compare.js")).registerCompare,
  incidence: async () => (await import("./commands/incidence.js")).registerIncidence,
  worker: async () => (await import("./commands/worker.js")).registerWorker,
};

/**
 * Builds the command tree (exported so tests can drive it in-process).
 * @param argv the arguments after `node tollkit`; with them, only the command they name is
 *   loaded (none for --version), without them every command
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name("tollkit")
    .description("Design road tolls as a Stackelberg game: the leader sets tolls, travellers answer with a Wardrop equilibrium.")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  const first = argv?.[0];
  const names =
    first === "--version" || first === "-V" ? [] : first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]()))) register(program);
  return program;
}

/** Prints an error the way every command does and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
    return 2; // commander has printed the usage message already
  }
  if (e instanceof Error && e.name === "InputError") {
    process.stderr.write(`tollkit: ${e.message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`tollkit: ${err?.message ?? String(e)}\n`);
  if (process.env.TOLLKIT_DEBUG) process.stderr.write(`${err?.stack ?? ""}\n`);
  return 1;
}

/** Runs the command of `process.argv`; sets the exit code. */
export async function main(): Promise<void> {
  try {
    await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}
