/**
 * @tollkit/leader — the leader of the Stackelberg game: toll design. Scenarios, instruments
 * (which links may be tolled), objectives (TSTT, revenue, welfare, TSTT with a revenue floor),
 * first-best marginal-cost tolls, grid search, gradient search driven by equilibrium
 * sensitivities and a derivative-free pattern search.
 */
export * from "./scenario.js";
export * from "./instrument.js";
export * from "./objectives.js";
export * from "./evaluator.js";
export * from "./first-best.js";
export * from "./search.js";
export * from "./grid.js";
export * from "./gradient.js";
export * from "./pattern.js";
export * from "./check.js";
export * from "./design.js";
