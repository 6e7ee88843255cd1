/** @tollkit/leader — toll design. */
export const LEADER_PLACEHOLDER = true;
