/**
 * @module
 * `GET /api/metrics`: Prometheus text from the totals the run-log writer keeps in D1 (behind the admin token, like all of /api).
 */
import { Hono } from "hono";
import { type FlowMetrics, metricsText } from "./metrics-text";

export const metricsRoutes = new Hono<{ Bindings: Env }>().get("/", async (c) => {
	const now = Date.now();
	const { results } = await c.env.DB.prepare(
		`SELECT f.id, f.name, coalesce(t.received, 0) AS received, coalesce(t.succeeded, 0) AS succeeded, coalesce(t.failed, 0) AS failed,
			coalesce(t.auth_failures, 0) AS authFailures, coalesce(t.queued, 0) AS queued,
			(SELECT min(received_at) FROM executions e WHERE e.flow_id = f.id AND e.status IN ('queued', 'retrying')) AS oldest
		FROM flows f LEFT JOIN flow_totals t ON t.flow_id = f.id`,
	).all<Omit<FlowMetrics, "oldestQueuedAgeSeconds"> & { oldest: number | null }>();
	const flows = results.map(({ oldest, ...flow }) => ({
		...flow,
		oldestQueuedAgeSeconds: oldest === null ? 0 : Math.max(0, Math.floor((now - oldest) / 1000)),
	}));
	return c.text(metricsText(flows), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
