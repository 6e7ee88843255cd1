/**
 * What the write routes do, behind the route table: store a posted scenario and start a run.
 * Each first passes the rules of ./checks.ts (nothing is queued or stored before every check
 * has passed), then acts on the store and the run service.
 */
import { parseScenario } from "@tollkit/leader";
import type * as z from "zod";
import { bodyError } from "./errors.js";
import {
  checkBody,
  checkInlineSize,
  checkMaxSeconds,
  checkQueueRoom,
  checkScenarioNetwork,
  checkScenarioWork,
  effectiveAssignSettings,
  WorkLimits,
} from "./checks.js";
import type { NetworkRegistry } from "./networks.js";
import type { RunRequest, ScenarioBody } from "./schemas.js";
import type { RunService } from "./service.js";
import type { RunRow, ScenarioRow, Store } from "./store.js";

/** What the write routes need. */
export interface RequestDeps {
  store: Store;
  service: RunService;
  networks: NetworkRegistry;
  limits: WorkLimits;
}

/**
 * Validates (with the leader's parseScenario and the server's limits) and stores a posted scenario.
 * @param at the JSON path of the scenario in the request body ("" for `POST /api/scenarios`,
 *   `scenario` for a design run request), named in every message
 */
export function createScenario(deps: RequestDeps, body: z.infer<typeof ScenarioBody>, at = ""): ScenarioRow {
  checkInlineSize(body.network, deps.limits, at);
  checkBody(() => parseScenario(body, "request body", at));
  checkScenarioWork(body, deps.limits, at);
  const { ref } = checkScenarioNetwork(body.network, at);
  const name = body.name ?? (ref ? `${ref} scenario` : `${(body.network as { name?: string }).name ?? "inline"} scenario`);
  return deps.store.createScenario(name, ref, body);
}

/** Checks a run request and queues the run. */
export function startRun(deps: RequestDeps, r: RunRequest): RunRow {
  const { store, service, networks, limits } = deps;
  checkQueueRoom(service, limits);
  if (r.kind === "assign") {
    networks.check(r.network);
    const settings = effectiveAssignSettings(r.settings, networks.linkCount(r.network), limits);
    return service.submit("assign", r.network, null, settings as Record<string, unknown>);
  }
  let scenario: ScenarioRow;
  if (typeof r.scenario === "number") {
    const s = store.getScenario(r.scenario);
    if (!s)
      throw bodyError(
        "scenario",
        `scenario ${r.scenario} does not exist`,
        "a stored scenario's id (GET /api/scenarios) or a scenario object",
      );
    checkScenarioWork(s.body, limits, "scenario"); // stored before a limit was lowered
    scenario = s;
  } else scenario = createScenario(deps, r.scenario, "scenario");
  const maxSeconds = checkMaxSeconds(r.settings.maxSeconds, limits);
  return service.submit("design", scenario.network, scenario.id, { maxSeconds });
}
