/**
 * @tollkit/graph-core — the network model, readers and writers, validation, the network
 * catalogue, compiled CSR arrays, shortest paths, all-or-nothing loading and volume-delay
 * functions.
 */
export * from "./errors.js";
export * from "./vdf.js";
export * from "./network.js";
export * from "./tntp.js";
export * from "./compiled.js";
export * from "./shortest-path.js";
export * from "./aon.js";
export * from "./builtins.js";
export * from "./catalogue.js";
export * from "./gmns.js";
export * from "./io.js";
export * from "./csv.js";
export * from "./layout.js";
export * from "./geojson.js";
export * from "./graphology.js";
export * from "./json-path.js";
export * from "./random.js";
