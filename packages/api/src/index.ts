/** @tollkit/api — HTTP API. */
export const API_PLACEHOLDER = true;
