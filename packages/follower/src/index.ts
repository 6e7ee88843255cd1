/**
 * @tollkit/follower — the followers of the Stackelberg game: Wardrop user equilibrium and
 * system optimum (Frank-Wolfe family and a bush-based algorithm), user classes, equilibrium
 * sensitivities.
 */
export * from "./types.js";
export * from "./cost-model.js";
export * from "./bush.js";
export * from "./options.js";
export * from "./fw.js";
export * from "./solve.js";
export * from "./classes.js";
export * from "./tolls.js";
export * from "./sensitivity.js";
export * from "./class-schema.js";
