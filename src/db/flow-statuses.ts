/**
 * @module
 * The flow statuses, apart from schema.ts so the edge Worker (which loads no drizzle or zod) reads
 * the same list the table and the admin API use.
 */

/** paused: accepts hooks like running, but holds its deliveries until resumed (stopped: accepts none, delivers what it has). */
export const flowStatuses = ["draft", "running", "paused", "stopped"] as const;
export type FlowStatus = (typeof flowStatuses)[number];
/** The statuses in which /hook accepts requests. */
export const acceptingStatuses: readonly FlowStatus[] = ["running", "paused"];
