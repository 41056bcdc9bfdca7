/**
 * @module
 * Bulk replay: start a job for a flow's filtered executions, follow its progress, cancel it.
 */
import { Hono } from "hono";
import * as z from "zod";
import { type JobRow, jobModes } from "../db/schema";
import { cancelJob, currentJob, startJob } from "../ops/replay-jobs";
import { ApiError, notFound, valid } from "./errors";
import { searchFilters } from "./executions";
import { findFlow } from "./flows";

export const replaySchema = z
	.object({
		/** The run-log search filters (GET /api/flows/:id/executions), without paging. */
		filters: searchFilters.default({}),
		mode: z.enum(jobModes),
	})
	.strict();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toView(job: JobRow) {
	return {
		id: job.id,
		flowId: job.flowId,
		mode: job.mode,
		filters: job.filters,
		state: job.state,
		done: job.done,
		total: job.total,
		skipped: job.skipped,
		error: job.error,
		createdAt: iso(job.createdAt),
		finishedAt: iso(job.finishedAt),
	};
}

async function findJob(env: Env, id: string): Promise<JobRow> {
	const row = await currentJob(env, id);
	if (!row) throw notFound("Job", id);
	return row;
}

export const flowReplayRoutes = new Hono<{ Bindings: Env }>().post("/:id/replay", valid("json", replaySchema), async (c) => {
	const flow = await findFlow(c.env, c.req.param("id"));
	const { filters, mode } = c.req.valid("json");
	if (flow.liveVersion === null) throw new ApiError(409, "Publish the flow first: replayed executions run on its live version");
	if (mode === "retryFailed" && filters.status !== undefined && filters.status !== "failed")
		throw new ApiError(400, `retryFailed retries failed executions only; drop the status filter (it is ${filters.status})`);
	const job = await startJob(c.env, flow.id, mode, filters);
	if (job.state === "failed") throw new ApiError(503, job.error ?? "The job could not be started; try again");
	return c.json({ jobId: job.id, job: toView(job) }, 202);
});

export const jobsRoutes = new Hono<{ Bindings: Env }>()
	.get("/:id", async (c) => c.json(toView(await findJob(c.env, c.req.param("id")))))
	.delete("/:id", async (c) => {
		const job = await findJob(c.env, c.req.param("id"));
		if (!(await cancelJob(c.env, job.id))) throw new ApiError(409, `Job ${job.id} is ${job.state}; only a running job can be cancelled`);
		return c.json(toView(await findJob(c.env, job.id)));
	});
