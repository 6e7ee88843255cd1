/**
 * The study editor's demand fields (issue 19, docs/elastic-demand.md): fixed demand (the trip
 * table) or elastic demand — its form (exponential, linear, power), its elasticity ε
 * (dimensionless) or its rate r (per time unit; exponential and linear only), pivoted on the
 * reference: the no-toll equilibrium of the study (the scenario schema's only pivot, so that
 * demand equals the trip table when there is no toll).
 *
 * The fields become the scenario's `demand`; the leader's own check (POST /api/scenarios/check,
 * the schema `tollkit design` reads) judges it and its problems are shown beside the fields by
 * their JSON paths (`demand.form`, `demand.elasticity`, `demand.rate`; others under the form). Nothing is
 * validated here.
 */
import type { ComponentType } from "preact";
import type { Units } from "../units.js";

/** The demand as the form holds it (numbers as typed). */
export interface DemandForm {
  type: "fixed" | "elastic";
  form: "exponential" | "linear" | "power";
  /** Which parameter is given. */
  by: "elasticity" | "rate";
  value: string;
  /** Overrides by zone and class of an opened scenario file, kept unchanged (the editor does not edit them). */
  overrides?: { zones?: unknown; classes?: unknown };
}

export function blankDemand(): DemandForm {
  return { type: "fixed", form: "exponential", by: "elasticity", value: "0.3" };
}

/** The scenario's `demand` (undefined: fixed, the default, left out of the file). */
export function demandToScenario(d: DemandForm, num: (s: string) => number | string | undefined): Record<string, unknown> | undefined {
  if (d.type === "fixed") return undefined;
  return { type: "elastic", form: d.form, [d.by]: num(d.value) ?? "", ...d.overrides };
}

/** The form of an opened scenario's `demand` (its zone and class overrides are carried over unchanged). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an opened file is read field by field
export function demandFromScenario(d: Record<string, any> | undefined): DemandForm {
  const f = blankDemand();
  if (!d || d.type !== "elastic") return f;
  f.type = "elastic";
  if (d.form === "linear" || d.form === "power" || d.form === "exponential") f.form = d.form;
  if (d.rate !== undefined) {
    f.by = "rate";
    f.value = String(d.rate);
  } else if (d.elasticity !== undefined) f.value = String(d.elasticity);
  if (d.zones !== undefined || d.classes !== undefined)
    f.overrides = { ...(d.zones !== undefined ? { zones: d.zones } : {}), ...(d.classes !== undefined ? { classes: d.classes } : {}) };
  return f;
}

/** The demand fieldset. `FieldError` and `invalid` are the editor's (problems by JSON path). */
export function DemandFields({
  d,
  set,
  units,
  FieldError,
  invalid,
}: {
  d: DemandForm;
  set: (d: DemandForm) => void;
  units: Units;
  FieldError: ComponentType<{ path: string; exact?: boolean }>;
  invalid: (path: string, exact?: boolean) => Record<string, unknown>;
}) {
  const up = (p: Partial<DemandForm>) => set({ ...d, ...p });
  return (
    <fieldset id="study-demand">
      <legend>Demand</legend>
      <label for="study-demand-type">Trips</label>
      <select
        id="study-demand-type"
        value={d.type}
        onChange={(e) => up({ type: (e.target as HTMLSelectElement).value as DemandForm["type"] })}
      >
        <option value="fixed">Fixed: every trip of the trip table is made</option>
        <option value="elastic">Elastic: tolls price some trips off the road</option>
      </select>
      {d.type === "elastic" && (
        <>
          <div class="settings-grid">
            <label for="study-demand-form">Demand function</label>
            <select
              id="study-demand-form"
              value={d.form}
              onChange={(e) => {
                const form = (e.target as HTMLSelectElement).value as DemandForm["form"];
                up({ form, by: form === "power" ? "elasticity" : d.by });
              }}
              {...invalid("demand.form")}
            >
              <option value="exponential">exponential q0·exp(−r(c − c0))</option>
              <option value="linear">linear q0·(1 − r(c − c0))</option>
              <option value="power">power q0·(c/c0)^(−ε)</option>
            </select>
            <label for="study-demand-by">Given by</label>
            <select
              id="study-demand-by"
              value={d.by}
              onChange={(e) => up({ by: (e.target as HTMLSelectElement).value as DemandForm["by"] })}
            >
              <option value="elasticity">elasticity ε (dimensionless)</option>
              <option value="rate" disabled={d.form === "power"}>
                rate r (per {units.time}, the slope / q0)
              </option>
            </select>
            <label for="study-demand-value">{d.by === "rate" ? `Rate (per ${units.time})` : "Elasticity"}</label>
            <input
              id="study-demand-value"
              inputMode="decimal"
              value={d.value}
              onInput={(e) => up({ value: (e.target as HTMLInputElement).value })}
              {...invalid(`demand.${d.by}`)}
            />
          </div>
          <FieldError path="demand.form" />
          <FieldError path={`demand.${d.by}`} />
          {d.overrides && (
            <p class="hint" id="study-demand-overrides">
              Kept from the opened file: its overrides by{" "}
              {[d.overrides.zones !== undefined && "zone", d.overrides.classes !== undefined && "class"].filter(Boolean).join(" and ")}{" "}
              (edit them in the file).
            </p>
          )}
          <FieldError path="demand.zones" />
          <FieldError path="demand.classes" />
          <p class="hint" id="study-demand-reference">
            Reference (q0, c0): the trip table at the no-toll equilibrium cost of each OD pair, solved with the follower settings below, so
            that demand equals the trip table when there is no toll.
          </p>
        </>
      )}
    </fieldset>
  );
}
