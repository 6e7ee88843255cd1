/**
 * @tollkit/runs — what the API and the CLI share about runs: the typed run summary, the result
 * writers (flows.csv, convergence.csv, GeoJSON, output folders), the run task and the one
 * executor that runs a task in a child process. Loads neither express nor SQLite.
 */
export type { AssignSettingsRecord, AssignSummary, ClassSummary, DesignSummary, ElasticDemandSummary, RunSummary } from "./summary.js";
export { assignSummary, designSummary, HEADLINE_FIELDS, isDesignSummary, summaryField } from "./summary.js";
export type { ComparedRun, HeadlineDifference, LinkColumns, LinkRow, OutputFile, RunOutput } from "./results.js";
export {
  compareRuns,
  convergenceColumns,
  convergenceCsv,
  CSV_COLUMNS,
  designFile,
  designFiles,
  equilibriumFiles,
  historyColumns,
  historyCsv,
  linkColumns,
  linkCsv,
  linkGeojson,
  linkRows,
  sameNetwork,
  volumeCapacity,
} from "./results.js";
export type {
  AssignTask,
  AssignTaskSettings,
  DesignTask,
  RunKind,
  RunProgress,
  RunTask,
  OdAnalysis,
  SettingsRecordRequest,
  TollEntry,
} from "./task.js";
export * from "./incidence.js";
export type { KeptBushes } from "./od-analysis.js";
export { analyseRun, bushStateBytes, selectLinkFromBushes, tolledLinks } from "./od-analysis.js";
export { PROGRESS_INTERVAL_MS } from "./task.js";
export type { ExecuteHooks, ExecuteOutcome, RunResult } from "./execute.js";
export { assignClasses, executeTask, loadRunNetwork, tollVector } from "./execute.js";
export type { ChildOutcome, ChildPoolOptions, ChildRun, ChildRunOptions } from "./executor.js";
export { ChildPool, defaultChildPath, startChildRun } from "./executor.js";
