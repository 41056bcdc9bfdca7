import * as z from "zod";
import { MAX_EXPRESSION_LENGTH } from "../mapping/evaluate";
import { MAX_NAME_LENGTH } from "./names";

/**
 * A flow definition: the draft being edited and, once published, an immutable version.
 * Drafts may be incomplete while the designer builds them; publishing requires the full shape.
 */

const expression = z.string().max(MAX_EXPRESSION_LENGTH, `Expressions are limited to ${MAX_EXPRESSION_LENGTH} characters`);
const text = (max: number) => z.string().max(max);
const sample = z.record(z.string(), z.unknown());

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

export const rateLimitSchema = z
	.object({ requests: z.number().int().min(1).max(1_000_000), perSeconds: z.number().int().min(1).max(3600) })
	.strict();

const triggerShape = {
	component: z.literal("webhook"),
	sample: sample.optional(),
	name: text(MAX_NAME_LENGTH).optional(),
	note: text(2000).optional(),
	/** Client IP headers (cf-connecting-ip, x-forwarded-for, …) are dropped from `_headers` unless this is true. */
	keepClientIpHeaders: z.boolean().optional(),
};
const stepShape = {
	component: z.literal("petstore"),
	action: z.literal("createPet"),
	mapping: createPetMappingSchema,
	name: text(MAX_NAME_LENGTH).optional(),
	note: text(2000).optional(),
};
const extrasShape = { retryPolicy: retryPolicySchema.optional(), rateLimit: rateLimitSchema.optional() };

export const draftSchema = z
	.object({
		trigger: z.object({ ...triggerShape, credentialId: z.string().nullish() }).strict(),
		steps: z
			.array(z.object({ ...stepShape, credentialId: z.string().nullish(), mapping: createPetMappingSchema.default({}) }).strict())
			.max(1),
		...extrasShape,
	})
	.strict();

export const publishableSchema = z.object({
	trigger: z.object({ ...triggerShape, credentialId: z.string({ error: "Choose a webhook credential" }) }),
	steps: z
		.array(z.object({ ...stepShape, credentialId: z.string({ error: "Choose a Petstore credential" }) }))
		.length(1, "A flow needs exactly one action step"),
	...extrasShape,
});

export type Draft = z.infer<typeof draftSchema>;
export type FlowDefinition = z.infer<typeof publishableSchema>;

declare module "../db/schema" {
	interface JsonColumns {
		/** flows.draft: the definition being edited. */
		draft: Draft;
		/** flow_versions.definition: a published, immutable version. */
		definition: FlowDefinition;
	}
}
