/**
 * @module
 * A flow object's inbox and what guards it: accepted executions waiting in their lanes (`inbox`),
 * the ids seen in the last 24 h (`seen`: a redelivery or a sender's retry creates nothing), payloads
 * too large for a queue message (`staged`), and senders' own ids bound to their content
 * (`sender_ids`). The content-binding rule is `boundId`, written once: the same sender id with
 * other content is a new execution under an id derived from both, never a duplicate.
 */
import { scopedId, stagingKey } from "../flows/execution-ids";
import type { Message } from "../flows/message";
import { type ExecutionState, runsForRunLog } from "../flows/step-machine";
import { DEDUPE_WINDOW_MS } from "./known-ids";
import type { AcceptedExecution, ExecutionMessage } from "./messages";
import type { ObjectState } from "./object-state";
import type { RunLogOutbox } from "./outbox";
import type { ExecutionRecord } from "./run-log";

/** An execution handed to the object that owns its lane (routing.ts decided which). */
export interface LanedExecution extends ExecutionMessage {
	lane: string;
}

export interface RetryRequest extends AcceptedExecution {
	/** Attempts already made, so the retried ones continue the numbering. */
	attemptCount: number;
	/** A failed execution of several steps: where its steps got to, so the retry resumes at the failed step. */
	resume?: ExecutionState | null;
}

export interface InboxRow extends Record<string, SqlStorageValue> {
	seq: number;
	id: string;
	version: number;
	received_at: number;
	message: string;
	/** Calls made so far (all steps). */
	attempts: number;
	attempt_base: number;
	next_attempt_at: number;
	lane: string;
	/** 1 from just before a call is sent until its outcome is stored. */
	calling: number;
	/** Infrastructure failures before a call (nothing sent); bounded by INFRASTRUCTURE_RETRY. */
	infra_failures: number;
	/** The step machine's state (JSON), null before the first step ran. */
	state: string | null;
	/** 1 once its first turn began: it stays its lane's head. */
	started: number;
}

const ROW_COLUMNS =
	"seq, id, version, received_at, message, attempts, attempt_base, next_attempt_at, lane, calling, infra_failures, state, started";

/** The id an execution carrying a sender's own id gets when that id came before with other content. */
export const boundId = (flowId: string, id: string, contentHash: string) => scopedId(flowId, "x-request-id", `${id}\n${contentHash}`);

/** The state as the row keeps it: outputs are bounded by the step machine, the step runs' bodies here (a row holds 2 MB). */
const stored = (state: ExecutionState) => JSON.stringify({ ...state, runs: runsForRunLog(state.runs) });

export class Inbox {
	readonly #sql: SqlStorage;
	readonly #state: ObjectState;
	readonly #outbox: RunLogOutbox;

	constructor(sql: SqlStorage, state: ObjectState, outbox: RunLogOutbox) {
		this.#sql = sql;
		this.#state = state;
		this.#outbox = outbox;
	}

	stage(key: string, message: Message): void {
		// The queue's schema drops a top-level `__proto__` key from inline messages; a staged one must not keep it either.
		const { ["__proto__"]: _dropped, ...fields } = Object.fromEntries(Object.entries(message));
		this.#sql.exec("INSERT OR REPLACE INTO staged (id, message, at) VALUES (?, ?, ?)", key, JSON.stringify(fields), Date.now());
	}

	readStaged(keys: string[]): Record<string, Message> {
		const found: Record<string, Message> = {};
		for (const key of keys) {
			const row = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", key).toArray()[0];
			if (row) found[key] = JSON.parse(row.message as string) as Message;
		}
		return found;
	}

	dropStaged(keys: string[]): void {
		for (const key of keys) this.#sql.exec("DELETE FROM staged WHERE id = ?", key);
	}

	/** Main object of a sharded flow: each sender id keeps its own, or (same id, other content) the bound one. */
	async claimSenderIds(flowId: string, items: Array<{ id: string; contentHash: string }>): Promise<string[]> {
		const now = Date.now();
		const ids: string[] = [];
		for (const item of items) {
			const seen = this.#sql
				.exec<{ content_hash: string }>("SELECT content_hash FROM sender_ids WHERE id = ? AND at > ?", item.id, now - DEDUPE_WINDOW_MS)
				.toArray()[0];
			if (seen && seen.content_hash !== item.contentHash) {
				ids.push(await boundId(flowId, item.id, item.contentHash));
				continue;
			}
			if (!seen)
				this.#sql.exec("INSERT OR REPLACE INTO sender_ids (id, content_hash, at) VALUES (?, ?, ?)", item.id, item.contentHash, now);
			ids.push(item.id);
		}
		this.#sql.exec("DELETE FROM sender_ids WHERE at < ?", now - DEDUPE_WINDOW_MS);
		return ids;
	}

	/** The id each item carrying a sender's own id would get if that id came before with other content (computed before the transaction: it cannot await). */
	async boundIds(flowId: string, items: readonly LanedExecution[]): Promise<Map<LanedExecution, string>> {
		const contentIds = new Map<LanedExecution, string>();
		for (const item of items) if (item.contentHash) contentIds.set(item, await boundId(flowId, item.id, item.contentHash));
		return contentIds;
	}

	/** Stores executions (call inside the transaction that records them); duplicates create nothing. */
	accept(
		flowId: string,
		items: LanedExecution[],
		contentIds: ReadonlyMap<LanedExecution, string>,
		startAt: number,
		now: number,
	): { accepted: string[]; duplicates: string[] } {
		const accepted: string[] = [];
		const duplicates: string[] = [];
		const seenHash = (id: string) =>
			this.#sql
				.exec<{ content_hash: string | null }>("SELECT content_hash FROM seen WHERE id = ? AND at > ?", id, now - DEDUPE_WINDOW_MS)
				.toArray()[0];
		for (const item of [...items].sort((a, b) => a.receivedAt - b.receivedAt)) {
			const givenId = item.id;
			const stagedKey = stagingKey(item);
			const seen = seenHash(item.id);
			const contentId = contentIds.get(item);
			if (seen && contentId && seen.content_hash && seen.content_hash !== item.contentHash) item.id = contentId;
			if (seen && (item.id === givenId || seenHash(item.id))) {
				duplicates.push(item.id);
				continue;
			}
			// Inline unless the payload was too large for a queue message (then the consumer fetched it, or it waits here).
			const message = item.message
				? JSON.stringify(item.message)
				: (this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", stagedKey).toArray()[0]?.message as
						| string
						| undefined);
			this.#sql.exec("INSERT OR REPLACE INTO seen (id, at, content_hash) VALUES (?, ?, ?)", item.id, now, item.contentHash ?? null);
			if (!item.message) this.#sql.exec("DELETE FROM staged WHERE id = ?", stagedKey);
			this.#state.bump("received");
			const base: ExecutionRecord = {
				type: "execution",
				id: item.id,
				flowId,
				version: item.version,
				receivedAt: item.receivedAt,
				status: "queued",
			};
			if (message === undefined) {
				// Cannot happen unless the staged payload was purged; fail visibly rather than vanish.
				this.#state.bump("failed");
				this.#outbox.record({
					...base,
					status: "failed",
					error: "The payload of this execution was lost before delivery",
					finishedAt: now,
				});
				continue;
			}
			this.#sql.exec(
				"INSERT INTO inbox (id, version, received_at, message, lane, order_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				item.id,
				item.version,
				item.receivedAt,
				message,
				item.lane,
				item.receivedAt,
				startAt,
			);
			this.#outbox.record({ ...base, input: JSON.parse(message) });
			accepted.push(item.id);
		}
		return { accepted, duplicates };
	}

	/** Which of these ids this object accepted within the dedupe window (known-ids.ts asks, after a layout change). */
	knownIds(ids: string[]): string[] {
		return this.#sql
			.exec<{ id: string }>(
				"SELECT id FROM seen WHERE id IN (SELECT value FROM json_each(?)) AND at > ?",
				JSON.stringify(ids),
				Date.now() - DEDUPE_WINDOW_MS,
			)
			.toArray()
			.map((row) => row.id as string);
	}

	/** Queue messages that exhausted their retries: counted and logged as failed, so they can be retried by hand. */
	recordDeadLetters(flowId: string, items: ExecutionMessage[], now: number): void {
		for (const item of items) {
			if (this.#sql.exec("SELECT 1 FROM seen WHERE id = ?", item.id).toArray().length > 0) continue;
			const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", stagingKey(item)).toArray()[0];
			this.#sql.exec("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", item.id, now);
			this.#state.bump("received");
			this.#state.bump("failed");
			this.#outbox.record({
				type: "execution",
				id: item.id,
				flowId,
				version: item.version,
				receivedAt: item.receivedAt,
				status: "failed",
				input: item.message ?? (staged ? JSON.parse(staged.message as string) : undefined),
				error: "The queue could not hand this execution to its flow; retry it when the cause is fixed",
				finishedAt: now,
			});
		}
	}

	/** Manual retry: the executions join the back of their lanes, keep their attempt history, and resume at the failed step. */
	requeue(flowId: string, items: Array<RetryRequest & { lane: string }>, now: number): string[] {
		const retried: string[] = [];
		for (const item of items) {
			if (this.#sql.exec("SELECT 1 FROM inbox WHERE id = ?", item.id).toArray().length > 0) continue;
			this.#sql.exec(
				"INSERT INTO inbox (id, version, received_at, message, attempt_base, lane, order_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				item.id,
				item.version,
				item.receivedAt,
				JSON.stringify(item.message),
				item.attemptCount,
				item.lane,
				now,
				item.resume ? JSON.stringify(item.resume) : null,
			);
			this.#state.bump("failed", -1);
			this.#outbox.record({
				type: "execution",
				id: item.id,
				flowId,
				version: item.version,
				receivedAt: item.receivedAt,
				status: "queued",
				error: null,
				finishedAt: null,
			});
			retried.push(item.id);
		}
		return retried;
	}

	/** The due heads of idle lanes, started ones first, then by acceptance stamp, then arrival; at most `limit`. */
	dueHeads(now: number, runningLanes: readonly string[], limit: number): InboxRow[] {
		return this.#sql
			.exec<InboxRow>(
				`SELECT ${ROW_COLUMNS} FROM inbox AS i
				WHERE i.next_attempt_at <= ?1
					AND i.lane NOT IN (SELECT value FROM json_each(?2))
					AND NOT EXISTS (SELECT 1 FROM inbox AS j WHERE j.lane = i.lane AND j.seq <> i.seq
						AND (j.started > i.started OR (j.started = i.started AND (j.order_at < i.order_at OR (j.order_at = i.order_at AND j.seq < i.seq)))))
				ORDER BY i.started DESC, i.order_at, i.seq
				LIMIT ?3`,
				now,
				JSON.stringify(runningLanes),
				limit,
			)
			.toArray();
	}

	/** The row as stored now (a turn that goes on re-reads it). */
	row(seq: number): InboxRow | null {
		return this.#sql.exec<InboxRow>(`SELECT ${ROW_COLUMNS} FROM inbox WHERE seq = ?`, seq).toArray()[0] ?? null;
	}

	/** Marked started in storage: whatever arrives late for this lane now queues behind it, also after a restart. No write for a row already started (the next turn of an execution of many steps). */
	markStarted(row: InboxRow): boolean {
		// A read, not a write: the row may have gone while the loop waited for tokens (destroy).
		if (row.started === 1) return this.#sql.exec("SELECT 1 FROM inbox WHERE seq = ?", row.seq).toArray().length > 0;
		return this.#sql.exec("UPDATE inbox SET started = 1 WHERE seq = ?", row.seq).rowsWritten > 0;
	}

	/** Durable before a call leaves: the state the calls start from, and the flag that they are under way. */
	markCalling(seq: number, state: ExecutionState): void {
		this.#sql.exec("UPDATE inbox SET calling = 1, state = ? WHERE seq = ?", stored(state), seq);
	}

	/** The execution goes on (another turn at `atMs`): its state and the calls made so far. */
	continueAt(seq: number, state: ExecutionState, attempts: number, atMs: number): void {
		this.#sql.exec(
			"UPDATE inbox SET state = ?, attempts = ?, next_attempt_at = ?, calling = 0 WHERE seq = ?",
			stored(state),
			attempts,
			atMs,
			seq,
		);
	}

	/** Nothing was sent: wait, without spending an attempt. */
	waitAfterInfrastructure(seq: number, failures: number, atMs: number): void {
		this.#sql.exec("UPDATE inbox SET infra_failures = ?, next_attempt_at = ? WHERE seq = ?", failures, atMs, seq);
	}

	/** Not sent (its rate-limit token came too late, its destination held or full): due again at `atMs`, nothing else changes. */
	deferUntil(seq: number, atMs: number): void {
		this.#sql.exec("UPDATE inbox SET next_attempt_at = ? WHERE seq = ?", atMs, seq);
	}

	remove(seq: number): void {
		this.#sql.exec("DELETE FROM inbox WHERE seq = ?", seq);
	}

	nextDueAfter(now: number): number | null {
		const at = this.#sql
			.exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM inbox WHERE next_attempt_at > ?", now)
			.one().at;
		return at === null ? null : Number(at);
	}

	hasBacklog(): boolean {
		return this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length > 0;
	}

	queue(): { n: number; oldest: number | null } {
		const queue = this.#sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(received_at) AS oldest FROM inbox").one();
		return { n: Number(queue.n), oldest: queue.oldest === null ? null : Number(queue.oldest) };
	}

	/** When the oldest staged payload is past the window (purge drops it then), or null when none is staged. */
	stagedExpiry(): number | null {
		const at = this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM staged").one().at;
		return at === null ? null : Number(at) + DEDUPE_WINDOW_MS + 1;
	}

	/** Ids and payloads past the dedupe window. */
	purge(now: number): void {
		this.#sql.exec("DELETE FROM seen WHERE at < ?", now - DEDUPE_WINDOW_MS);
		this.#sql.exec("DELETE FROM staged WHERE at < ?", now - DEDUPE_WINDOW_MS);
	}
}
