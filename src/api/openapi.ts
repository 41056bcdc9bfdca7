/**
 * @module
 * The OpenAPI 3.1 document of /api. Request schemas are the routers' own zod schemas converted by
 * zod 4's z.toJSONSchema (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses); the route table
 * below is checked against the Hono app's routes by test/integration/ops.test.ts.
 */
import { Hono } from "hono";
import type { ZodObject, ZodType } from "zod";
import * as z from "zod";
import { createPetMappingSchema, deliveryDraftSchema, draftSchema, stepSchema } from "../flows/definition";
import { alertTargetSchema } from "./alert-targets";
import { createSchema, credentialsQuery, updateSchema } from "./credentials";
import { listQuery } from "./executions";
import { exportDocumentSchema, importQuerySchema } from "./export-import";
import { flowNameSchema } from "./flows";
import { replaySchema } from "./jobs";
import {
	credentialSchema,
	errorSchema,
	executionSchema,
	executionSummarySchema,
	executionsPageSchema,
	flowCountersSchema,
	flowListSchema,
	flowSchema,
	stepRunSchema,
	totalCountersSchema,
} from "./responses";
import { deliveryKeyPreviewSchema, mappingPreviewSchema, sampleWaitQuery, stepPreviewSchema, stepSampleSchema } from "./samples";
import { statsQuery } from "./stats";

/** The answers that wrap a resource, named so the document can point at them (their parts are api/responses.ts). */
const flowAnswer = z.object({ flow: flowSchema });
const credentialAnswer = z.object({ credential: credentialSchema });
const credentialList = z.object({ credentials: z.array(credentialSchema) });
const executionAnswer = z.object({ execution: executionSchema });

const schemas = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
	Error: errorSchema,
	CreateCredential: createSchema,
	UpdateCredential: updateSchema,
	FlowName: flowNameSchema,
	FlowDraft: draftSchema,
	FlowStep: stepSchema,
	FlowDelivery: deliveryDraftSchema,
	FlowCounters: flowCountersSchema,
	TotalCounters: totalCountersSchema,
	Flow: flowSchema,
	FlowAnswer: flowAnswer,
	FlowList: flowListSchema,
	Credential: credentialSchema,
	CredentialAnswer: credentialAnswer,
	CredentialList: credentialList,
	ExecutionSummary: executionSummarySchema,
	Execution: executionSchema,
	StepRun: stepRunSchema,
	ExecutionAnswer: executionAnswer,
	ExecutionsPage: executionsPageSchema,
	DeliveryKeyPreview: deliveryKeyPreviewSchema,
	CreatePetMapping: createPetMappingSchema,
	StepSample: stepSampleSchema,
	StepPreview: stepPreviewSchema,
	MappingPreview: mappingPreviewSchema,
	ExportDocument: exportDocumentSchema,
	AlertTarget: alertTargetSchema,
	Replay: replaySchema,
})) {
	schemas.add(schema, { id });
}

type Method = "get" | "post" | "put" | "patch" | "delete";

interface Operation {
	method: Method;
	/** Hono's spelling, `:param`, exactly as app.routes lists it. */
	path: string;
	tag: string;
	summary: string;
	query?: ZodObject;
	body?: ZodType;
	/** The success status and what it answers; errors share the Error schema. */
	ok: [status: 200 | 201 | 202 | 204, description: string];
	/** The success answer's media type when it is not JSON. */
	mediaType?: string;
	/** The answer's schema when it is documented (a registered component). */
	response?: ZodType;
}

const operations: readonly Operation[] = [
	{ method: "get", path: "/api/components", tag: "components", summary: "The component catalogue", ok: [200, "{components}"] },
	{
		method: "get",
		path: "/api/credentials",
		tag: "credentials",
		summary: "List credentials (no secrets)",
		query: credentialsQuery,
		ok: [200, "{credentials}"],
		response: credentialList,
	},
	{
		method: "post",
		path: "/api/credentials",
		tag: "credentials",
		summary:
			"Create a credential: webhook (trigger), petstore or http (actions); a Petstore key is verified first, an OAuth2 client by fetching a token (422 when refused)",
		body: createSchema,
		ok: [201, "{credential}"],
		response: credentialAnswer,
	},
	{
		method: "get",
		path: "/api/credentials/:id",
		tag: "credentials",
		summary: "Read a credential",
		ok: [200, "{credential}"],
		response: credentialAnswer,
	},
	{
		method: "patch",
		path: "/api/credentials/:id",
		tag: "credentials",
		summary:
			"Rename or rotate; the previous secret stays valid for previousValidForSeconds. A new Petstore baseUrl needs apiKey in the same request, a new HTTP baseUrl needs auth; flow objects using it forget their cached copy at once",
		body: updateSchema,
		ok: [200, "{credential}"],
		response: credentialAnswer,
	},
	{
		method: "delete",
		path: "/api/credentials/:id",
		tag: "credentials",
		summary: "Delete (409 while a running flow uses it)",
		ok: [204, "Deleted"],
	},
	{
		method: "get",
		path: "/api/flow-settings",
		tag: "flows",
		summary: "Limits and defaults of a flow's settings: delivery orderings, concurrency, the two rate limits",
		ok: [
			200,
			"{delivery: {orderings, defaultOrdering, concurrency, rateLimit, reorderWindowMs, maxShards, maxFlowHoldMs}, hookRateLimit, acceptingStatuses}",
		],
	},
	{
		method: "get",
		path: "/api/flows",
		tag: "flows",
		summary: "List flows with counters, and the totals over all flows",
		ok: [200, "{flows, totals}"],
		response: flowListSchema,
	},
	{
		method: "post",
		path: "/api/flows",
		tag: "flows",
		summary: "Create a flow",
		body: flowNameSchema,
		ok: [201, "{flow}"],
		response: flowAnswer,
	},
	{ method: "get", path: "/api/flows/:id", tag: "flows", summary: "Read a flow", ok: [200, "{flow}"], response: flowAnswer },
	{
		method: "patch",
		path: "/api/flows/:id",
		tag: "flows",
		summary: "Rename a flow",
		body: flowNameSchema,
		ok: [200, "{flow}"],
		response: flowAnswer,
	},
	{ method: "delete", path: "/api/flows/:id", tag: "flows", summary: "Stop and delete a flow", ok: [204, "Deleted"] },
	{
		method: "put",
		path: "/api/flows/:id/draft",
		tag: "flows",
		summary: "Save the draft definition",
		body: draftSchema,
		ok: [200, "{flow}"],
	},
	{ method: "post", path: "/api/flows/:id/publish", tag: "flows", summary: "Publish the draft as a new version", ok: [200, "{version}"] },
	{
		method: "post",
		path: "/api/flows/:id/start",
		tag: "flows",
		summary: "Start (409 before the first publish); on a paused flow, the same as Resume",
		ok: [200, "{flow}"],
		response: flowAnswer,
	},
	{
		method: "post",
		path: "/api/flows/:id/stop",
		tag: "flows",
		summary: "Stop: the hook answers 404, accepted executions are still delivered (409 while paused: resume first)",
		ok: [200, "{flow}"],
		response: flowAnswer,
	},
	{
		method: "post",
		path: "/api/flows/:id/pause",
		tag: "flows",
		summary: "Pause: the hook keeps accepting (200), deliveries are held (409 unless running or paused)",
		ok: [200, "{flow}"],
		response: flowAnswer,
	},
	{
		method: "post",
		path: "/api/flows/:id/resume",
		tag: "flows",
		summary: "Resume a paused flow: held deliveries continue in order (409 unless paused or running)",
		ok: [200, "{flow}"],
		response: flowAnswer,
	},
	{
		method: "get",
		path: "/api/flows/:id/executions",
		tag: "executions",
		summary: "Run log search, newest first: time range (epoch ms), status, version, id, field = value, text",
		query: listQuery,
		ok: [200, "{executions, nextCursor, statuses}"],
		response: executionsPageSchema,
	},
	{
		method: "post",
		path: "/api/flows/:id/retry-failed",
		tag: "executions",
		summary: "Retry the flow's failed executions",
		ok: [200, "{retried}"],
	},
	{
		method: "post",
		path: "/api/flows/:id/sample-request",
		tag: "samples",
		summary: "A one-time URL that records the next request as the trigger sample",
		ok: [201, "{url, expiresAt}"],
	},
	{
		method: "get",
		path: "/api/flows/:id/sample-request",
		tag: "samples",
		summary: "Wait (long-poll, seconds) for the sample",
		query: sampleWaitQuery,
		ok: [200, "{sample, expiresAt}"],
	},
	{
		method: "post",
		path: "/api/flows/:id/steps/:index/sample",
		tag: "samples",
		summary: "Retrieve sample: run the step on the mapped trigger sample",
		body: stepSampleSchema,
		ok: [200, "{sample}"],
	},
	{
		method: "post",
		path: "/api/flows/:id/steps/preview",
		tag: "samples",
		summary: "Preview any step on the samples (no call made): the request a call step would send, or a logic step's verdict",
		body: stepPreviewSchema,
		ok: [200, "{preview: {request, response, output, error, logic?}}"],
	},
	{
		method: "post",
		path: "/api/mappings/preview",
		tag: "samples",
		summary: "Preview a mapping on a sample",
		body: mappingPreviewSchema,
		ok: [200, "{request, errors}"],
	},
	{
		method: "post",
		path: "/api/mappings/delivery-key",
		tag: "samples",
		summary: 'Preview the delivery key of a sample (key null: the "no key" lane, with the error when the expression failed)',
		body: deliveryKeyPreviewSchema,
		ok: [200, "{key, error}"],
	},
	{
		method: "get",
		path: "/api/executions/:id",
		tag: "executions",
		summary: "An execution with its attempts",
		ok: [200, "{execution}"],
		response: executionAnswer,
	},
	{
		method: "post",
		path: "/api/executions/:id/retry",
		tag: "executions",
		summary: "Retry a failed execution",
		ok: [200, "{execution}"],
		response: executionAnswer,
	},
	{
		method: "get",
		path: "/api/export",
		tag: "operations",
		summary: "Every flow and the credentials' metadata (no secrets), for another environment",
		ok: [200, "An ExportDocument"],
	},
	{
		method: "post",
		path: "/api/import",
		tag: "operations",
		summary: "Create the exported flows here, credentials matched by component and name",
		query: importQuerySchema,
		body: exportDocumentSchema,
		ok: [201, "{flows, warnings}"],
	},
	{ method: "get", path: "/api/openapi.json", tag: "operations", summary: "This document", ok: [200, "OpenAPI 3.1"] },
	{
		method: "get",
		path: "/api/stats",
		tag: "observability",
		summary: "Per-step received, succeeded, failed, latency p50/p95 and backlog, as column arrays (one flow or all)",
		query: statsQuery,
		ok: [200, "{from, to, step, series: {t, received, succeeded, failed, p50Ms, p95Ms, queued}}"],
	},
	{
		method: "get",
		path: "/api/metrics",
		tag: "observability",
		summary: "Prometheus text: received, succeeded, failed, queued, oldest queued age, auth failures; per flow and in total",
		ok: [200, "Prometheus text format 0.0.4"],
		mediaType: "text/plain",
	},
	{
		method: "get",
		path: "/api/alert-targets",
		tag: "observability",
		summary: "Alert targets with their last delivery status (no secrets)",
		ok: [200, "{alertTargets, events, formats, thresholds}"],
	},
	{
		method: "post",
		path: "/api/alert-targets",
		tag: "observability",
		summary: "Add an alert target; a standardWebhooks target's signing secret is in this answer only",
		body: alertTargetSchema,
		ok: [201, "{alertTarget, secret}"],
	},
	{ method: "delete", path: "/api/alert-targets/:id", tag: "observability", summary: "Remove an alert target", ok: [204, "Deleted"] },
	{
		method: "post",
		path: "/api/alert-targets/:id/test",
		tag: "observability",
		summary: "Send a test alert now and answer how the receiver responded",
		ok: [200, "{delivery: {at, ok, status, event, error}}"],
	},
	{
		method: "post",
		path: "/api/flows/:id/replay",
		tag: "executions",
		summary: "Bulk replay or retry of the executions the filters select, as a background job",
		body: replaySchema,
		ok: [202, "{jobId, job}"],
	},
	{
		method: "get",
		path: "/api/jobs/:id",
		tag: "executions",
		summary: "A job's progress",
		ok: [200, "{id, state, done, total, skipped, …}"],
	},
	{ method: "delete", path: "/api/jobs/:id", tag: "executions", summary: "Cancel a running job", ok: [200, "The job, cancelled"] },
	{
		method: "post",
		path: "/api/admin/rotate-key",
		tag: "operations",
		summary: "Re-seal every credential under CREDENTIALS_KEY (the old key in CREDENTIALS_KEY_PREVIOUS)",
		ok: [200, "{keyId, resealed, hashedUnderOldKey}"],
	},
];

type JsonSchema = Record<string, unknown>;

/** Component schemas without `$schema` and `$id`: OpenAPI 3.1 sets the dialect once, and `$id` would rebase the refs. */
function componentSchemas(): Record<string, JsonSchema> {
	const { schemas: converted } = z.toJSONSchema(schemas, {
		io: "input",
		uri: (id) => `#/components/schemas/${id}`,
		unrepresentable: "any",
	});
	return Object.fromEntries(Object.entries(converted).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]));
}

function ref(schema: ZodType): JsonSchema {
	const id = schemas.get(schema)?.id;
	if (!id) throw new Error("openapi: request bodies must be registered components");
	return { $ref: `#/components/schemas/${id}` };
}

function parameters(operation: Operation): JsonSchema[] {
	const path = [...operation.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
		name,
		in: "path",
		required: true,
		schema: name === "index" ? { type: "integer", minimum: 0 } : { type: "string" },
	}));
	if (!operation.query) return path;
	const { properties = {}, required = [] } = z.toJSONSchema(operation.query, { io: "input", unrepresentable: "any" }) as {
		properties?: Record<string, JsonSchema>;
		required?: string[];
	};
	const query = Object.entries(properties).map(([name, schema]) => ({ name, in: "query", required: required.includes(name), schema }));
	return [...path, ...query];
}

function toOperation(operation: Operation): JsonSchema {
	const [status, description] = operation.ok;
	const words = operation.path.replace(/^\/api\//, "").split(/[^A-Za-z0-9]+/);
	const error = { description: "An error", content: { "application/json": { schema: ref(errorSchema) } } };
	return {
		tags: [operation.tag],
		summary: operation.summary,
		operationId: operation.method + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(""),
		parameters: parameters(operation),
		...(operation.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(operation.body) } } } } : {}),
		responses: {
			[status]:
				status === 204
					? { description }
					: operation.mediaType
						? { description, content: { [operation.mediaType]: { schema: { type: "string" } } } }
						: {
								description,
								content: { "application/json": { schema: operation.response ? ref(operation.response) : { type: "object" } } },
							},
			default: error,
		},
	};
}

let cached: JsonSchema | undefined;

/** The static part is built once per isolate; the server URL and version come from the request and the deployment. */
export function openApiDocument(origin: string, version: string): JsonSchema {
	cached ??= {
		openapi: "3.1.0",
		security: [{ bearer: [] }],
		components: {
			securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret" } },
			schemas: componentSchemas(),
		},
		paths: operations.reduce<Record<string, Record<string, JsonSchema>>>((paths, operation) => {
			const path = operation.path.replace(/:(\w+)/g, "{$1}");
			paths[path] = { ...paths[path], [operation.method]: toOperation(operation) };
			return paths;
		}, {}),
	};
	return {
		...cached,
		info: { title: "Hookflow admin API", version, description: "Every call needs `Authorization: Bearer <ADMIN_TOKEN>`." },
		servers: [{ url: origin }],
	};
}

export const openapiRoutes = new Hono<{ Bindings: Env }>().get("/", (c) =>
	c.json(openApiDocument(new URL(c.req.url).origin, c.env.BUILD_SHA)),
);
