/**
 * @module `GET /api/stats?flowId=&from=&to=&step=`: the per-minute buckets the run-log writer keeps
 * (src/db/queries/stats.ts), re-bucketed to `step`. Columns, not rows, so a chart library such as
 * uPlot takes `series` as it is.
 */

import { Hono } from "hono";
import * as z from "zod";
import { MINUTE_MS, readStatsRows } from "../db/queries/stats";
import { ApiError, valid } from "./errors";
import { findFlow } from "./flows";
import { isWholeMinutes, type StatsResponse, toSeries } from "./stats-series";

/** The response shape lives with the pure function that builds it. */
export type { StatsResponse } from "./stats-series";

const HOUR_MS = 3_600_000;
/** Enough points for a week at 10-minute steps; finer steps need a shorter range. */
export const MAX_STATS_POINTS = 1_500;

export const statsQuery = z
	.object({
		flowId: z.string().min(1).optional(),
		from: z.coerce.number().int().min(0).optional(),
		to: z.coerce.number().int().min(0).optional(),
		step: z.coerce
			.number()
			.int()
			.refine(isWholeMinutes, "step is in milliseconds and a whole number of minutes (60000, 300000, …)")
			.default(MINUTE_MS),
	})
	.strict();

export const statsRoutes = new Hono<{ Bindings: Env }>().get("/", valid("query", statsQuery), async (c) => {
	const query = c.req.valid("query");
	const to = query.to ?? Date.now();
	const step = query.step;
	// Points start on a step boundary, so a view's points do not shift as it refreshes.
	const from = Math.floor((query.from ?? to - HOUR_MS) / step) * step;
	if (from >= to) throw new ApiError(400, "from must be before to");
	const points = Math.ceil((to - from) / step);
	if (points > MAX_STATS_POINTS)
		throw new ApiError(400, `That is ${points} points; at most ${MAX_STATS_POINTS}: use a larger step or a shorter range`);
	if (query.flowId !== undefined) await findFlow(c.env, query.flowId);
	const rows = await readStatsRows(c.env.DB, query.flowId, from, to);
	return c.json(toSeries(rows, from, to, step) satisfies StatsResponse);
});
