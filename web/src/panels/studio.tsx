/**
 * The study editor: a planner authors a toll study on the map, with no JSON.
 *
 * The form model (`form`, this module) is turned into a scenario file's JSON (the store's
 * `draft`), exactly what `tollkit design` reads. Every edit sends the draft to
 * `POST /api/scenarios/check`, which validates it with the leader's own schema and checks and
 * resolves its instrument on the network; each problem is shown beside the field its JSON path
 * names, and the tollable links the leader resolved are drawn as the selection. No rule is
 * repeated here.
 *
 * Tollable links: picked by clicking links (click again to remove), by box selection, from the
 * searchable link list (the keyboard path), by link type, or as a cordon drawn on the map (the
 * links entering it). Then bounds, objective, method, user classes, demand scale, fixed or elastic
 * demand (panels/demand-fields.tsx), and the
 * follower's settings under "Advanced". Save (POST /api/scenarios), save and run, download the
 * scenario, or open a scenario file for editing.
 */
import { batch, computed, effect, signal } from "@preact/signals";
import { render } from "preact";
import { useState } from "preact/hooks";
import * as api from "../api.js";
import type { ScenarioCheck, ScenarioInput } from "../api.js";
import { clearDrawing, drawArea } from "../draw.js";
import type { LinkCollection } from "../geo.js";
import { geometry, INLINE } from "../geometry.js";
import { nodeIndex, nodesInside, linksInside } from "../nodes.js";
import { currentNetwork, draft, networkDetail, networkId, picking, selectedLinks } from "../store.js";
import { unitsOf } from "../units.js";
import { blankDemand, DemandFields, demandFromScenario, demandToScenario, type DemandForm } from "./demand-fields.js";
import { startAndFollow, storeScenario } from "./run-form.js";

type Select = "links" | "link-types" | "cordon";
type Objective = "tstt" | "revenue" | "welfare" | "tstt-floor";
type Method = "first-best" | "grid" | "gradient" | "derivative-free";

/** One user class as the form holds it (numbers as typed). */
interface ClassRow {
  name: string;
  valueOfTime: string;
  share: string;
  pce: string;
  tolled: boolean;
}

/** The editor's form: what the planner typed, before it becomes a scenario. */
interface StudyForm {
  name: string;
  description: string;
  select: Select;
  linkTypes: number[];
  /** A cordon: node ids inside (drawn on the map), or the polygon of an opened scenario file. */
  cordon: { nodes: number[] } | { polygon: [number, number][] } | null;
  min: string;
  max: string;
  uniform: boolean;
  perLink: boolean;
  linkBounds: Record<number, { min: string; max: string }>;
  objective: Objective;
  minRevenue: string;
  method: Method;
  gridPoints: string;
  maxSolves: string;
  /**
   * Method settings of an opened scenario file that the form has no field for (starts, start
   * scales, screening, check, …): written back while the method is the file's, and listed on the page.
   */
  methodKept: { type: Method; fields: Record<string, unknown> } | null;
  classes: ClassRow[];
  demandScale: string;
  /** Fixed or elastic demand (panels/demand-fields.tsx). */
  demand: DemandForm;
  algorithm: string;
  gap: string;
  maxSeconds: string;
}

const ALGORITHMS = ["bush", "bfw", "cfw", "fw", "msa", "aon"];

function blankForm(): StudyForm {
  return {
    name: "",
    description: "",
    select: "links",
    linkTypes: [],
    cordon: null,
    min: "0",
    max: "",
    uniform: false,
    perLink: false,
    linkBounds: {},
    objective: "tstt",
    minRevenue: "",
    method: "gradient",
    gridPoints: "11",
    maxSolves: "40",
    methodKept: null,
    classes: [],
    demandScale: "1",
    demand: blankDemand(),
    algorithm: "bush",
    gap: "1e-8",
    maxSeconds: "",
  };
}

const form = signal<StudyForm>(blankForm());
/** Whether the editor is open (only then do clicks on the map pick links). */
const studioOpen = signal(false);
const check = signal<ScenarioCheck | null>(null);
const checking = signal(false);
const status = signal<{ text: string; error?: boolean } | null>(null);
/** The drawing of the network the editor is on (for box and cordon selection, link list). */
const links = signal<LinkCollection | null>(null);

function set(patch: Partial<StudyForm>): void {
  form.value = { ...form.value, ...patch };
}

/** A typed number, or the text itself so that the schema names what is wrong with it; undefined when empty. */
function num(s: string): number | string | undefined {
  const t = s.trim();
  if (t === "") return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : t;
}

/** The value of time the network's cost weights imply (1 / toll factor), or 1. */
function defaultValueOfTime(): number {
  const tf = networkDetail.value?.costWeights?.tollFactor ?? 0;
  return tf > 0 ? Math.round((1 / tf) * 1e6) / 1e6 : 1;
}

/** Class presets: what a planner usually starts from. */
const PRESETS: Record<string, { label: string; rows: () => ClassRow[] }> = {
  one: {
    label: "One class of cars (the network's value of time)",
    rows: () => [{ name: "car", valueOfTime: String(defaultValueOfTime()), share: "1", pce: "1", tolled: true }],
  },
  "cars-trucks": {
    label: "Cars 90 % and trucks 10 % (2× value of time, 2.5 PCE)",
    rows: () => [
      { name: "car", valueOfTime: String(defaultValueOfTime()), share: "0.9", pce: "1", tolled: true },
      { name: "truck", valueOfTime: String(defaultValueOfTime() * 2), share: "0.1", pce: "2.5", tolled: true },
    ],
  },
  "exempt-buses": {
    label: "Cars 95 % and toll-exempt buses 5 % (3 PCE)",
    rows: () => [
      { name: "car", valueOfTime: String(defaultValueOfTime()), share: "0.95", pce: "1", tolled: true },
      { name: "bus", valueOfTime: String(defaultValueOfTime()), share: "0.05", pce: "3", tolled: false },
    ],
  },
};

/** The scenario file the form describes (the store's `draft`). */
function toScenario(f: StudyForm, network: string, picked: ReadonlySet<number>): ScenarioInput {
  const bounds: Record<string, unknown> = {};
  if (num(f.min) !== undefined) bounds.min = num(f.min);
  if (num(f.max) !== undefined) bounds.max = num(f.max);
  const common: Record<string, unknown> = { bounds };
  if (f.select !== "cordon" && f.uniform) common.uniform = true;
  if (f.select === "links" && f.perLink && !f.uniform) {
    const lb = [...picked]
      .sort((a, b) => a - b)
      .map((link) => ({ link, min: num(f.linkBounds[link]?.min ?? ""), max: num(f.linkBounds[link]?.max ?? "") }))
      .filter((b) => b.min !== undefined || b.max !== undefined);
    if (lb.length) common.linkBounds = lb;
  }
  let instrument: Record<string, unknown>;
  if (f.select === "links") instrument = { type: "links", links: [...picked].sort((a, b) => a - b), ...common };
  else if (f.select === "link-types") instrument = { type: "link-types", linkTypes: f.linkTypes, ...common };
  else instrument = { type: "cordon", ...(f.cordon ?? { nodes: [] }), ...common };
  const objective: Record<string, unknown> = { type: f.objective === "tstt-floor" ? "tstt" : f.objective };
  if (f.objective === "tstt-floor") objective.minRevenue = num(f.minRevenue) ?? "";
  const kept = f.methodKept !== null && f.methodKept.type === f.method ? f.methodKept.fields : {};
  const method: Record<string, unknown> = { type: f.method, ...kept };
  if (f.method === "grid" && num(f.gridPoints) !== undefined) method.points = num(f.gridPoints);
  if ((f.method === "gradient" || f.method === "derivative-free") && num(f.maxSolves) !== undefined) method.maxSolves = num(f.maxSolves);
  const follower: Record<string, unknown> = { algorithm: f.algorithm };
  if (num(f.gap) !== undefined) follower.gap = num(f.gap);
  if (num(f.maxSeconds) !== undefined) follower.maxSeconds = num(f.maxSeconds);
  const distanceFactor = networkDetail.value?.costWeights?.distanceFactor ?? 0;
  const classes = f.classes.map((c) => {
    const out: Record<string, unknown> = {
      name: c.name,
      valueOfTime: num(c.valueOfTime),
      share: num(c.share),
      pce: num(c.pce),
      tolled: c.tolled,
    };
    if (distanceFactor > 0) out.distanceFactor = distanceFactor;
    return out;
  });
  const s: Record<string, unknown> = {
    $schema: "https://github.com/tollkit/tollkit/blob/main/scenarios/scenario.schema.json",
    ...(f.name.trim() ? { name: f.name.trim() } : {}),
    description: f.description || `Toll study authored in the tollkit studio on ${network}.`,
    network,
    demandScale: num(f.demandScale) ?? 1,
    ...(demandToScenario(f.demand, num) ? { demand: demandToScenario(f.demand, num) } : {}),
    ...(classes.length ? { classes } : {}),
    instrument,
    objective,
    method,
    follower,
  };
  return s as ScenarioInput;
}

/** The form an opened scenario file gives (fields it does not set keep the editor's defaults). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an opened file is read field by field, each with its default
function fromScenario(s: Record<string, any>): StudyForm {
  const f = blankForm();
  const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  f.name = str(s.name);
  f.description = str(s.description);
  f.demandScale = str(s.demandScale ?? 1);
  f.demand = demandFromScenario(s.demand);
  const ins = s.instrument ?? {};
  f.select = ins.type === "link-types" ? "link-types" : ins.type === "cordon" ? "cordon" : "links";
  f.linkTypes = ins.linkTypes ?? [];
  f.cordon = ins.type === "cordon" ? (ins.nodes ? { nodes: ins.nodes } : { polygon: ins.polygon }) : null;
  f.min = str(ins.bounds?.min ?? 0);
  f.max = str(ins.bounds?.max);
  f.uniform = ins.type !== "cordon" && ins.uniform === true;
  f.perLink = Array.isArray(ins.linkBounds) && ins.linkBounds.length > 0;
  for (const b of ins.linkBounds ?? []) f.linkBounds[b.link] = { min: str(b.min), max: str(b.max) };
  const obj = s.objective ?? {};
  f.objective = obj.minRevenue !== undefined && obj.type === "tstt" ? "tstt-floor" : (obj.type ?? "tstt");
  f.minRevenue = str(obj.minRevenue);
  const m = s.method ?? {};
  f.method = m.type ?? "gradient";
  if (m.points !== undefined) f.gridPoints = str(m.points);
  if (m.maxSolves !== undefined) f.maxSolves = str(m.maxSolves);
  const fields = Object.fromEntries(Object.entries(m).filter(([k]) => !["type", "points", "maxSolves"].includes(k)));
  f.methodKept = Object.keys(fields).length > 0 ? { type: f.method, fields } : null;
  f.classes = (s.classes ?? []).map((c: Record<string, unknown>) => ({
    name: str(c.name),
    valueOfTime: str(c.valueOfTime),
    share: str(c.share ?? 1),
    pce: str(c.pce ?? 1),
    tolled: c.tolled !== false,
  }));
  const fo = s.follower ?? {};
  f.algorithm = fo.algorithm ?? "bush";
  f.gap = str(fo.gap ?? 1e-10);
  f.maxSeconds = str(fo.maxSeconds);
  return f;
}

// ---------------------------------------------------------------- the store's draft and its check

let checkController: AbortController | null = null;
let checkTimer: ReturnType<typeof setTimeout> | undefined;

/** Sends the draft to the leader's check (debounced; the previous check is aborted). */
let lastChecked = "";

/** Set when the next check answers a drawing (no debounce: the selection should follow at once). */
let immediate = false;

function scheduleCheck(body: ScenarioInput): void {
  const text = JSON.stringify(body);
  if (text === lastChecked) {
    // A drawing that changes nothing (e.g. a second cordon enclosing the same nodes, or none):
    // the leader's answer is already shown (or on its way, and marks itself when it comes).
    if (immediate && !checking.value) performance.mark("tollkit:selection", { detail: { links: selectedLinks.value.size } });
    immediate = false;
    return;
  }
  lastChecked = text;
  clearTimeout(checkTimer);
  const delay = immediate ? 0 : 150;
  immediate = false;
  checking.value = true;
  checkTimer = setTimeout(() => {
    checkController?.abort();
    const c = (checkController = new AbortController());
    api.checkScenario(body, c.signal).then(
      (r) => {
        if (c.signal.aborted) return;
        batch(() => {
          check.value = r;
          checking.value = false;
          // The links the leader resolved are the selection, unless the planner picks them one by one.
          if (form.value.select !== "links") selectedLinks.value = new Set(r.links ?? []);
        });
        performance.mark("tollkit:selection", { detail: { links: r.links?.length ?? 0 } });
      },
      (e: Error) => {
        if (c.signal.aborted || e.name === "AbortError") return;
        checking.value = false;
        lastChecked = "";
        check.value = { valid: false, issues: [{ path: "", message: e.message }] };
      },
    );
  }, delay);
}

function issuesAt(path: string, exact = false): string[] {
  const list = check.value?.issues ?? [];
  return list
    .filter((i) => (exact ? i.path === path : i.path === path || i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`)))
    .map((i) => i.message);
}

/** Paths shown beside a field; any other issue is listed under the form. */
const FIELD_PATHS = [
  "name",
  "network",
  "demandScale",
  "demand.form",
  "demand.elasticity",
  "demand.rate",
  "demand.zones",
  "demand.classes",
  "classes",
  "instrument.links",
  "instrument.linkTypes",
  "instrument.nodes",
  "instrument.polygon",
  "instrument.bounds.min",
  "instrument.bounds.max",
  "instrument.linkBounds",
  "instrument.uniform",
  "objective.type",
  "objective.minRevenue",
  "method.type",
  "method.points",
  "method.maxSolves",
  "follower.algorithm",
  "follower.gap",
  "follower.maxSeconds",
];

const errId = (path: string) => `err-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;

/** The problems the leader found at `path`, shown beside its field. */
function FieldError({ path, exact }: { path: string; exact?: boolean }) {
  const msgs = issuesAt(path, exact);
  if (!msgs.length) return null;
  return (
    <p class="field-error" id={errId(path)} data-path={path} role="alert">
      {msgs.join("; ")}
    </p>
  );
}

/** aria attributes of an input whose field has a problem. */
function invalid(path: string, exact = false) {
  const bad = issuesAt(path, exact).length > 0;
  return bad ? { "aria-invalid": true as const, "aria-describedby": errId(path) } : {};
}

// ---------------------------------------------------------------- selection helpers

async function currentLinks(): Promise<LinkCollection | null> {
  const id = networkId.value;
  if (!id) return null;
  const g = await geometry(id);
  return networkId.value === id ? g.links : null;
}

async function boxSelect(): Promise<void> {
  status.value = { text: "Box selection: click two opposite corners on the map." };
  const ring = await drawArea("rectangle");
  clearDrawing();
  const l = await currentLinks();
  if (!ring || !l) {
    status.value = null;
    return;
  }
  const inside = linksInside(nodeIndex(l), ring);
  selectedLinks.value = new Set([...selectedLinks.value, ...inside]);
  performance.mark("tollkit:selection", { detail: { links: inside.length } });
  status.value = { text: `Box selection added ${inside.length} links.` };
}

async function drawCordon(): Promise<void> {
  status.value = { text: "Cordon: click the corners of the area on the map; click the first corner or press Enter to close it." };
  const ring = await drawArea("polygon");
  const l = await currentLinks();
  if (!ring || !l) {
    status.value = null;
    return;
  }
  const nodes = nodesInside(nodeIndex(l), ring);
  performance.mark("tollkit:cordon", { detail: { nodes: nodes.length } });
  immediate = true;
  set({ cordon: { nodes } });
  status.value = { text: `Cordon drawn: ${nodes.length} nodes inside.` };
}

function download(name: string, text: string, type = "application/json"): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function fileName(f: StudyForm): string {
  const base = (f.name.trim() || `${networkId.value}-study`).replace(/[^a-zA-Z0-9._-]+/g, "-");
  return `${base}.json`;
}

async function save(run: boolean): Promise<void> {
  const body = draft.value;
  if (!body) return;
  if (!check.value?.valid) {
    status.value = { text: "Fix the problems shown beside the fields first.", error: true };
    return;
  }
  status.value = { text: run ? "Saving and starting the design…" : "Saving…" };
  try {
    const stored = await storeScenario(body);
    if (!run) {
      status.value = { text: `Saved as scenario #${stored.id} "${stored.name}".` };
      return;
    }
    const id = await startAndFollow({ kind: "design", scenario: stored.id });
    status.value = { text: `Saved as scenario #${stored.id}; design run #${id} started.` };
  } catch (e) {
    status.value = { text: (e as Error).message, error: true };
  }
}

async function openFile(input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  input.value = "";
  if (!file) return;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await file.text());
  } catch (e) {
    status.value = { text: `${file.name}: not valid JSON (${(e as Error).message})`, error: true };
    return;
  }
  if (typeof json.network !== "string") {
    status.value = {
      text: `${file.name}: the editor opens scenarios on a catalogue or built-in network; add it with "Add a scenario file" instead.`,
      error: true,
    };
    return;
  }
  const ins = (json.instrument ?? {}) as { type?: string; links?: unknown };
  const f = { form: fromScenario(json), links: ins.type === "links" && Array.isArray(ins.links) ? (ins.links as number[]) : [] };
  studioOpen.value = true;
  if (json.network !== networkId.value) {
    pendingOpen = f;
    location.hash = `network=${json.network}`;
  } else applyOpened(f);
  status.value = { text: `Opened ${file.name} for editing.` };
}

/** A scenario opened for another network: applied once the page is on that network. */
let pendingOpen: { form: StudyForm; links: number[] } | null = null;

function applyOpened(o: { form: StudyForm; links: number[] }): void {
  batch(() => {
    form.value = o.form;
    selectedLinks.value = new Set(o.links);
  });
}

// ---------------------------------------------------------------- components

function LinkList() {
  const [query, setQuery] = useState("");
  const l = links.value;
  if (!l) return null;
  const q = query.trim();
  const all = l.features;
  const matches = all.filter((f) => {
    if (!q) return selectedLinks.value.has(f.properties.link);
    const p = f.properties;
    return String(p.link) === q || `${p.from}→${p.to}`.includes(q.replace("->", "→")) || String(p.link).startsWith(q);
  });
  const shown = matches.slice(0, 60);
  return (
    <div class="link-list">
      <label for="study-link-search">Find links (id, or from→to)</label>
      <input
        id="study-link-search"
        type="search"
        placeholder="e.g. 16, or 3→4"
        value={query}
        onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        autocomplete="off"
      />
      <p class="hint">
        {q
          ? `${matches.length} matching link${matches.length === 1 ? "" : "s"}${matches.length > shown.length ? `, first ${shown.length} shown` : ""}`
          : "Selected links (type to find others):"}
      </p>
      <ul class="link-options" aria-label="Links">
        {shown.map((f) => {
          const p = f.properties;
          const id = `study-link-${p.link}`;
          return (
            <li key={p.link}>
              <input
                type="checkbox"
                id={id}
                checked={selectedLinks.value.has(p.link)}
                onChange={(e) => {
                  const next = new Set(selectedLinks.value);
                  if ((e.target as HTMLInputElement).checked) next.add(p.link);
                  else next.delete(p.link);
                  selectedLinks.value = next;
                }}
              />
              <label for={id}>
                Link {p.link} ({String(p.from)}→{String(p.to)})
              </label>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function LinkTypes() {
  const l = links.value;
  if (!l) return null;
  const counts = new Map<number, number>();
  for (const f of l.features) {
    const t = Number(f.properties.linkType);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const f = form.value;
  return (
    <fieldset class="inline-group">
      <legend>Link types</legend>
      {[...counts.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, n]) => (
          <span key={t} class="check">
            <input
              type="checkbox"
              id={`study-type-${t}`}
              checked={f.linkTypes.includes(t)}
              onChange={(e) =>
                set({
                  linkTypes: (e.target as HTMLInputElement).checked
                    ? [...f.linkTypes, t].sort((a, b) => a - b)
                    : f.linkTypes.filter((x) => x !== t),
                })
              }
            />
            <label for={`study-type-${t}`}>
              type {t} ({n} links)
            </label>
          </span>
        ))}
      <FieldError path="instrument.linkTypes" />
    </fieldset>
  );
}

function Classes() {
  const f = form.value;
  const units = unitsOf(networkDetail.value?.units);
  const update = (k: number, patch: Partial<ClassRow>) => set({ classes: f.classes.map((c, i) => (i === k ? { ...c, ...patch } : c)) });
  return (
    <fieldset>
      <legend>User classes</legend>
      <label for="study-class-preset">Start from</label>
      <select
        id="study-class-preset"
        value=""
        onChange={(e) => {
          const p = PRESETS[(e.target as HTMLSelectElement).value];
          if (p) set({ classes: p.rows() });
        }}
      >
        <option value="">Choose a preset…</option>
        {Object.entries(PRESETS).map(([k, p]) => (
          <option key={k} value={k}>
            {p.label}
          </option>
        ))}
      </select>
      <table class="classes">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value of time</th>
            <th scope="col">Share</th>
            <th scope="col">PCE</th>
            <th scope="col">Tolled</th>
            <th scope="col">
              <span class="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {f.classes.map((c, k) => (
            <tr key={k}>
              <td>
                <label class="visually-hidden" for={`study-class-${k}-name`}>{`Class ${k + 1} name`}</label>
                <input
                  id={`study-class-${k}-name`}
                  value={c.name}
                  onInput={(e) => update(k, { name: (e.target as HTMLInputElement).value })}
                  {...invalid(`classes[${k}].name`)}
                />
              </td>
              <td>
                <label class="visually-hidden" for={`study-class-${k}-vot`}>{`Class ${k + 1} value of time`}</label>
                <input
                  id={`study-class-${k}-vot`}
                  inputMode="decimal"
                  value={c.valueOfTime}
                  onInput={(e) => update(k, { valueOfTime: (e.target as HTMLInputElement).value })}
                  {...invalid(`classes[${k}].valueOfTime`)}
                />
              </td>
              <td>
                <label class="visually-hidden" for={`study-class-${k}-share`}>{`Class ${k + 1} share`}</label>
                <input
                  id={`study-class-${k}-share`}
                  inputMode="decimal"
                  value={c.share}
                  onInput={(e) => update(k, { share: (e.target as HTMLInputElement).value })}
                  {...invalid(`classes[${k}].share`)}
                />
              </td>
              <td>
                <label class="visually-hidden" for={`study-class-${k}-pce`}>{`Class ${k + 1} PCE`}</label>
                <input
                  id={`study-class-${k}-pce`}
                  inputMode="decimal"
                  value={c.pce}
                  onInput={(e) => update(k, { pce: (e.target as HTMLInputElement).value })}
                  {...invalid(`classes[${k}].pce`)}
                />
              </td>
              <td>
                <label class="visually-hidden" for={`study-class-${k}-tolled`}>{`Class ${k + 1} tolled`}</label>
                <input
                  type="checkbox"
                  id={`study-class-${k}-tolled`}
                  checked={c.tolled}
                  onChange={(e) => update(k, { tolled: (e.target as HTMLInputElement).checked })}
                />
              </td>
              <td>
                <button
                  type="button"
                  class="small"
                  aria-label={`Remove class ${k + 1}`}
                  onClick={() => set({ classes: f.classes.filter((_, i) => i !== k) })}
                >
                  ×
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {f.classes.map((c, k) =>
        c.valueOfTime && Number.isFinite(Number(c.valueOfTime)) && Number(c.valueOfTime) > 0 ? (
          <p class="hint" key={`h${k}`}>
            {c.name || `class ${k + 1}`}: {units.valueOfTime(Number(c.valueOfTime))}
          </p>
        ) : null,
      )}
      <button
        type="button"
        class="small"
        onClick={() =>
          set({
            classes: [
              ...f.classes,
              { name: `class ${f.classes.length + 1}`, valueOfTime: String(defaultValueOfTime()), share: "1", pce: "1", tolled: true },
            ],
          })
        }
      >
        Add a class
      </button>
      <FieldError path="classes" />
    </fieldset>
  );
}

function PerLinkBounds() {
  const f = form.value;
  const picked = [...selectedLinks.value].sort((a, b) => a - b);
  if (!picked.length) return <p class="hint">Pick links first.</p>;
  const upd = (link: number, k: "min" | "max", v: string) =>
    set({ linkBounds: { ...f.linkBounds, [link]: { ...(f.linkBounds[link] ?? { min: "", max: "" }), [k]: v } } });
  return (
    <table class="classes">
      <thead>
        <tr>
          <th scope="col">Link</th>
          <th scope="col">Min</th>
          <th scope="col">Max</th>
        </tr>
      </thead>
      <tbody>
        {picked.map((link) => (
          <tr key={link}>
            <th scope="row">{link}</th>
            <td>
              <label class="visually-hidden" for={`study-lb-${link}-min`}>{`Link ${link} lowest toll`}</label>
              <input
                id={`study-lb-${link}-min`}
                inputMode="decimal"
                placeholder={f.min}
                value={f.linkBounds[link]?.min ?? ""}
                onInput={(e) => upd(link, "min", (e.target as HTMLInputElement).value)}
              />
            </td>
            <td>
              <label class="visually-hidden" for={`study-lb-${link}-max`}>{`Link ${link} highest toll`}</label>
              <input
                id={`study-lb-${link}-max`}
                inputMode="decimal"
                placeholder={f.max}
                value={f.linkBounds[link]?.max ?? ""}
                onInput={(e) => upd(link, "max", (e.target as HTMLInputElement).value)}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Studio() {
  const f = form.value;
  const net = currentNetwork.value;
  const units = unitsOf(networkDetail.value?.units);
  const c = check.value;
  const moneyUnit = units.moneySource ?? "money";
  const preview = (s: string) => (s.trim() && Number.isFinite(Number(s)) ? ` = ${units.money(Number(s))}` : "");
  const others = (c?.issues ?? []).filter(
    (i) => !FIELD_PATHS.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`)),
  );
  if (net?.kind === "inline") {
    return (
      <>
        <p class="hint">This network belongs to a scenario file; the editor works on catalogue and built-in networks.</p>
      </>
    );
  }
  return (
    <form
      id="study-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save(true);
      }}
    >
      <p class="hint">
        On {net?.name ?? "the network chosen above"}. Tolls are in {moneyUnit}
        {units.moneySource === "cents" ? " (shown as dollars)" : units.moneySource ? "" : " (the unit the value of time is given in)"},
        times in {units.time}.
      </p>
      <label for="study-name">Study name</label>
      <input
        id="study-name"
        value={f.name}
        placeholder={`${networkId.value}-study`}
        onInput={(e) => set({ name: (e.target as HTMLInputElement).value })}
        {...invalid("name")}
      />
      <FieldError path="name" />

      <fieldset>
        <legend>Tollable links</legend>
        <label for="study-select">Choose them</label>
        <select
          id="study-select"
          value={f.select}
          onChange={(e) => {
            const select = (e.target as HTMLSelectElement).value as Select;
            clearDrawing();
            batch(() => {
              set({ select, cordon: null, uniform: select === "cordon" ? false : f.uniform });
              selectedLinks.value = new Set();
            });
          }}
        >
          <option value="links">Links I pick (click, box or list)</option>
          <option value="link-types">By link type</option>
          <option value="cordon">Cordon: draw an area, toll the links entering it</option>
        </select>
        {f.select === "links" && (
          <>
            <p class="hint">Click links on the map to add or remove them, or draw a box.</p>
            <div class="button-row">
              <button type="button" id="study-box" onClick={() => void boxSelect()}>
                Box select
              </button>
              <button type="button" id="study-clear" onClick={() => (selectedLinks.value = new Set())}>
                Clear
              </button>
            </div>
            <LinkList />
            <FieldError path="instrument.links" />
          </>
        )}
        {f.select === "link-types" && <LinkTypes />}
        {f.select === "cordon" && (
          <>
            <div class="button-row">
              <button type="button" id="study-draw-cordon" onClick={() => void drawCordon()}>
                {f.cordon ? "Redraw the cordon" : "Draw the cordon"}
              </button>
              {f.cordon && (
                <button
                  type="button"
                  onClick={() => {
                    clearDrawing();
                    set({ cordon: null });
                    selectedLinks.value = new Set();
                  }}
                >
                  Clear
                </button>
              )}
            </div>
            <FieldError path="instrument.nodes" />
            <FieldError path="instrument.polygon" />
          </>
        )}
        <p class="selection-count" id="study-count" data-count={selectedLinks.value.size} role="status">
          {selectedLinks.value.size} link{selectedLinks.value.size === 1 ? "" : "s"} tollable
          {c?.valid && c.variables !== undefined ? `, ${c.variables} toll${c.variables === 1 ? "" : "s"} to choose` : ""}
        </p>
      </fieldset>

      <fieldset>
        <legend>Toll bounds ({moneyUnit})</legend>
        <div class="settings-grid">
          <label for="study-min">Lowest toll</label>
          <input
            id="study-min"
            inputMode="decimal"
            value={f.min}
            onInput={(e) => set({ min: (e.target as HTMLInputElement).value })}
            {...invalid("instrument.bounds.min")}
          />
          <label for="study-max">Highest toll</label>
          <input
            id="study-max"
            inputMode="decimal"
            value={f.max}
            placeholder="required"
            onInput={(e) => set({ max: (e.target as HTMLInputElement).value })}
            {...invalid("instrument.bounds.max")}
          />
        </div>
        <p class="hint">
          {preview(f.min) || preview(f.max)
            ? `${units.money(Number(f.min) || 0)} to ${f.max.trim() ? units.money(Number(f.max)) : "…"}`
            : ""}
        </p>
        <FieldError path="instrument.bounds.min" />
        <FieldError path="instrument.bounds.max" />
        {f.select !== "cordon" && (
          <span class="check">
            <input
              id="study-uniform"
              type="checkbox"
              checked={f.uniform}
              onChange={(e) => set({ uniform: (e.target as HTMLInputElement).checked })}
            />
            <label for="study-uniform">One toll for all these links</label>
          </span>
        )}
        {f.select === "links" && !f.uniform && (
          <span class="check">
            <input
              id="study-per-link"
              type="checkbox"
              checked={f.perLink}
              onChange={(e) => set({ perLink: (e.target as HTMLInputElement).checked })}
            />
            <label for="study-per-link">Bounds per link</label>
          </span>
        )}
        {f.select === "links" && f.perLink && !f.uniform && <PerLinkBounds />}
        <FieldError path="instrument.linkBounds" />
        <FieldError path="instrument.uniform" />
      </fieldset>

      <fieldset>
        <legend>Goal and method</legend>
        <label for="study-objective">Objective</label>
        <select
          id="study-objective"
          value={f.objective}
          onChange={(e) => set({ objective: (e.target as HTMLSelectElement).value as Objective })}
          {...invalid("objective.type")}
        >
          <option value="tstt">Minimise total travel time (TSTT)</option>
          <option value="revenue">Maximise toll revenue</option>
          <option value="welfare">Maximise welfare</option>
          <option value="tstt-floor">Minimise travel time with a revenue floor</option>
        </select>
        <FieldError path="objective.type" />
        {f.objective === "tstt-floor" && (
          <>
            <label for="study-min-revenue">Revenue at least ({moneyUnit})</label>
            <input
              id="study-min-revenue"
              inputMode="decimal"
              value={f.minRevenue}
              onInput={(e) => set({ minRevenue: (e.target as HTMLInputElement).value })}
              {...invalid("objective.minRevenue")}
            />
            <FieldError path="objective.minRevenue" />
          </>
        )}
        <label for="study-method">Method</label>
        <select
          id="study-method"
          value={f.method}
          onChange={(e) => set({ method: (e.target as HTMLSelectElement).value as Method })}
          {...invalid("method.type")}
        >
          <option value="first-best">First-best (marginal-cost tolls on every link)</option>
          <option value="grid">Grid search (one or two tolls)</option>
          <option value="gradient">Gradient search (exact sensitivities)</option>
          <option value="derivative-free">Derivative-free (pattern search)</option>
        </select>
        <FieldError path="method.type" />
        {f.method === "grid" && (
          <>
            <label for="study-grid-points">Grid points per toll</label>
            <input
              id="study-grid-points"
              inputMode="numeric"
              value={f.gridPoints}
              onInput={(e) => set({ gridPoints: (e.target as HTMLInputElement).value })}
              {...invalid("method.points")}
            />
            <FieldError path="method.points" />
          </>
        )}
        {(f.method === "gradient" || f.method === "derivative-free") && (
          <>
            <label for="study-max-solves">Budget of equilibrium solves</label>
            <input
              id="study-max-solves"
              inputMode="numeric"
              value={f.maxSolves}
              onInput={(e) => set({ maxSolves: (e.target as HTMLInputElement).value })}
              {...invalid("method.maxSolves")}
            />
            <FieldError path="method.maxSolves" />
          </>
        )}
        {f.methodKept && (
          <p class="hint" id="study-method-kept" data-kept={String(f.methodKept.type === f.method)}>
            {f.methodKept.type === f.method
              ? "Kept from the opened file: "
              : `Not carried over to this method (the opened file's ${f.methodKept.type} settings): `}
            {Object.entries(f.methodKept.fields)
              .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
              .join(", ")}
          </p>
        )}
      </fieldset>

      <Classes />

      <label for="study-demand-scale">Demand scale (× the trip table)</label>
      <input
        id="study-demand-scale"
        inputMode="decimal"
        value={f.demandScale}
        onInput={(e) => set({ demandScale: (e.target as HTMLInputElement).value })}
        {...invalid("demandScale")}
      />
      <FieldError path="demandScale" />

      <DemandFields d={f.demand} set={(demand) => set({ demand })} units={units} FieldError={FieldError} invalid={invalid} />

      <details class="advanced">
        <summary>Advanced: follower settings</summary>
        <div class="settings-grid">
          <label for="study-algorithm">Algorithm</label>
          <select
            id="study-algorithm"
            value={f.algorithm}
            onChange={(e) => set({ algorithm: (e.target as HTMLSelectElement).value })}
            {...invalid("follower.algorithm")}
          >
            {ALGORITHMS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
          <label for="study-gap">Relative gap</label>
          <input
            id="study-gap"
            inputMode="decimal"
            value={f.gap}
            onInput={(e) => set({ gap: (e.target as HTMLInputElement).value })}
            {...invalid("follower.gap")}
          />
          <label for="study-max-seconds">Seconds per solve</label>
          <input
            id="study-max-seconds"
            inputMode="decimal"
            placeholder="no limit"
            value={f.maxSeconds}
            onInput={(e) => set({ maxSeconds: (e.target as HTMLInputElement).value })}
            {...invalid("follower.maxSeconds")}
          />
        </div>
        <FieldError path="follower.algorithm" />
        <FieldError path="follower.gap" />
        <FieldError path="follower.maxSeconds" />
      </details>

      <p
        id="study-check"
        class={c?.valid ? "check-ok" : "check-bad"}
        role="status"
        data-valid={checking.value || !c ? "" : String(c.valid)}
      >
        {checking.value
          ? "Checking…"
          : !c
            ? ""
            : c.valid
              ? "Ready: tollkit design accepts this study."
              : `${c.issues.length} problem${c.issues.length === 1 ? "" : "s"} to fix (shown beside the fields).`}
      </p>
      {others.length > 0 && (
        <ul class="field-error" id="study-other-errors">
          {others.map((i) => (
            <li key={i.path + i.message}>{i.path ? `${i.path}: ${i.message}` : i.message}</li>
          ))}
        </ul>
      )}
      <div class="button-row">
        <button type="submit" class="primary" id="study-run">
          Save and run
        </button>
        <button type="button" id="study-save" onClick={() => void save(false)}>
          Save
        </button>
        <button
          type="button"
          id="study-download"
          onClick={() => draft.value && download(fileName(f), `${JSON.stringify(draft.value, null, 2)}\n`)}
        >
          Download scenario
        </button>
      </div>
      <label for="study-open">Open a scenario file for editing</label>
      <input id="study-open" type="file" accept=".json,application/json" onChange={(e) => void openFile(e.target as HTMLInputElement)} />
      {status.value && (
        <p id="study-status" class={status.value.error ? "error" : "hint"} role="status">
          {status.value.text}
        </p>
      )}
    </form>
  );
}

/** Renders the study editor into `root` and ties it to the store. */
export function initStudio(root: HTMLElement): void {
  // The draft follows the form, the network and (for picked links) the selection.
  // (Only picked links feed the draft: for link types and cordons the selection is the leader's answer.)
  const none: ReadonlySet<number> = new Set();
  const scenario = computed(() => {
    const f = form.value;
    return networkId.value ? toScenario(f, networkId.value, f.select === "links" ? selectedLinks.value : none) : null;
  });
  effect(() => {
    draft.value = scenario.value;
  });
  effect(() => {
    const d = draft.value;
    if (d && currentNetwork.value?.kind !== "inline") scheduleCheck(d);
  });
  // A new network: its drawing, a fresh selection, the class its cost weights imply.
  let last = "";
  effect(() => {
    const id = networkId.value;
    const detail = networkDetail.value;
    // Wait for the network's detail: the default value of time comes from its cost weights.
    if (!id || id === last || (!detail && !INLINE.test(id)) || (detail && detail.id !== id)) return;
    last = id;
    clearDrawing();
    links.value = null;
    void geometry(id).then((g) => {
      if (networkId.value === id) links.value = g.links;
    });
    batch(() => {
      const opened = pendingOpen;
      pendingOpen = null;
      const base = opened?.form ?? { ...blankForm(), select: form.value.select };
      if (base.classes.length === 0) base.classes = PRESETS.one.rows();
      form.value = base;
      selectedLinks.value = new Set(opened?.links ?? []);
      check.value = null;
      lastChecked = "";
    });
  });
  // Clicks on the map pick links while the editor picks them one by one.
  effect(() => {
    picking.value = studioOpen.value && form.value.select === "links" && currentNetwork.value?.kind !== "inline";
  });
  render(
    <details
      id="studio-details"
      open={studioOpen.value}
      onToggle={(e) => {
        studioOpen.value = (e.target as HTMLDetailsElement).open;
        if (!studioOpen.value) clearDrawing();
      }}
    >
      <summary id="studio-summary">Design a study on the map</summary>
      <Studio />
    </details>,
    root,
  );
}
