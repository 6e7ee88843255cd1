/**
 * GMNS (General Modeling Network Specification) reader and writer — to be completed.
 */
import { InputError } from "./errors.js";
import { Network } from "./network.js";

/** Reads a GMNS folder (node.csv, link.csv, demand.csv). */
export function readGmnsNetwork(dir: string): Network {
  throw new InputError("graph-core/gmns", "GMNS reading is not implemented yet", { file: dir });
}
