/**
 * @module
 * A flow definition: the draft being edited and, once published, an immutable version.
 * Drafts may be incomplete while the designer builds them; publishing requires the full shape.
 */
import * as z from "zod";
import { ROUTER_MODES, SPLIT_CONCURRENCY } from "../components/logic";
import { MAX_EXPRESSION_LENGTH } from "../mapping/evaluate";
import { MAX_NAME_LENGTH } from "./names";
import { stepTreeProblems } from "./step-tree";
import { STEP_ID_PATTERN, STEP_LIMITS, type StepDefinition } from "./step-types";

export type { RouteDefinition, StepDefinition } from "./step-types";

const expression = z.string().max(MAX_EXPRESSION_LENGTH, `Expressions are limited to ${MAX_EXPRESSION_LENGTH} characters`);
const text = (max: number) => z.string().max(max);
const sample = z.record(z.string(), z.unknown());
/** A step's kept sample (the designer's, for later mappings) is bounded so a draft stays small. */
const MAX_STEP_SAMPLE_CHARS = 64 * 1024;

export const createPetMappingSchema = z
	.object({
		name: expression.optional(),
		status: expression.optional(),
		id: expression.optional(),
		category: expression.optional(),
		tags: expression.optional(),
		photoUrls: expression.optional(),
	})
	.strict();

export const retryPolicySchema = z
	.object({
		maxAttempts: z.number().int().min(1).max(50),
		baseDelayMs: z.number().int().min(100).max(3_600_000),
		maxDelayMs: z.number().int().min(100).max(86_400_000),
	})
	.partial()
	.strict();

/**
 * How a flow delivers its executions (issue 11). Every limit and default is defined here once and
 * served to the designer by GET /api/flow-settings.
 */
export const DELIVERY_ORDERINGS = [
	{
		id: "flow",
		title: "Flow order",
		guarantees: "Every execution in the order the hooks were accepted, one at a time.",
		costs: "Throughput is one over the round trip of an execution's calls; a retrying execution holds up all the others.",
	},
	{
		id: "key",
		title: "Order per key",
		guarantees:
			"Executions with the same key in acceptance order, one at a time per key; different keys in parallel up to the concurrency.",
		costs:
			"A key computed per execution; a retrying execution holds up its own key only. Executions whose key fails or is empty share one lane.",
	},
	{
		id: "none",
		title: "No order",
		guarantees: "Up to the concurrency in parallel, each still exactly once.",
		costs: "No order at all, not even between two executions of one entity.",
	},
] as const;
export type DeliveryOrdering = (typeof DELIVERY_ORDERINGS)[number]["id"];
export const DEFAULT_ORDERING: DeliveryOrdering = "flow";
export const CONCURRENCY_LIMITS = { min: 1, max: 100, default: 10 } as const;
export const RATE_LIMIT_LIMITS = { requests: { min: 1, max: 1_000_000 }, perSeconds: { min: 1, max: 3600 } } as const;
/** What the designer fills in when a destination rate limit is switched on (none is the default). */
export const SUGGESTED_DELIVERY_RATE_LIMIT = { requests: 10, perSeconds: 1 } as const;

const orderingIds = DELIVERY_ORDERINGS.map((o) => o.id) as [DeliveryOrdering, ...DeliveryOrdering[]];

export const rateLimitSchema = z
	.object({
		requests: z.number().int().min(RATE_LIMIT_LIMITS.requests.min).max(RATE_LIMIT_LIMITS.requests.max),
		perSeconds: z.number().int().min(RATE_LIMIT_LIMITS.perSeconds.min).max(RATE_LIMIT_LIMITS.perSeconds.max),
	})
	.strict();

const deliveryShape = {
	ordering: z
		.enum(orderingIds, { error: `Ordering is one of ${orderingIds.join(", ")}` })
		.describe(`flow (default): one at a time in acceptance order; key: in order per key, keys in parallel; none: parallel, no order`)
		.optional(),
	key: expression
		.trim()
		.min(1, 'The key expression is empty: write one, e.g. petname or _headers."x-shop-id"')
		.describe('JSONata over the message, for ordering "key"; failing or empty: the one "no key" lane')
		.optional(),
	concurrency: z
		.number()
		.int("Concurrency is a whole number")
		.min(CONCURRENCY_LIMITS.min, `Concurrency is at least ${CONCURRENCY_LIMITS.min}`)
		.max(CONCURRENCY_LIMITS.max, `Concurrency is at most ${CONCURRENCY_LIMITS.max}`)
		.describe(`Executions in flight at once for "key" and "none" (default ${CONCURRENCY_LIMITS.default}); "flow" is always 1`)
		.optional(),
	/** Calls the flow makes, not hook requests (that is the definition's own `rateLimit`). */
	rateLimit: rateLimitSchema
		.describe(
			"Destination rate limit: at most `requests` calls start per `perSeconds` (every call of every step), across the flow's shards",
		)
		.optional(),
};

/** A draft may hold a key-ordered delivery without its key yet; publishing may not. */
export const deliveryDraftSchema = z.object(deliveryShape).strict();

export const deliverySchema = deliveryDraftSchema.superRefine((delivery, ctx) => {
	const ordering = delivery.ordering ?? DEFAULT_ORDERING;
	if (ordering === "key" && !delivery.key) {
		ctx.addIssue({ code: "custom", path: ["key"], message: 'Ordering "key" needs a key expression, e.g. petname or _headers."x-shop-id"' });
	}
	if (ordering !== "key" && delivery.key !== undefined) {
		ctx.addIssue({ code: "custom", path: ["key"], message: `A key applies only to ordering "key", not "${ordering}": remove it` });
	}
	if (ordering === "flow" && delivery.concurrency !== undefined && delivery.concurrency !== 1) {
		ctx.addIssue({
			code: "custom",
			path: ["concurrency"],
			message: 'Ordering "flow" delivers one execution at a time: choose ordering "key" or "none" for a concurrency above 1',
		});
	}
});

export type DeliverySettings = z.infer<typeof deliveryDraftSchema>;

/** The delivery a version runs with, defaults filled in (versions published before issue 11 have none). */
export function resolveDelivery(delivery: DeliverySettings | undefined): {
	ordering: DeliveryOrdering;
	key: string | null;
	concurrency: number;
	rateLimit: { requests: number; perSeconds: number } | null;
} {
	const ordering = delivery?.ordering ?? DEFAULT_ORDERING;
	return {
		ordering,
		key: ordering === "key" ? (delivery?.key ?? null) : null,
		concurrency: ordering === "flow" ? 1 : (delivery?.concurrency ?? CONCURRENCY_LIMITS.default),
		rateLimit: delivery?.rateLimit ?? null,
	};
}

const triggerShape = {
	component: z.literal("webhook"),
	sample: sample.optional(),
	name: text(MAX_NAME_LENGTH).optional(),
	note: text(2000).optional(),
	/** Client IP headers (cf-connecting-ip, x-forwarded-for, …) are dropped from `_headers` unless this is true. */
	keepClientIpHeaders: z.boolean().optional(),
};

export const stepIdSchema = z
	.string()
	.regex(STEP_ID_PATTERN, "A step id is a lower-case letter, then up to 39 lower-case letters, digits or _ (e.g. crm_lookup)");

const templateText = z.string().max(MAX_EXPRESSION_LENGTH, `Templates are limited to ${MAX_EXPRESSION_LENGTH} characters`);
const templateMap = z
	.record(
		z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, "A header or parameter name may not contain spaces or separators"),
		templateText,
	)
	.refine((map) => Object.keys(map).length <= 50, "At most 50 entries");

export const stepSchema: z.ZodType<StepDefinition> = z.lazy(() =>
	z
		.object({
			id: stepIdSchema.optional(),
			// Which components and actions exist is the catalogue's (checked by the API: flows/publish-steps.ts draftStepProblems).
			component: z.string().min(1).max(64),
			action: z.string().min(1).max(64),
			name: text(MAX_NAME_LENGTH).optional(),
			note: text(2000).optional(),
			sample: z
				.unknown()
				.refine((value) => (JSON.stringify(value) ?? "").length <= MAX_STEP_SAMPLE_CHARS, "A step's sample is kept up to 64 KiB of JSON")
				.optional(),
			retryPolicy: retryPolicySchema.optional(),
			credentialId: z.string().max(64).nullish(),
			mapping: z.record(z.string(), expression.optional()).optional(),
			method: z.string().max(16).optional(),
			url: templateText.optional(),
			headers: templateMap.optional(),
			query: templateMap.optional(),
			body: expression.optional(),
			condition: expression.optional(),
			expression: expression.optional(),
			items: expression.optional(),
			concurrency: z.number().int("Items at once is a whole number").min(SPLIT_CONCURRENCY.min).max(SPLIT_CONCURRENCY.max).optional(),
			mode: z.enum(ROUTER_MODES).optional(),
			routes: z
				.array(
					z
						.object({ name: text(MAX_NAME_LENGTH).min(1, "A route needs a name"), condition: expression, steps: z.array(stepSchema) })
						.strict(),
				)
				.max(STEP_LIMITS.maxSteps)
				.optional(),
			otherwise: z.array(stepSchema).max(STEP_LIMITS.maxSteps).optional(),
			steps: z.array(stepSchema).max(STEP_LIMITS.maxSteps).optional(),
		})
		.strict(),
);

/** `rateLimit` bounds hook requests at the ingress; `delivery.rateLimit` bounds calls to the Petstore. */
const extrasShape = { retryPolicy: retryPolicySchema.optional(), rateLimit: rateLimitSchema.optional() };

const stepsSchema = z
	.array(stepSchema)
	.max(STEP_LIMITS.maxSteps, `A flow has at most ${STEP_LIMITS.maxSteps} steps`)
	.superRefine((steps, ctx) => {
		for (const problem of stepTreeProblems(steps)) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
	});

export const draftSchema = z
	.object({
		trigger: z.object({ ...triggerShape, credentialId: z.string().nullish() }).strict(),
		steps: stepsSchema,
		...extrasShape,
		delivery: deliveryDraftSchema.optional(),
	})
	.strict();

export const publishableSchema = z.object({
	trigger: z.object({ ...triggerShape, credentialId: z.string({ error: "Choose a webhook credential" }) }),
	// An empty list says what the tutorial's flow needs; a flow may have up to STEP_LIMITS.maxSteps.
	steps: stepsSchema.min(1, "A flow needs exactly one action step"),
	...extrasShape,
	delivery: deliverySchema.optional(),
});

export type Draft = z.infer<typeof draftSchema>;
/** A published version. */
export type FlowDefinition = z.infer<typeof publishableSchema>;

declare module "../db/schema" {
	interface JsonColumns {
		/** flows.draft: the definition being edited. */
		draft: Draft;
		/** flow_versions.definition: a published, immutable version. */
		definition: FlowDefinition;
	}
}
