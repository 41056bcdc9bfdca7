/**
 * @module
 * The run-log outbox of one flow object: each state change stores its run-log record in the
 * object's SQLite in the same transaction (`record`), and `flush` copies them to D1 in order, in
 * batches. Under a backlog the object flushes every RUN_LOG_FLUSH_MS instead of after each
 * execution (`flushDue`); a D1 outage leaves the records here for the next flush.
 */
import { errorMessage, log } from "../log";
import { type RunLogRecord, writeRunLog } from "./run-log";

const OUTBOX_BATCH = 40;
/** Under a backlog, one D1 batch per 250 ms instead of one per execution. */
export const RUN_LOG_FLUSH_MS = 250;

export class RunLogOutbox {
	readonly #sql: SqlStorage;
	readonly #db: () => D1Database;
	readonly #flowId: () => string;
	#flushing: Promise<boolean> = Promise.resolve(true);
	#flushedAt = 0;

	constructor(sql: SqlStorage, db: () => D1Database, flowId: () => string) {
		this.#sql = sql;
		this.#db = db;
		this.#flowId = flowId;
	}

	static readonly schema = "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);";

	/** Call inside the transaction that makes the change the record describes. */
	record(record: RunLogRecord): void {
		this.#sql.exec("INSERT INTO outbox (record) VALUES (?)", JSON.stringify(record));
	}

	pending(): boolean {
		return this.#sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
	}

	/** A lone change is written at once; under a backlog, once per RUN_LOG_FLUSH_MS. */
	flushDue(nowMs: number, backlog: boolean): boolean {
		return !backlog || nowMs - this.#flushedAt >= RUN_LOG_FLUSH_MS;
	}

	/**
	 * Copies the records to D1 in order; resolves false when D1 refused (they stay for the next
	 * flush). Flushes never overlap, or an older batch could land after a newer one.
	 */
	flush(): Promise<boolean> {
		const run = this.#flushing.then(() => this.#flushOnce());
		this.#flushing = run.catch(() => false);
		return run;
	}

	async #flushOnce(): Promise<boolean> {
		this.#flushedAt = Date.now();
		for (;;) {
			const rows = this.#sql
				.exec<{ seq: number; record: string }>("SELECT seq, record FROM outbox ORDER BY seq LIMIT ?", OUTBOX_BATCH)
				.toArray();
			if (rows.length === 0) return true;
			try {
				const written = await writeRunLog(
					this.#db(),
					this.#flowId(),
					rows.map((r) => JSON.parse(r.record as string) as RunLogRecord),
				);
				if (written === "flowDeleted") log("info", "runlog.flow_deleted", { flowId: this.#flowId(), dropped: rows.length });
			} catch (error) {
				log("warn", "runlog.deferred", { flowId: this.#flowId(), records: rows.length, error: errorMessage(error) });
				return false;
			}
			this.#sql.exec("DELETE FROM outbox WHERE seq <= ?", rows.at(-1)?.seq ?? 0);
		}
	}
}
