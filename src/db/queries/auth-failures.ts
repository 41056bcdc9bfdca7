/**
 * @module
 * The per-minute and total count of failed hook authentications (metrics, the dashboard, the
 * flow.auth_failures alert read them). Plain SQL: the edge Worker, which writes it, loads no drizzle.
 */

/** Stats are kept per minute (stats.ts re-exports this for its readers). */
export const MINUTE_MS = 60_000;

export async function recordAuthFailure(db: D1Database, flowId: string, nowMs: number): Promise<void> {
	const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
	await db.batch([
		db
			.prepare(
				"INSERT INTO stats_minutes (flow_id, minute, auth_failures) VALUES (?1, ?2, 1) ON CONFLICT (flow_id, minute) DO UPDATE SET auth_failures = auth_failures + 1",
			)
			.bind(flowId, minute),
		db
			.prepare(
				"INSERT INTO flow_totals (flow_id, auth_failures) VALUES (?1, 1) ON CONFLICT (flow_id) DO UPDATE SET auth_failures = auth_failures + 1",
			)
			.bind(flowId),
	]);
}
