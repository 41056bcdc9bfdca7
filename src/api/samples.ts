/**
 * @module
 * Samples: the one-time sample URL, the mapping preview and "Retrieve sample".
 */
import { Hono } from "hono";
import * as z from "zod";
import { buildCreatePetBody } from "../components/petstore/create-pet";
import { randomHexId } from "../crypto/encoding";
import { signSampleToken } from "../crypto/sample-token";
import { loadPetstoreCredential } from "../db/queries/flows";
import { createPetMappingSchema, stepSchema } from "../flows/definition";
import { computeDeliveryKey } from "../flows/delivery-key";
import { runStep } from "../flows/run-step";
import { previewStepSample, retrieveStepSample } from "../flows/step-sample";
import { applyMapping, MAX_EXPRESSION_LENGTH } from "../mapping/evaluate";
import { ApiError, valid } from "./errors";
import { findFlow } from "./flows";

const MAX_WAIT_SECONDS = 25;
const sample = z.record(z.string(), z.unknown());
export const sampleWaitQuery = z.object({ wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(MAX_WAIT_SECONDS) });
export const stepSampleSchema = z
	.object({
		sample: sample.optional(),
		mapping: createPetMappingSchema.optional(),
		credentialId: z.string().optional(),
		/** Any step (the draft's at `:index` when absent): nested steps are reached this way. */
		step: stepSchema.optional(),
		/** The earlier steps' samples, by id: what `$steps.<id>` is. */
		steps: z.record(z.string(), z.unknown()).optional(),
		/** Inside a split: the item and its position. */
		item: z.unknown().optional(),
		index: z.number().int().min(0).optional(),
	})
	.strict();
/** The designer's live preview of any step: the context as the engine builds it, no call made. */
export const stepPreviewSchema = z
	.object({
		step: stepSchema,
		sample: sample.default({}),
		steps: z.record(z.string(), z.unknown()).optional(),
		item: z.unknown().optional(),
		index: z.number().int().min(0).optional(),
	})
	.strict();
export const mappingPreviewSchema = z.object({ sample: sample.default({}), mapping: createPetMappingSchema }).strict();
export const deliveryKeyPreviewSchema = z
	.object({
		sample: sample.default({}),
		key: z.string().max(MAX_EXPRESSION_LENGTH, `Expressions are limited to ${MAX_EXPRESSION_LENGTH} characters`),
	})
	.strict();

async function preview(mapping: Record<string, string | undefined>, message: unknown) {
	const mapped = await applyMapping(mapping, message);
	if (mapped.errors.length > 0) return { request: null, errors: mapped.errors };
	const built = buildCreatePetBody(mapped.values);
	return built.ok ? { request: built.body, errors: [] } : { request: null, errors: [built.error] };
}

/** What a step's expressions see: `$steps`, `$execution` and, inside a split, `$item` and `$index`. */
function sampleVariables(
	flow: { id: string; liveVersion: number | null },
	body: { steps?: Record<string, unknown>; item?: unknown; index?: number },
) {
	const scope = body.index === undefined ? {} : { item: body.item, index: body.index };
	return {
		steps: body.steps ?? {},
		execution: { id: "0".repeat(32), flowId: flow.id, version: flow.liveVersion ?? 0, receivedAt: new Date().toISOString() },
		...scope,
	};
}

export const flowSamplesRoutes = new Hono<{ Bindings: Env }>()
	.post("/:id/steps/preview", valid("json", stepPreviewSchema), async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const body = c.req.valid("json");
		return c.json({ preview: await previewStepSample(c.env, body.step, { message: body.sample, variables: sampleVariables(flow, body) }) });
	})
	.post("/:id/sample-request", async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const { token, expiresAt } = await c.env.FLOW.getByName(flow.id).createSampleRequest(flow.id);
		const signed = await signSampleToken(flow.id, token, c.env);
		return c.json({ url: `${new URL(c.req.url).origin}/sample/${flow.id}/${signed}`, expiresAt: new Date(expiresAt).toISOString() }, 201);
	})
	.get("/:id/sample-request", valid("query", sampleWaitQuery), async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const { sample: received, expiresAt } = await c.env.FLOW.getByName(flow.id).awaitSample(c.req.valid("query").wait * 1000);
		return c.json({ sample: received, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() });
	})
	.post("/:id/steps/:index/sample", valid("json", stepSampleSchema), async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const index = Number(c.req.param("index"));
		const { draft } = flow;
		const body = c.req.valid("json");
		const step = body.step ?? draft?.steps[index];
		// Any step but the tutorial's Create a Pet: run with the context the engine would give it.
		if (step && (body.step || step.component !== "petstore" || step.action !== "createPet" || body.steps)) {
			const input = body.sample ?? draft?.trigger.sample;
			if (!input) throw new ApiError(422, "There is no trigger sample yet: add, send or generate one first");
			return c.json({
				sample: await retrieveStepSample(
					c.env,
					{ ...step, credentialId: body.credentialId ?? step.credentialId },
					{ message: input, variables: sampleVariables(flow, body) },
				),
			});
		}
		const input = body.sample ?? draft?.trigger.sample;
		const credentialId = body.credentialId ?? step?.credentialId;
		const mapping = body.mapping ?? step?.mapping;
		if (!input) throw new ApiError(422, "There is no trigger sample yet: add, send or generate one first");
		if (!mapping) throw new ApiError(422, `The draft has no step ${index}`);
		if (!credentialId) throw new ApiError(422, "Choose a Petstore credential for this step first");
		const checked = await preview(mapping, input);
		if (!checked.request) throw new ApiError(422, checked.errors.join("; "), checked.errors);
		const credential = await loadPetstoreCredential(c.env, credentialId, Date.now());
		if (!credential) throw new ApiError(422, `Petstore credential ${credentialId} does not exist`);
		const outcome = await runStep({ mapping }, input, credential, randomHexId());
		return c.json({
			sample: { request: outcome.request, response: outcome.response, error: outcome.kind === "succeeded" ? null : outcome.error },
		});
	});

export const mappingsRoutes = new Hono<{ Bindings: Env }>()
	.post("/preview", valid("json", mappingPreviewSchema), async (c) => {
		const { sample: input, mapping } = c.req.valid("json");
		return c.json(await preview(mapping, input));
	})
	// The Delivery section's live preview: the ordering key this sample would get (null: the "no key" lane).
	.post("/delivery-key", valid("json", deliveryKeyPreviewSchema), async (c) => {
		const { sample: input, key } = c.req.valid("json");
		if (key.trim() === "") return c.json({ key: null, error: "The key expression is empty" });
		return c.json(await computeDeliveryKey(key, input));
	});
