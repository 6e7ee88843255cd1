#!/usr/bin/env node
/**
 * The `tollkit` command. Exit codes: 0 success, 1 some runs failed, 2 usage or input error.
 * Input errors print one line naming file, line and field; never a stack trace.
 */
import { Command, CommanderError } from "commander";
import { isInputError } from "@tollkit/graph-core";
import { registerNetworks } from "./commands/networks.js";
import { registerServe } from "./commands/serve.js";
import { registerDesign } from "./commands/design.js";
import { registerAssign } from "./commands/assign.js";
import { registerBatch } from "./commands/batch.js";
import { registerCompare } from "./commands/compare.js";
import { registerWorker } from "./commands/worker.js";
import { VERSION } from "./version.js";

/** Builds the command tree (exported so tests can drive it in-process). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name("tollkit")
    .description("Design road tolls as a Stackelberg game: the leader sets tolls, travellers answer with a Wardrop equilibrium.")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerNetworks(program);
  registerServe(program);
  registerDesign(program);
  registerAssign(program);
  registerBatch(program);
  registerCompare(program);
  registerWorker(program);
  return program;
}

/** Prints an error the way every command does and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
    return 2; // commander has printed the usage message already
  }
  if (isInputError(e)) {
    process.stderr.write(`tollkit: ${(e as Error).message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`tollkit: ${err?.message ?? String(e)}\n`);
  if (process.env.TOLLKIT_DEBUG) process.stderr.write(`${err?.stack ?? ""}\n`);
  return 1;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

void main();
