/**
 * @module
 * The flow object's tables, created on first use and migrated in place: objects created by an
 * older build keep their storage and gain what they lack (lanes, the call flag, the step state).
 */
import { CallSlots } from "./call-slots";
import { RunLogOutbox } from "./outbox";
import { SampleRequests } from "./sample-requests";

const columnsOf = (sql: SqlStorage, table: string) =>
	new Set(
		sql
			.exec<{ name: string }>(`PRAGMA table_info(${table})`)
			.toArray()
			.map((c) => c.name as string),
	);

export function migrateObjectStorage(sql: SqlStorage): void {
	sql.exec(`
		CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
		CREATE TABLE IF NOT EXISTS inbox (
			seq INTEGER PRIMARY KEY AUTOINCREMENT,
			id TEXT NOT NULL UNIQUE,
			version INTEGER NOT NULL,
			received_at INTEGER NOT NULL,
			message TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			attempt_base INTEGER NOT NULL DEFAULT 0,
			next_attempt_at INTEGER NOT NULL DEFAULT 0
		);
		CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
		CREATE INDEX IF NOT EXISTS seen_at ON seen (at);
		CREATE TABLE IF NOT EXISTS staged (id TEXT PRIMARY KEY, message TEXT NOT NULL, at INTEGER NOT NULL);
		CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
		CREATE TABLE IF NOT EXISTS shards (name TEXT PRIMARY KEY);
		CREATE TABLE IF NOT EXISTS sender_ids (id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, at INTEGER NOT NULL);
		CREATE TABLE IF NOT EXISTS rate_window (at INTEGER PRIMARY KEY, count INTEGER NOT NULL);
		${CallSlots.schema}
		${RunLogOutbox.schema}
		${SampleRequests.schema}
	`);
	const inbox = columnsOf(sql, "inbox");
	if (!inbox.has("calling")) sql.exec("ALTER TABLE inbox ADD COLUMN calling INTEGER NOT NULL DEFAULT 0");
	if (!inbox.has("infra_failures")) sql.exec("ALTER TABLE inbox ADD COLUMN infra_failures INTEGER NOT NULL DEFAULT 0");
	// The step machine's state (flows/step-machine.ts), one JSON value on the execution's own row: no row per step.
	if (!inbox.has("state")) sql.exec("ALTER TABLE inbox ADD COLUMN state TEXT");
	if (!columnsOf(sql, "seen").has("content_hash")) sql.exec("ALTER TABLE seen ADD COLUMN content_hash TEXT");
	// Objects created before lanes existed: their executions form the flow's one lane, in their old order.
	if (!inbox.has("lane")) {
		sql.exec(`
			ALTER TABLE inbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
			ALTER TABLE inbox ADD COLUMN order_at INTEGER NOT NULL DEFAULT 0;
			ALTER TABLE inbox ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
		`);
	}
	// Lane heads (the NOT EXISTS probe), the start order (scanned until enough heads are found), the next due time.
	sql.exec(`
		CREATE INDEX IF NOT EXISTS inbox_lane ON inbox (lane, started, order_at, seq);
		CREATE INDEX IF NOT EXISTS inbox_order ON inbox (started DESC, order_at, seq);
		CREATE INDEX IF NOT EXISTS inbox_due ON inbox (next_attempt_at);
	`);
}
