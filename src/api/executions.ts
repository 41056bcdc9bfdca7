import { and, asc, desc, eq, isNotNull, lt, or } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import { fromBase64, toBase64Url, utf8 } from "../crypto/encoding";
import { getDb } from "../db/client";
import { runLogConditions } from "../db/queries/run-log-search";
import { attempts, type ExecutionRow, executionStatuses, executions, replays } from "../db/schema";
import { retryExecutions } from "../delivery/flow-control";
import { retryRequestFor } from "../ops/replay-jobs";
import { ApiError, firstOrNotFound, valid } from "./errors";
import { findFlow } from "./flows";
import type { ExecutionSummary, ExecutionsPage, ExecutionView } from "./responses";

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const RETRY_ALL_LIMIT = 1000;

function toSummary(row: ExecutionRow, replayOf: string | null = null): ExecutionSummary {
	return {
		id: row.id,
		flowId: row.flowId,
		version: row.version,
		status: row.status,
		receivedAt: iso(row.receivedAt),
		finishedAt: isoOrNull(row.finishedAt),
		attempts: row.attemptCount,
		durationMs: row.durationMs,
		error: row.error,
		/** The execution this one replays (bulk replay), or null. */
		replayOf,
	};
}

/** A one-step flow stores its step run without the request and response, which are the execution's own. */
function stepsOf(row: ExecutionRow): ExecutionView["steps"] {
	const steps = row.steps ?? [];
	const [only] = steps;
	if (steps.length !== 1 || !only || only.request || only.response) return steps;
	return [{ ...only, request: row.request, response: row.response }];
}

function findExecution(env: Env, id: string): Promise<ExecutionRow> {
	return firstOrNotFound(getDb(env.DB).select().from(executions).where(eq(executions.id, id)).limit(1), "Execution", id);
}

async function toDetails(env: Env, row: ExecutionRow): Promise<ExecutionView> {
	const db = getDb(env.DB);
	const [rows, links] = await db.batch([
		db.select().from(attempts).where(eq(attempts.executionId, row.id)).orderBy(asc(attempts.n)),
		db.select({ replayOf: replays.replayOf }).from(replays).where(eq(replays.executionId, row.id)).limit(1),
	]);
	return {
		...toSummary(row, links[0]?.replayOf ?? null),
		input: row.input,
		request: row.request,
		response: row.response,
		attempts: rows.map((a) => ({
			n: a.n,
			startedAt: iso(a.startedAt),
			durationMs: a.durationMs,
			status: a.status,
			outcome: a.outcome,
			error: a.error,
		})),
		steps: stepsOf(row),
	};
}

/** Page cursors are opaque: the last row's receivedAt and id. */
const encodeCursor = (row: ExecutionRow) => toBase64Url(utf8.encode(`${row.receivedAt}:${row.id}`));
function decodeCursor(cursor: string): { receivedAt: number; id: string } {
	const bytes = fromBase64(cursor);
	const [at, id] = bytes ? new TextDecoder().decode(bytes).split(":") : [];
	if (!at || !id || !/^\d+$/.test(at)) throw new ApiError(400, "Invalid cursor: pass nextCursor from the previous page unchanged");
	return { receivedAt: Number(at), id };
}

/** Run-log search filters: the executions list and bulk replay take the same ones. */
export const runLogFiltersSchema = z.object({
	from: z.coerce.number().int().min(0).optional(),
	to: z.coerce.number().int().min(0).optional(),
	status: z.enum(executionStatuses).optional(),
	version: z.coerce.number().int().min(1).optional(),
	id: z.string().trim().min(1).max(200).optional(),
	field: z
		.string()
		.regex(/^[^.\s]+(\.[^.\s]+)*$/, "field is a dotted path into the input, such as petname or customer.address.city")
		.max(200)
		.optional(),
	value: z.string().max(1000).optional(),
	text: z.string().min(1).max(200).optional(),
});

type Filters = z.infer<typeof runLogFiltersSchema>;
const fieldWithValue: [(f: Filters) => boolean, { message: string; path: string[] }] = [
	(f) => (f.field === undefined) === (f.value === undefined),
	{ message: "field and value go together: field is the path into the input, value what it must equal", path: ["field"] },
];
const fromBeforeTo: [(f: Filters) => boolean, { message: string; path: string[] }] = [
	(f) => f.from === undefined || f.to === undefined || f.from < f.to,
	{ message: "from must be before to", path: ["from"] },
];

export const listQuery = runLogFiltersSchema
	.extend({
		limit: z.coerce.number().int().min(1).max(100).default(20),
		cursor: z.string().max(200).optional(),
	})
	.refine(...fieldWithValue)
	.refine(...fromBeforeTo);

/** The filters of a bulk replay: the list's, without paging. */
export const searchFilters = runLogFiltersSchema
	.strict()
	.refine(...fieldWithValue)
	.refine(...fromBeforeTo);

export const flowExecutionsRoutes = new Hono<{ Bindings: Env }>()
	.get("/:id/executions", valid("query", listQuery), async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const { limit, cursor, ...filters } = c.req.valid("query");
		const after = cursor ? decodeCursor(cursor) : null;
		const rows = await getDb(c.env.DB)
			.select({ execution: executions, replayOf: replays.replayOf })
			.from(executions)
			.leftJoin(replays, eq(replays.executionId, executions.id))
			.where(
				and(
					runLogConditions(flow.id, filters),
					after
						? or(lt(executions.receivedAt, after.receivedAt), and(eq(executions.receivedAt, after.receivedAt), lt(executions.id, after.id)))
						: undefined,
				),
			)
			.orderBy(desc(executions.receivedAt), desc(executions.id))
			.limit(limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1)?.execution;
		const answer: ExecutionsPage = {
			executions: page.map((r) => toSummary(r.execution, r.replayOf)),
			nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
			// The status filter's values, so the designer does not repeat them.
			statuses: executionStatuses,
		};
		return c.json(answer);
	})
	.post("/:id/retry-failed", async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const failed = await getDb(c.env.DB)
			.select()
			.from(executions)
			.where(and(eq(executions.flowId, flow.id), eq(executions.status, "failed"), isNotNull(executions.input)))
			.orderBy(asc(executions.receivedAt), asc(executions.id))
			.limit(RETRY_ALL_LIMIT);
		const retried = failed.length > 0 ? await retryExecutions(c.env, flow.id, failed.map(retryRequestFor)) : [];
		return c.json({ retried: retried.length });
	});

export const executionsRoutes = new Hono<{ Bindings: Env }>()
	.get("/:id", async (c) => c.json({ execution: await toDetails(c.env, await findExecution(c.env, c.req.param("id"))) }))
	.post("/:id/retry", async (c) => {
		const row = await findExecution(c.env, c.req.param("id"));
		if (row.status !== "failed") throw new ApiError(409, `Only failed executions can be retried; this one is ${row.status}`);
		if (row.input === null) throw new ApiError(409, "This execution's payload was purged by the retention policy, so it cannot be retried");
		await retryExecutions(c.env, row.flowId, [retryRequestFor(row)]);
		return c.json({ execution: await toDetails(c.env, await findExecution(c.env, row.id)) });
	});
