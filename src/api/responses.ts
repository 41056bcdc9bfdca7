/**
 * @module
 * What the admin API answers, as zod schemas: the OpenAPI document describes each response with
 * them, the routers build their views against their types, and the designer (public/, type-checked
 * by tsconfig.public.json) imports the same types. A field renamed here breaks the router that
 * builds it and every view that reads it. Only zod, the shared enums and the modules that declare
 * the JSON columns' types (`import type {}`: db/schema's JsonColumns) are imported, so the browser's
 * type check can follow this file.
 */
import * as z from "zod";
import type {} from "../components/types";
import type {} from "../db/queries/run-log-search";
import { credentialComponents, credentialDetailsSchema, executionStatuses, flowStatuses } from "../db/schema";
import { flowCountersSchema, totalCountersSchema } from "../flows/counters";
import { draftSchema } from "../flows/definition";
import type {} from "../flows/message";
import { STEP_RUN_STATUSES } from "../flows/step-machine";

const isoTime = z.iso.datetime();

export const errorSchema = z.object({
	error: z.object({ message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() }),
});

export const flowSchema = z.object({
	id: z.string(),
	name: z.string(),
	status: z.enum(flowStatuses).describe("paused: accepts hooks, holds deliveries until resumed; stopped: accepts none"),
	/** The live version; null before the first publish. */
	version: z.number().int().nullable(),
	hookUrl: z.string(),
	draft: draftSchema.nullable(),
	counters: flowCountersSchema,
	createdAt: isoTime,
	updatedAt: isoTime,
});

export const credentialSchema = z.object({
	id: z.string(),
	component: z.enum(credentialComponents),
	name: z.string(),
	/** A webhook auth type (GET /api/components lists them) or `petstore`. */
	type: z.string(),
	/** The non-secret settings; secrets are write-only. */
	details: credentialDetailsSchema,
	previousSecretExpiresAt: isoTime.nullable(),
	createdAt: isoTime,
	updatedAt: isoTime,
	/** A webhook credential's test request: a shell command ({url}, {body} and secrets to fill in), or who must send it. */
	tryIt: z.union([z.object({ command: z.string(), hint: z.string() }), z.object({ testFrom: z.string() })]).optional(),
});

export const executionSummarySchema = z.object({
	id: z.string(),
	flowId: z.string(),
	version: z.number().int(),
	status: z.enum(executionStatuses),
	receivedAt: isoTime,
	finishedAt: isoTime.nullable(),
	attempts: z.number().int(),
	durationMs: z.number().int().nullable(),
	error: z.string().nullable(),
	/** The execution this one replays (bulk replay), or null. */
	replayOf: z.string().nullable(),
});

export const attemptSchema = z.object({
	n: z.number().int(),
	startedAt: isoTime,
	durationMs: z.number().int(),
	/** The Petstore's HTTP status; null when it did not answer or no call was made. */
	status: z.number().int().nullable(),
	outcome: z.enum(["succeeded", "retry", "failed"]),
	error: z.string().nullable(),
});

/** A recorded body cut to 32 KiB says so, with its real size. */
const recordedBodySize = { bodyBytes: z.number().int().optional(), truncated: z.literal(true).optional() };

const recordedRequestSchema = z.object({
	method: z.string(),
	url: z.string(),
	headers: z.record(z.string(), z.string()),
	body: z.unknown(),
	...recordedBodySize,
});
const recordedResponseSchema = z.object({
	status: z.number().int(),
	/** HTTP request steps: the answer's headers (never set-cookie). */
	headers: z.record(z.string(), z.string()).optional(),
	body: z.unknown(),
	...recordedBodySize,
});

/** One step run: one per step instance (per item inside a split), in the order they ran. */
export const stepRunSchema = z.object({
	id: z.string().describe("The step's id"),
	key: z.string().describe("The instance: the id, prefixed by the split items it runs in (lines[2]/price)"),
	path: z.string().describe("Where the step is in the definition (steps.2.steps.0)"),
	item: z.number().int().nullable().describe("The item index inside the innermost split, or null"),
	status: z.enum(STEP_RUN_STATUSES),
	/** The call as recorded (never a secret); null for logic steps and calls not made. */
	request: recordedRequestSchema.nullable(),
	response: recordedResponseSchema.nullable(),
	error: z.string().nullable(),
	attempts: z.number().int(),
	startedAt: z.number().int().describe("Epoch ms"),
	durationMs: z.number().int().nullable(),
});

export const executionSchema = executionSummarySchema.extend({
	/** The message; null once retention cleared it. */
	input: z.record(z.string(), z.unknown()).nullable(),
	/** The last call as recorded (never the key); null before a call, or when no call was made. */
	request: recordedRequestSchema.nullable(),
	response: recordedResponseSchema.nullable(),
	attempts: z.array(attemptSchema),
	/** Every step run, in the order they ran (empty for executions recorded before steps). */
	steps: z.array(stepRunSchema),
});

export const executionsPageSchema = z.object({
	executions: z.array(executionSummarySchema),
	/** Pass it back as `cursor` for the next page; null on the last. */
	nextCursor: z.string().nullable(),
	/** Every status an execution can have: the status filter's values. */
	statuses: z.array(z.enum(executionStatuses)).readonly(),
});

/** GET /api/flows: every flow, and the counters added up over them. */
export const flowListSchema = z.object({ flows: z.array(flowSchema), totals: totalCountersSchema });

export type { FlowCounters, TotalCounters } from "../flows/counters";
export { flowCountersSchema, totalCountersSchema };
export type FlowList = z.output<typeof flowListSchema>;
export type FlowView = z.output<typeof flowSchema>;
export type CredentialView = z.output<typeof credentialSchema>;
export type ExecutionSummary = z.output<typeof executionSummarySchema>;
export type AttemptView = z.output<typeof attemptSchema>;
export type ExecutionView = z.output<typeof executionSchema>;
export type StepRunView = z.output<typeof stepRunSchema>;
export type ExecutionsPage = z.output<typeof executionsPageSchema>;
export type ExecutionStatus = ExecutionSummary["status"];
