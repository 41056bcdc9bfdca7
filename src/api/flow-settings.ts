import { Hono } from "hono";
import { acceptingStatuses } from "../db/schema";
import { MAX_FLOW_HOLD_MS, MAX_SHARDS, REORDER_WINDOW_MS } from "../delivery/flow-control";
import {
	CONCURRENCY_LIMITS,
	DEFAULT_ORDERING,
	DELIVERY_ORDERINGS,
	RATE_LIMIT_LIMITS,
	SUGGESTED_DELIVERY_RATE_LIMIT,
} from "../flows/definition";
import { STEP_LIMITS } from "../flows/step-types";

/**
 * The limits and defaults of a flow's settings, served so the designer shows exactly what the
 * API enforces. Two different rate limits: `rateLimit` bounds hook requests at the ingress,
 * `delivery.rateLimit` bounds calls to the Petstore.
 */
export const flowSettings = {
	delivery: {
		orderings: DELIVERY_ORDERINGS,
		defaultOrdering: DEFAULT_ORDERING,
		concurrency: CONCURRENCY_LIMITS,
		rateLimit: { ...RATE_LIMIT_LIMITS, suggested: SUGGESTED_DELIVERY_RATE_LIMIT },
		/** What the engine does with them: an ordered execution's wait for earlier ones, shards per flow, the longest Retry-After hold. */
		reorderWindowMs: REORDER_WINDOW_MS,
		maxShards: MAX_SHARDS,
		maxFlowHoldMs: MAX_FLOW_HOLD_MS,
	},
	hookRateLimit: RATE_LIMIT_LIMITS,
	/** Steps in all (nested ones included) and how deep they nest: the step list offers Add step within these. */
	steps: STEP_LIMITS,
	/** The flow statuses in which the hook URL accepts requests. */
	acceptingStatuses,
} as const;

export const flowSettingsRoutes = new Hono<{ Bindings: Env }>().get("/", (c) => c.json(flowSettings));
