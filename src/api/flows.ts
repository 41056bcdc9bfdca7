import { and, desc, eq, inArray, max, or } from "drizzle-orm";
import { type Context, Hono } from "hono";
import * as z from "zod";
import { randomBase64Url } from "../crypto/encoding";
import { getDb } from "../db/client";
import {
	alertState,
	attempts,
	credentials,
	executions,
	type FlowRow,
	failureEvents,
	flows,
	flowTotals,
	flowVersions,
	replays,
	statsLatency,
	statsMinutes,
} from "../db/schema";
import { applyPublishedSettings, destroyFlow, flowCounters, pauseFlow, resumeFlow } from "../delivery/flow-control";
import type { FlowCounters } from "../flows/counters";
import { type Draft, draftSchema, type FlowDefinition } from "../flows/definition";
import { type FlowAction, transition } from "../flows/lifecycle";
import { nameSchema } from "../flows/names";
import { checkPublishable, publishProblem } from "../flows/publish";
import { credentialProblems, draftStepProblems, stepCredentialIds } from "../flows/publish-steps";
import { withStepIds } from "../flows/step-tree";
import { invalidateIngressConfig } from "../hook/config-cache";
import { errorMessage, log } from "../log";
import { ApiError, firstOrNotFound, valid } from "./errors";
import type { FlowView } from "./responses";

/**
 * Everything D1 keeps about a flow, in one batch (a transaction): its run log with attempts and
 * replay links, stats, totals, failure events and alert state; versions, jobs and the flow's own
 * alert targets go with the flow row (ON DELETE CASCADE).
 */
function deleteFlowRows(db: ReturnType<typeof getDb>, flowId: string) {
	const flowExecutions = db.select({ id: executions.id }).from(executions).where(eq(executions.flowId, flowId));
	return [
		db.delete(attempts).where(inArray(attempts.executionId, flowExecutions)),
		db.delete(replays).where(or(inArray(replays.executionId, flowExecutions), inArray(replays.replayOf, flowExecutions))),
		db.delete(executions).where(eq(executions.flowId, flowId)),
		db.delete(statsMinutes).where(eq(statsMinutes.flowId, flowId)),
		db.delete(statsLatency).where(eq(statsLatency.flowId, flowId)),
		db.delete(flowTotals).where(eq(flowTotals.flowId, flowId)),
		db.delete(failureEvents).where(eq(failureEvents.flowId, flowId)),
		db.delete(alertState).where(eq(alertState.flowId, flowId)),
		db.delete(flows).where(eq(flows.id, flowId)),
	] as const;
}

export const flowNameSchema = z.object({ name: nameSchema }).strict();

const NO_COUNTERS: FlowCounters = {
	received: 0,
	succeeded: 0,
	failed: 0,
	inFlight: 0,
	authFailures: 0,
	handshakes: 0,
	queued: 0,
	oldestQueuedAt: null,
	paused: false,
};

export type TotalCounters = Omit<FlowCounters, "paused">;

/** The counters of every flow added up; the oldest queued execution of them all. */
export function totalCounters(all: readonly FlowCounters[]): TotalCounters {
	const { paused: _, ...total } = NO_COUNTERS;
	for (const c of all) {
		total.received += c.received;
		total.succeeded += c.succeeded;
		total.failed += c.failed;
		if (c.filtered) total.filtered = (total.filtered ?? 0) + c.filtered;
		total.inFlight += c.inFlight;
		total.authFailures += c.authFailures;
		total.handshakes += c.handshakes;
		total.queued += c.queued;
		if (c.oldestQueuedAt !== null && (total.oldestQueuedAt === null || c.oldestQueuedAt < total.oldestQueuedAt)) {
			total.oldestQueuedAt = c.oldestQueuedAt;
		}
	}
	return total;
}

/** A draft's steps saved without ids get them (step_1, …), so later steps can refer to them. */
export function withIds<T extends { steps: Draft["steps"] }>(draft: T): T {
	return { ...draft, steps: withStepIds(draft.steps) };
}

export function hookUrl(requestUrl: string, flowId: string): string {
	return `${new URL(requestUrl).origin}/hook/${flowId}`;
}

export function findFlow(env: Env, id: string): Promise<FlowRow> {
	return firstOrNotFound(getDb(env.DB).select().from(flows).where(eq(flows.id, id)).limit(1), "Flow", id);
}

async function toFlowView(env: Env, requestUrl: string, row: FlowRow): Promise<FlowView> {
	// The flow objects own the counters; a never-used flow's object answers zeros.
	const counters = await flowCounters(env, row.id).catch(() => NO_COUNTERS);
	return {
		id: row.id,
		name: row.name,
		status: row.status,
		version: row.liveVersion,
		hookUrl: hookUrl(requestUrl, row.id),
		draft: row.draft,
		counters,
		createdAt: new Date(row.createdAt).toISOString(),
		updatedAt: new Date(row.updatedAt).toISOString(),
	};
}

/** Each credential the definition names exists, belongs to the right component, and literal URLs stay under it. */
async function checkCredentialsExist(env: Env, definition: FlowDefinition, status: 409 | 422, subject: string): Promise<void> {
	const stepIds = stepCredentialIds(definition.steps);
	const found = await getDb(env.DB)
		.select({ id: credentials.id, component: credentials.component, details: credentials.details })
		.from(credentials)
		.where(inArray(credentials.id, [definition.trigger.credentialId, ...stepIds]));
	const trigger = found.find((f) => f.id === definition.trigger.credentialId);
	if (trigger?.component !== "webhook") {
		throw new ApiError(
			status,
			`${subject} uses webhook credential ${definition.trigger.credentialId}, which does not exist; choose another and publish again`,
		);
	}
	const facts = new Map(
		found.map((f) => [
			f.id,
			{
				component: f.component,
				baseUrl: f.component === "petstore" ? (f.details.baseUrl ?? env.PETSTORE_BASE_URL) : (f.details.baseUrl ?? null),
			},
		]),
	);
	const issues = credentialProblems(definition.steps, facts, subject);
	if (issues.length > 0) throw new ApiError(status, publishProblem(issues), issues);
}

/** Everything a draft needs before it can become a version: publishable (flows/publish.ts), and credentials of the right kind. */
async function publishableDefinition(env: Env, draft: unknown): Promise<FlowDefinition> {
	const checked = checkPublishable(draft);
	if (!checked.ok) throw new ApiError(422, checked.problem, checked.issues);
	await checkCredentialsExist(env, checked.definition, 422, "The draft");
	return checked.definition;
}

/** Start, Stop, Pause, Resume: the flow objects hold or release deliveries first, then D1 says so. */
async function applyAction(env: Env, row: FlowRow, action: FlowAction): Promise<FlowRow> {
	const next = transition(row.status, row.liveVersion !== null, action);
	if (!next.ok) throw new ApiError(409, next.message);
	if ((action === "start" || action === "resume") && row.liveVersion !== null) {
		const subject = `Version ${row.liveVersion} of this flow`;
		const live = await firstOrNotFound(
			getDb(env.DB)
				.select({ definition: flowVersions.definition })
				.from(flowVersions)
				.where(and(eq(flowVersions.flowId, row.id), eq(flowVersions.version, row.liveVersion))),
			"Flow version",
			`${row.id}/${row.liveVersion}`,
		);
		await checkCredentialsExist(env, live.definition, 409, subject);
	}
	// Objects first: if D1 then fails, the call is repeated and both operations are idempotent.
	if (next.deliveries === "pause") await pauseFlow(env, row.id);
	if (next.deliveries === "resume") await resumeFlow(env, row.id);
	const updated = await firstOrNotFound(
		getDb(env.DB).update(flows).set({ status: next.status, updatedAt: Date.now() }).where(eq(flows.id, row.id)).returning(),
		"Flow",
		row.id,
	);
	invalidateIngressConfig(row.id);
	return updated;
}

const actionRoute = (action: FlowAction) => async (c: Context<{ Bindings: Env }>) => {
	const row = await applyAction(c.env, await findFlow(c.env, c.req.param("id") ?? ""), action);
	return c.json({ flow: await toFlowView(c.env, c.req.url, row) });
};

export const flowsRoutes = new Hono<{ Bindings: Env }>()
	.get("/", async (c) => {
		const rows = await getDb(c.env.DB).select().from(flows).orderBy(desc(flows.createdAt));
		const views = await Promise.all(rows.map((row) => toFlowView(c.env, c.req.url, row)));
		return c.json({ flows: views, totals: totalCounters(views.map((v) => v.counters)) });
	})
	.post("/", valid("json", flowNameSchema), async (c) => {
		// 128 random bits: a No Auth hook URL is itself the secret.
		const id = randomBase64Url(16);
		const row = await firstOrNotFound(
			getDb(c.env.DB)
				.insert(flows)
				.values({ id, name: c.req.valid("json").name })
				.returning(),
			"Flow",
			id,
		);
		return c.json({ flow: await toFlowView(c.env, c.req.url, row) }, 201);
	})
	.get("/:id", async (c) => c.json({ flow: await toFlowView(c.env, c.req.url, await findFlow(c.env, c.req.param("id"))) }))
	.patch("/:id", valid("json", flowNameSchema), async (c) => {
		const row = await findFlow(c.env, c.req.param("id"));
		const updated = await firstOrNotFound(
			getDb(c.env.DB)
				.update(flows)
				.set({ name: c.req.valid("json").name, updatedAt: Date.now() })
				.where(eq(flows.id, row.id))
				.returning(),
			"Flow",
			row.id,
		);
		return c.json({ flow: await toFlowView(c.env, c.req.url, updated) });
	})
	.put("/:id/draft", valid("json", draftSchema), async (c) => {
		const problems = draftStepProblems(c.req.valid("json").steps);
		if (problems.length > 0)
			throw new ApiError(400, `Invalid request body: ${problems.map((i) => `${i.path}: ${i.message}`).join("; ")}`, problems);
		const row = await findFlow(c.env, c.req.param("id"));
		const updated = await firstOrNotFound(
			getDb(c.env.DB)
				.update(flows)
				.set({ draft: withIds(c.req.valid("json")), updatedAt: Date.now() })
				.where(eq(flows.id, row.id))
				.returning(),
			"Flow",
			row.id,
		);
		return c.json({ flow: await toFlowView(c.env, c.req.url, updated) });
	})
	.post("/:id/publish", async (c) => {
		const row = await findFlow(c.env, c.req.param("id"));
		const definition = await publishableDefinition(c.env, row.draft);
		const db = getDb(c.env.DB);
		const [latest] = await db
			.select({ version: max(flowVersions.version) })
			.from(flowVersions)
			.where(eq(flowVersions.flowId, row.id));
		const version = (latest?.version ?? 0) + 1;
		// One batch: the version and the pointer to it change together.
		await db.batch([
			db.insert(flowVersions).values({ flowId: row.id, version, definition }),
			db.update(flows).set({ liveVersion: version, updatedAt: Date.now() }).where(eq(flows.id, row.id)),
		]);
		invalidateIngressConfig(row.id);
		// Executions already waiting (a paused flow's backlog) run under the new limits, not only later hooks.
		await applyPublishedSettings(c.env, row.id, version, definition).catch((error: unknown) =>
			log("error", "flow.settings_unapplied", { flowId: row.id, version, error: errorMessage(error) }),
		);
		return c.json({ version });
	})
	.post("/:id/start", actionRoute("start"))
	.post("/:id/stop", actionRoute("stop"))
	.post("/:id/pause", actionRoute("pause"))
	.post("/:id/resume", actionRoute("resume"))
	.delete("/:id", async (c) => {
		const row = await findFlow(c.env, c.req.param("id"));
		const db = getDb(c.env.DB);
		await db.update(flows).set({ status: "stopped" }).where(eq(flows.id, row.id));
		invalidateIngressConfig(row.id);
		// The objects first: they drop the queue's backlog from now on, and their run-log writes fail once the flow row is gone.
		await destroyFlow(c.env, row.id);
		await db.batch(deleteFlowRows(db, row.id));
		return c.body(null, 204);
	});
