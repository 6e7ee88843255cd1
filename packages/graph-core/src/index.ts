/**
 * @tollkit/graph-core — the network model, readers and writers, validation, the network
 * catalogue, compiled CSR arrays, shortest paths, all-or-nothing loading and volume-delay
 * functions.
 *
 * Named exports only: what the other packages and their tests use, and the types in those
 * functions' signatures. Anything else in src/ is internal to graph-core.
 */
export { InputError, isInputError, schemaInputError } from "./errors.js";
export type { InputLocation, SchemaErrorOptions, SchemaIssue } from "./errors.js";
export {
  CompiledVdf,
  VDF_BPR,
  VDF_CONICAL,
  VDF_EXCESS_DEMAND,
  VDF_NAMES,
  VDF_POLYNOMIAL,
  vdfByName,
  VDFS,
  excessDemandDerivative,
  excessDemandEdge,
  excessDemandFlow,
  excessDemandValue,
} from "./vdf.js";
export type { VdfName, VdfParams } from "./vdf.js";
export { emptyLinkTable, isFlowDependent, linkLabel, nodeIndexMap, totalDemand } from "./network.js";
export type { CoordinateSystem, CostWeights, LinkTable, Network } from "./network.js";
export { parseTntpNet, parseTntpTrips, readTntpNetwork, writeTntpNet, writeTntpTrips } from "./tntp.js";
export type { ReadTntpOptions, TntpNetPart } from "./tntp.js";
export { compileNetwork } from "./compiled.js";
export type { CompiledNetwork } from "./compiled.js";
export { ShortestPathWorkspace } from "./shortest-path.js";
export { seededRandom } from "./random.js";
export { AonLoader, unreachableDemand } from "./aon.js";
export type { AonResult, UnreachableDemand, UnroutableDemand } from "./aon.js";
export { braess, buildNetwork, BUILTIN_NETWORKS, builtinNetwork, gridCity, pigou, twoRoute } from "./builtins.js";
export type { GridCityOptions, LinkSpec, NetworkSpec } from "./builtins.js";
export {
  catalogueEntry,
  fetchNetworkFiles,
  isAvailableOffline,
  isNetworkId,
  loadBestKnownFlows,
  loadCatalogue,
  loadNetwork,
  networkIdKind,
  networkSummary,
  repositoryRoot,
  resolveNetworkRef,
} from "./catalogue.js";
export type { Catalogue, CatalogueEntry, CatalogueFile, FileOrigin, ResolvedFile } from "./catalogue.js";
export { networkCacheEnabled, networkCachePath, readerCodeHashIn } from "./network-cache.js";
export { parseGmns, readGmnsNetwork, writeGmnsNetwork } from "./gmns.js";
export type { GmnsTexts, ReadGmnsOptions } from "./gmns.js";
export { parseJsonText, readInputFile, readJsonFile, replaceDirAtomic, writeFileAtomic, writeFilesAtomic } from "./io.js";
export type { NamedFile } from "./io.js";
export { formatCsv, parseCsv } from "./csv.js";
export type { CsvCell, CsvTable, ParseCsvOptions } from "./csv.js";
export { drawingPositions } from "./layout.js";
export type { DrawingFrame, DrawingOptions, DrawingPositions } from "./layout.js";
export { linksToGeojson } from "./geojson.js";
export type { LinkFeature, LinkFeatureCollection, LinksGeojsonOptions } from "./geojson.js";
export { fromGraphology, toGraphology } from "./graphology.js";
export type { FromGraphologyOptions, GraphologyLike, TollkitGraph } from "./graphology.js";
export { describeValue, jsonPath, valueAtPath } from "./json-path.js";
