/**
 * @module
 * A flow's counters, defined once: the flow objects keep them, the API answers them (and the
 * OpenAPI document describes them), the designer shows them.
 */
import * as z from "zod";

/** The counters that add up over flows (`totals` in GET /api/flows). */
export const totalCountersSchema = z.object({
	received: z.number().int().describe("Executions accepted"),
	succeeded: z.number().int(),
	failed: z.number().int(),
	filtered: z
		.number()
		.int()
		.optional()
		.describe("Executions a filter step ended (never alerted); present once there is one, so counters read before steps keep their shape"),
	inFlight: z.number().int().describe("Being delivered right now (a call to the Petstore in progress)"),
	authFailures: z.number().int().describe("Hook requests refused with 401"),
	handshakes: z.number().int().describe("Providers' handshakes (Slack, Zoom, Meta) answered without an execution"),
	queued: z.number().int().describe("Accepted, not yet finished (waiting, paused, retrying or being delivered)"),
	oldestQueuedAt: z.number().int().nullable().describe("Acceptance time (epoch ms) of the oldest queued execution; null when none"),
});

export const flowCountersSchema = totalCountersSchema.extend({
	paused: z.boolean().describe("The flow's objects hold its deliveries (Pause)"),
});

export type FlowCounters = z.output<typeof flowCountersSchema>;
export type TotalCounters = z.output<typeof totalCountersSchema>;
