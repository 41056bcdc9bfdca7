/**
 * @module
 * Time-series counters kept as executions change state, never computed by scanning the
 * run log on a view. The run-log writer adds `statsStatements` to its D1 batch, ahead of the
 * execution upserts: each statement compares an incoming record with the execution's state
 * before the batch (or with the same execution's previous record in the batch), so a state is
 * counted once when an execution enters it (received, succeeded, failed, filtered: its latency; a manual retry that
 * fails again counts again) and the backlog gauge moves by the difference.
 */
import { sql } from "drizzle-orm";
import { getDb } from "../client";
import { flowTotals, statsMinutes } from "../schema";

export const MINUTE_MS = 60_000;

/**
 * Upper bounds (exclusive) of the latency histogram bins, accepted → finished; one more bin holds
 * everything slower. Percentiles interpolate linearly within a bin, as Prometheus'
 * histogram_quantile does, so they are estimates within the bin's width.
 */
export const LATENCY_BINS_MS = [
	25, 50, 100, 200, 400, 800, 1_500, 3_000, 6_000, 15_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
] as const;

/** The fields of an execution record that the counters need. */
export interface StatsRecord {
	id: string;
	flowId: string;
	status: string;
	receivedAt: number;
	finishedAt?: number | null;
	durationMs?: number | null;
	error?: string | null;
}

/** Binds the first values a statement with numbered parameters (?1, ?2, …) uses: D1 refuses extra ones. */
export function prepareNumbered(d1: D1Database, text: string, values: readonly unknown[]): D1PreparedStatement {
	const used = Math.max(0, ...[...text.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
	return d1.prepare(text).bind(...values.slice(0, used));
}

const BACKLOG = "('queued', 'retrying')";
const binCase = (column: string) =>
	`CASE ${LATENCY_BINS_MS.map((bound, i) => `WHEN ${column} < ${bound} THEN ${i}`).join(" ")} ELSE ${LATENCY_BINS_MS.length} END`;

/**
 * `steps`: the batch's execution records in order, each with `before`, the execution's status
 * just before it (null for a new execution). `entered` is 1 when the record moves the execution
 * into a finished status it was not in.
 */
function withSteps(body: string): string {
	return `WITH incoming AS (
		SELECT CAST(key AS INTEGER) AS ord,
			json_extract(value, '$.id') AS id,
			json_extract(value, '$.flowId') AS flow_id,
			json_extract(value, '$.status') AS status,
			json_extract(value, '$.receivedAt') AS received_at,
			json_extract(value, '$.finishedAt') AS finished_at,
			json_extract(value, '$.durationMs') AS duration_ms,
			json_extract(value, '$.error') AS error
		FROM json_each(?1)
	), ordered AS (
		SELECT incoming.*, LAG(status) OVER (PARTITION BY id ORDER BY ord) AS previous, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ord) AS n
		FROM incoming
	), prior AS (
		SELECT ordered.*, CASE WHEN n > 1 THEN previous
			ELSE (SELECT e.status FROM executions e WHERE e.id = ordered.id AND e.flow_id = ordered.flow_id) END AS before
		FROM ordered
	), steps AS (
		SELECT prior.*, (status IN ('succeeded', 'failed', 'filtered') AND before IS NOT status) AS entered FROM prior
	) ${body}`;
}

/** The statements that fold `records` into the counters; they must run before the records are written. */
export function statsStatements(d1: D1Database, records: readonly StatsRecord[], nowMs: number): D1PreparedStatement[] {
	const payload = JSON.stringify(
		records.map(({ id, flowId, status, receivedAt, finishedAt, durationMs, error }) => ({
			id,
			flowId,
			status,
			receivedAt,
			finishedAt,
			durationMs,
			error,
		})),
	);
	const finishedMinute = `(coalesce(finished_at, received_at) / ${MINUTE_MS}) * ${MINUTE_MS}`;
	const nowMinute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
	const statement = (text: string) => prepareNumbered(d1, text, [payload, nowMs, nowMinute]);
	return [
		statement(
			withSteps(
				`INSERT INTO stats_minutes (flow_id, minute, received, succeeded, failed)
				SELECT flow_id, minute, sum(r), sum(s), sum(f) FROM (
					SELECT flow_id, (received_at / ${MINUTE_MS}) * ${MINUTE_MS} AS minute, 1 AS r, 0 AS s, 0 AS f FROM steps WHERE before IS NULL
					UNION ALL
					SELECT flow_id, ${finishedMinute}, 0, status = 'succeeded', status = 'failed' FROM steps WHERE entered
				) WHERE true GROUP BY flow_id, minute
				ON CONFLICT (flow_id, minute) DO UPDATE SET received = received + excluded.received,
					succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed`,
			),
		),
		statement(
			withSteps(
				`INSERT INTO stats_latency (flow_id, minute, bin, count)
				SELECT flow_id, ${finishedMinute}, ${binCase("duration_ms")}, count(*) FROM steps
				WHERE entered AND duration_ms IS NOT NULL GROUP BY 1, 2, 3
				ON CONFLICT (flow_id, minute, bin) DO UPDATE SET count = count + excluded.count`,
			),
		),
		statement(
			withSteps(
				`INSERT INTO flow_totals (flow_id, received, succeeded, failed, queued)
				SELECT flow_id, sum(before IS NULL), sum(entered AND status = 'succeeded'), sum(entered AND status = 'failed'),
					sum((status IN ${BACKLOG}) - coalesce(before IN ${BACKLOG}, 0))
				FROM steps WHERE true GROUP BY flow_id
				ON CONFLICT (flow_id) DO UPDATE SET received = received + excluded.received, succeeded = succeeded + excluded.succeeded,
					failed = failed + excluded.failed, queued = max(0, queued + excluded.queued)`,
			),
		),
		// The backlog after this batch, as the value of the current minute's bucket.
		statement(`INSERT INTO stats_minutes (flow_id, minute, queued)
			SELECT flow_id, ?3, queued FROM flow_totals
			WHERE flow_id IN (SELECT DISTINCT json_extract(value, '$.flowId') FROM json_each(?1))
			ON CONFLICT (flow_id, minute) DO UPDATE SET queued = excluded.queued`),
		statement(
			withSteps(
				`INSERT INTO failure_events (flow_id, execution_id, at, error)
				SELECT flow_id, id, coalesce(finished_at, ?2), error FROM steps WHERE entered AND status = 'failed' ORDER BY ord`,
			),
		),
	];
}

/** The longest view is 7 days; a day more for clock skew and time zones. */
export const STATS_KEEP_MS = 8 * 86_400_000;
const PURGE_ROWS = 5_000;

/** Drops per-minute rows older than STATS_KEEP_MS (run every minute: each run has about a minute's rows to drop). */
export async function purgeOldStats(d1: D1Database, nowMs: number): Promise<void> {
	const cutoff = nowMs - STATS_KEEP_MS;
	await d1.batch(
		["stats_minutes", "stats_latency"].map((table) =>
			d1.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE minute < ?1 LIMIT ${PURGE_ROWS})`).bind(cutoff),
		),
	);
}

/** A hook request refused with 401, for the charts' neighbours: metrics and the auth-failure alert. */
export async function recordAuthFailure(d1: D1Database, flowId: string, nowMs: number): Promise<void> {
	const db = getDb(d1);
	const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
	await db.batch([
		db
			.insert(statsMinutes)
			.values({ flowId, minute, authFailures: 1 })
			.onConflictDoUpdate({
				target: [statsMinutes.flowId, statsMinutes.minute],
				set: { authFailures: sql`${statsMinutes.authFailures} + 1` },
			}),
		db
			.insert(flowTotals)
			.values({ flowId, authFailures: 1 })
			.onConflictDoUpdate({ target: flowTotals.flowId, set: { authFailures: sql`${flowTotals.authFailures} + 1` } }),
	]);
}

export interface StatsRows {
	counts: { minute: number; received: number; succeeded: number; failed: number }[];
	latency: { minute: number; bin: number; count: number }[];
	/** Backlog values recorded in [from, to), per flow. */
	gauges: { flowId: string; minute: number; queued: number }[];
	/** Each flow's last backlog value before `from`: where its line starts. */
	startGauges: { flowId: string; queued: number }[];
}

/** The buckets of one flow, or of all flows, whose minute lies in [from, to). */
export async function readStatsRows(d1: D1Database, flowId: string | undefined, from: number, to: number): Promise<StatsRows> {
	// ?3 is null for all flows.
	const flow = "AND (?3 IS NULL OR flow_id = ?3)";
	const query = (text: string) => prepareNumbered(d1, text, [from, to, flowId ?? null]);
	const [counts, latency, gauges, startGauges] = await d1.batch([
		query(`SELECT minute, sum(received) AS received, sum(succeeded) AS succeeded, sum(failed) AS failed
			FROM stats_minutes WHERE minute >= ?1 AND minute < ?2 ${flow} GROUP BY minute ORDER BY minute`),
		query(`SELECT minute, bin, sum(count) AS count
			FROM stats_latency WHERE minute >= ?1 AND minute < ?2 ${flow} GROUP BY minute, bin ORDER BY minute`),
		query(`SELECT flow_id AS flowId, minute, queued
			FROM stats_minutes WHERE minute >= ?1 AND minute < ?2 AND queued IS NOT NULL ${flow} ORDER BY minute`),
		// SQLite returns the other columns of the row that holds max(minute).
		query(`SELECT flow_id AS flowId, max(minute) AS last, queued
			FROM stats_minutes WHERE minute < ?1 AND queued IS NOT NULL ${flow} GROUP BY flow_id`),
	]);
	return {
		counts: (counts?.results ?? []) as StatsRows["counts"],
		latency: (latency?.results ?? []) as StatsRows["latency"],
		gauges: (gauges?.results ?? []) as StatsRows["gauges"],
		startGauges: (startGauges?.results ?? []) as StatsRows["startGauges"],
	};
}
