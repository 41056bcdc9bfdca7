/**
 * @module
 * A flow's counters, defined once: the flow object keeps them, the API answers them (and the
 * OpenAPI document describes them), the designer shows them.
 */
import * as z from "zod";

export const flowCountersSchema = z.object({
	received: z.number().int(),
	succeeded: z.number().int(),
	failed: z.number().int(),
	/** Calls to the Petstore under way right now. */
	inFlight: z.number().int(),
	/** Hook requests refused with 401, as the ingress reported them. */
	authFailures: z.number().int(),
	/** Providers' handshakes (Slack, Zoom, Meta) the ingress answered without an execution. */
	handshakes: z.number().int(),
});

export type FlowCounters = z.output<typeof flowCountersSchema>;
