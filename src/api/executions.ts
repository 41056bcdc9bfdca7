import { and, asc, desc, eq, isNotNull, lt, or } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import { fromBase64, toBase64Url, utf8 } from "../crypto/encoding";
import { getDb } from "../db/client";
import { attempts, type ExecutionRow, executionStatuses, executions } from "../db/schema";
import { type RetryRequest, retryExecutions } from "../delivery/flow-control";
import type { Message } from "../hook/message";
import { ApiError, notFound, valid } from "./errors";
import { findFlow } from "./flows";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const RETRY_ALL_LIMIT = 1000;

function toSummary(row: ExecutionRow) {
	return {
		id: row.id,
		flowId: row.flowId,
		version: row.version,
		status: row.status,
		receivedAt: iso(row.receivedAt),
		finishedAt: iso(row.finishedAt),
		attempts: row.attemptCount,
		durationMs: row.durationMs,
		error: row.error,
	};
}

async function findExecution(env: Env, id: string): Promise<ExecutionRow> {
	const [row] = await getDb(env.DB).select().from(executions).where(eq(executions.id, id)).limit(1);
	if (!row) throw notFound("Execution", id);
	return row;
}

async function toDetails(env: Env, row: ExecutionRow) {
	const rows = await getDb(env.DB).select().from(attempts).where(eq(attempts.executionId, row.id)).orderBy(asc(attempts.n));
	return {
		...toSummary(row),
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
	};
}

function toRetryRequest(row: ExecutionRow): RetryRequest {
	return {
		id: row.id,
		version: row.version,
		receivedAt: row.receivedAt,
		message: (row.input ?? {}) as Message,
		attemptCount: row.attemptCount,
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

export const listQuery = z.object({
	status: z.enum(executionStatuses).optional(),
	limit: z.coerce.number().int().min(1).max(100).default(20),
	cursor: z.string().max(200).optional(),
});

export const flowExecutionsRoutes = new Hono<{ Bindings: Env }>()
	.get("/:id/executions", valid("query", listQuery), async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const { status, limit, cursor } = c.req.valid("query");
		const after = cursor ? decodeCursor(cursor) : null;
		const rows = await getDb(c.env.DB)
			.select()
			.from(executions)
			.where(
				and(
					eq(executions.flowId, flow.id),
					status ? eq(executions.status, status) : undefined,
					after
						? or(lt(executions.receivedAt, after.receivedAt), and(eq(executions.receivedAt, after.receivedAt), lt(executions.id, after.id)))
						: undefined,
				),
			)
			.orderBy(desc(executions.receivedAt), desc(executions.id))
			.limit(limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({ executions: page.map(toSummary), nextCursor: rows.length > limit && last ? encodeCursor(last) : null });
	})
	.post("/:id/retry-failed", async (c) => {
		const flow = await findFlow(c.env, c.req.param("id"));
		const failed = await getDb(c.env.DB)
			.select()
			.from(executions)
			.where(and(eq(executions.flowId, flow.id), eq(executions.status, "failed"), isNotNull(executions.input)))
			.orderBy(asc(executions.receivedAt), asc(executions.id))
			.limit(RETRY_ALL_LIMIT);
		const retried = failed.length > 0 ? await retryExecutions(c.env, flow.id, failed.map(toRetryRequest)) : [];
		return c.json({ retried: retried.length });
	});

export const executionsRoutes = new Hono<{ Bindings: Env }>()
	.get("/:id", async (c) => c.json({ execution: await toDetails(c.env, await findExecution(c.env, c.req.param("id"))) }))
	.post("/:id/retry", async (c) => {
		const row = await findExecution(c.env, c.req.param("id"));
		if (row.status !== "failed") throw new ApiError(409, `Only failed executions can be retried; this one is ${row.status}`);
		if (row.input === null) throw new ApiError(409, "This execution's payload was purged by the retention policy, so it cannot be retried");
		await retryExecutions(c.env, row.flowId, [toRetryRequest(row)]);
		return c.json({ execution: await toDetails(c.env, await findExecution(c.env, row.id)) });
	});
