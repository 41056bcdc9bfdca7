/**
 * @module
 * A flow object: the only place that can promise order and exactly-once, because it is
 * single-threaded and strongly consistent. It stores and schedules; every decision is a pure
 * function (next-step.ts, backpressure.ts, rate-window.ts, shards.ts).
 *
 * Accepted executions wait in its inbox (deduplicated by id for 24 h), each in a lane: one lane
 * for ordering "flow", one per key for "key", one per execution for "none". The alarm runs a
 * delivery loop that starts the head of every lane whose head is due, up to the object's
 * concurrency (its share of the flow's, see shards.ts, cut by backpressure) and the flow's rate
 * limit; a lane's head blocks the rest of its lane until it succeeds or fails, so a retrying key
 * holds up that key only. Pause holds every start; running calls finish.
 *
 * Acceptance order (issue 11 item 6). Lanes are ordered by the ingress's acceptance stamp
 * (`receivedAt`, then arrival order), not by when the queue handed an execution over. Queues
 * does not promise FIFO and runs consumer invocations concurrently, so a hook accepted earlier can
 * reach the object a moment after a later one of its lane. Therefore an ordered execution may
 * not start until REORDER_WINDOW_MS after it reached the object: anything accepted before it that
 * arrives within that window still goes first. The window covers the skew between consumer
 * invocations handing over batches at the same time (milliseconds to a few hundred); it does not
 * cover a hand-over that failed and is redelivered by the queue seconds later (the README says
 * so). The cost: on an idle flow every ordered delivery starts REORDER_WINDOW_MS later; under a
 * backlog executions have waited longer than that anyway, so throughput is unchanged. Ordering
 * "none" has no window. A lane's started head stays its head, whatever arrives late.
 *
 * The flow's main object (named by the flow id) also keeps staged payloads, sample requests, the
 * authentication-failure counter, the list of shards, the rate-limit log, and fans pause,
 * resume, slow-downs, counters and destroy out to the shards (flow-control.ts is the API's door).
 */
import { DurableObject } from "cloudflare:workers";
import type { PetstoreCredential } from "../components/petstore/client";
import type { ActionOutcome, ActionRequest, ActionResponse } from "../components/types";
import { loadFlowVersion, loadPetstoreCredential } from "../db/queries/flows";
import type { FlowCounters } from "../flows/counters";
import type { FlowDefinition } from "../flows/definition";
import { scopedId, stagingKey } from "../flows/execution-ids";
import type { Message } from "../flows/message";
import { errorMessage, log } from "../log";
import { capacity, describeSlowDown, freshPace, type Pace, slowDown, speedUp } from "./backpressure";
import { DEDUPE_WINDOW_MS } from "./known-ids";
import type { AcceptedExecution, ExecutionMessage } from "./messages";
import { decideAfterAttempt } from "./next-step";
import { RunLogOutbox } from "./outbox";
import { callMayStart, decideGrant, grantStamp, grantStampShift, type RateLimit, sliceMs } from "./rate-window";
import { afterInfrastructureFailure, INFRASTRUCTURE_RETRY, resolvePolicy } from "./retry-policy";
import { byObject, type ObjectSettings, publishedSettings, routeExecutions, settingsFor } from "./routing";
import type { ExecutionRecord } from "./run-log";
import { SampleRequests } from "./sample-requests";
import { type DeliveryPlan, REORDER_WINDOW_MS } from "./shards";

const CREDENTIAL_CACHE_MS = 30_000;
const INTERRUPTED =
	"The attempt ended without a stored outcome (the object restarted during the call); the call may have reached the Petstore, so the retry carries the same idempotency key";
const OUTBOX_RETRY_MS = 5_000;
/** One alarm runs the loop this long, then hands over to the next alarm (running calls carry on). */
const LOOP_BUDGET_MS = 30_000;
/**
 * While a loop runs, an alarm stays armed this far ahead (re-armed every WATCHDOG_REARM_MS): if the
 * object dies mid-loop, it restarts delivery of what was under way within this long.
 */
const WATCHDOG_MS = 10_000;
const WATCHDOG_REARM_MS = 5_000;

export type { FlowCounters };

/** An execution handed to the object that owns its lane (routing.ts decided which). */
export interface LanedExecution extends ExecutionMessage {
	lane: string;
}

export interface RetryRequest extends AcceptedExecution {
	/** Attempts already made, so the retried ones continue the numbering. */
	attemptCount: number;
}

interface InboxRow extends Record<string, SqlStorageValue> {
	seq: number;
	id: string;
	version: number;
	received_at: number;
	message: string;
	attempts: number;
	attempt_base: number;
	next_attempt_at: number;
	lane: string;
	/** 1 from just before the action is called until its outcome is stored. */
	calling: number;
	/** Infrastructure failures before the call (nothing sent); bounded by INFRASTRUCTURE_RETRY. */
	infra_failures: number;
}

const CACHED_META = new Set(["flowId", "objectName", "paused", "settings", "deleted"]);

const DEFAULT_SETTINGS: ObjectSettings = { version: 0, concurrency: 1, rateLimit: null, ordered: true };

export class FlowObject extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	readonly #outbox: RunLogOutbox;
	readonly #samples: SampleRequests;
	readonly #versions = new Map<number, FlowDefinition | null>();
	readonly #credentials = new Map<string, { value: PetstoreCredential | null; expiresAt: number }>();
	/** Executions being attempted, by inbox seq. */
	readonly #running = new Map<number, string>();
	#looping = false;
	/**
	 * Meta values read on every delivery, cached: only this object writes them (#setMeta), and a
	 * rolled-back transaction clears the cache (#transaction). Not the pace: tests reset it in storage.
	 */
	readonly #metaCache = new Map<string, string | null>();
	#parsedSettings: { stored: string | null; value: ObjectSettings } = { stored: null, value: DEFAULT_SETTINGS };
	/** Set by a kick or a finished call while the loop runs, so neither is lost while the loop is not waiting. */
	#kicked = false;
	#wake: (() => void) | null = null;
	/** Pause and resume calls so far, so a shard's registration does not undo a newer one. */
	#pauseToggles = 0;
	/** Bumped by destroy(): attempts started before it must not write into the emptied storage. */
	#generation = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		this.#outbox = new RunLogOutbox(
			this.#sql,
			() => this.env.DB,
			() => this.#flowId(),
		);
		this.#samples = new SampleRequests(this.#sql);
		// Not awaited on purpose: a constructor cannot await, and blockConcurrencyWhile holds every event until it is done.
		void ctx.blockConcurrencyWhile(async () => this.#migrate());
	}

	#migrate(): void {
		this.#sql.exec(`
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
			${RunLogOutbox.schema}
			${SampleRequests.schema}
		`);
		// Objects created before lanes existed: their executions form the flow's one lane, in their old order.
		const columns = new Set(
			this.#sql
				.exec<{ name: string }>("PRAGMA table_info(inbox)")
				.toArray()
				.map((c) => c.name as string),
		);
		if (!columns.has("calling")) this.#sql.exec("ALTER TABLE inbox ADD COLUMN calling INTEGER NOT NULL DEFAULT 0");
		if (!columns.has("infra_failures")) this.#sql.exec("ALTER TABLE inbox ADD COLUMN infra_failures INTEGER NOT NULL DEFAULT 0");
		const seenColumns = new Set(
			this.#sql
				.exec<{ name: string }>("PRAGMA table_info(seen)")
				.toArray()
				.map((c) => c.name as string),
		);
		if (!seenColumns.has("content_hash")) this.#sql.exec("ALTER TABLE seen ADD COLUMN content_hash TEXT");
		if (!columns.has("lane")) {
			this.#sql.exec(`
				ALTER TABLE inbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
				ALTER TABLE inbox ADD COLUMN order_at INTEGER NOT NULL DEFAULT 0;
				ALTER TABLE inbox ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
			`);
		}
		// Lane heads (the NOT EXISTS probe), the start order (scanned until enough heads are found), the next due time.
		this.#sql.exec(`
			CREATE INDEX IF NOT EXISTS inbox_lane ON inbox (lane, started, order_at, seq);
			CREATE INDEX IF NOT EXISTS inbox_order ON inbox (started DESC, order_at, seq);
			CREATE INDEX IF NOT EXISTS inbox_due ON inbox (next_attempt_at);
		`);
	}

	// ── storage helpers ────────────────────────────────────────────────────────────────────

	#meta(key: string): string | null {
		if (CACHED_META.has(key) && this.#metaCache.has(key)) return this.#metaCache.get(key) ?? null;
		const value = (this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value as string) ?? null;
		if (CACHED_META.has(key)) this.#metaCache.set(key, value);
		return value;
	}

	#setMeta(key: string, value: string | null): void {
		if (value === null) this.#sql.exec("DELETE FROM meta WHERE key = ?", key);
		else this.#sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
		this.#metaCache.delete(key);
	}

	/** transactionSync that also forgets cached meta values when it rolls back (they may hold its writes). */
	#transaction(body: () => void): void {
		try {
			this.ctx.storage.transactionSync(body);
		} catch (error) {
			this.#metaCache.clear();
			throw error;
		}
	}

	#flowId(): string {
		return this.#meta("flowId") ?? "";
	}

	#rememberFlowId(flowId: string): void {
		if (this.#meta("flowId") === null) this.#setMeta("flowId", flowId);
	}

	/** The main object is named by the flow id; shards by shards.ts's shardName. */
	#isMain(): boolean {
		const name = this.#meta("objectName");
		return name === null || name === this.#flowId();
	}

	#main(flowId = this.#flowId()) {
		return this.env.FLOW.getByName(flowId);
	}

	#paused(): boolean {
		return this.#meta("paused") !== null;
	}

	/** The flow was deleted (destroy): late hand-overs, retries and shard registrations record nothing. */
	#deleted(): boolean {
		return this.#meta("deleted") !== null;
	}

	#settings(): ObjectSettings {
		const stored = this.#meta("settings");
		if (stored !== this.#parsedSettings.stored)
			this.#parsedSettings = { stored, value: stored ? (JSON.parse(stored) as ObjectSettings) : DEFAULT_SETTINGS };
		return this.#parsedSettings.value;
	}

	/** The newest version's settings win: they are what the flow runs with now. */
	#adoptSettings(settings: ObjectSettings | undefined): void {
		if (settings && settings.version >= this.#settings().version) this.#setMeta("settings", JSON.stringify(settings));
	}

	#pace(): Pace {
		const stored = this.#meta("pace");
		return stored ? (JSON.parse(stored) as Pace) : freshPace(this.#settings().concurrency);
	}

	#bump(name: "received" | "succeeded" | "failed" | "authFailures" | "handshakes", by = 1): void {
		this.#sql.exec(
			"INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
			name,
			by,
		);
	}

	async #ensureAlarm(atMs: number): Promise<void> {
		const current = await this.ctx.storage.getAlarm();
		if (current === null || current > atMs) await this.ctx.storage.setAlarm(atMs);
	}

	/** Something may start now or at `atMs`: a running loop looks again, otherwise the alarm starts one. */
	async #kick(atMs: number): Promise<void> {
		if (this.#looping) this.#signal();
		else await this.#ensureAlarm(atMs);
	}

	/** Tells the running loop to look again. */
	#signal(): void {
		this.#kicked = true;
		this.#wake?.();
	}

	/** Writes the run log now; if D1 refuses, the alarm tries again. */
	async #flushOrLater(): Promise<void> {
		if (!(await this.#outbox.flush())) await this.#kick(Date.now() + OUTBOX_RETRY_MS);
	}

	/**
	 * A shard tells its main object it exists (once), so counters, pause, resume, slow-downs and
	 * destroy reach it, and learns whether the flow is paused.
	 */
	async #identify(flowId: string, objectName: string): Promise<void> {
		this.#rememberFlowId(flowId);
		if (this.#meta("objectName") !== null) return;
		if (objectName !== flowId) {
			const toggles = this.#pauseToggles;
			const { paused, holdUntil, deleted } = await this.#main(flowId).registerShard(flowId, objectName);
			if (deleted) return this.#setMeta("deleted", "1");
			// A pause or resume that reached this shard while it registered is newer than the answer.
			if (paused && toggles === this.#pauseToggles) this.#setMeta("paused", "1");
			// A Retry-After the flow got before this shard existed holds it too.
			if (holdUntil > Date.now()) this.#setMeta("pace", JSON.stringify({ ...this.#pace(), holdUntil }));
		}
		this.#setMeta("objectName", objectName);
	}

	// ── RPC: accepting executions ──────────────────────────────────────────────────────────

	/** Main object: holds a payload too large for a queue message until its queue reference arrives. */
	async stage(key: string, message: Message): Promise<void> {
		if (this.#deleted()) return;
		// The queue's schema drops a top-level `__proto__` key from inline messages; a staged one must not keep it either.
		const { ["__proto__"]: _dropped, ...fields } = Object.fromEntries(Object.entries(message));
		this.#sql.exec("INSERT OR REPLACE INTO staged (id, message, at) VALUES (?, ?, ?)", key, JSON.stringify(fields), Date.now());
	}

	/** Main object: staged payloads by staging key (request-id.ts stagingKey), so the consumer can route them by key. */
	async readStaged(keys: string[]): Promise<Record<string, Message>> {
		const found: Record<string, Message> = {};
		for (const key of keys) {
			const row = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", key).toArray()[0];
			if (row) found[key] = JSON.parse(row.message as string) as Message;
		}
		return found;
	}

	/** Main object: the objects that own these executions have stored their payloads. */
	async dropStaged(keys: string[]): Promise<void> {
		for (const key of keys) this.#sql.exec("DELETE FROM staged WHERE id = ?", key);
	}

	/**
	 * Main object of a sharded flow: a sender's own `x-request-id` is bound to the content it came
	 * with, here, before routing, because the same id with another body may have another key and
	 * so reach another shard, whose dedupe would not see the first. Answers the id each item
	 * keeps: its own, or (same id, other content) one derived from both, as accept() does for an
	 * unsharded flow.
	 */
	async claimSenderIds(flowId: string, items: Array<{ id: string; contentHash: string }>): Promise<string[]> {
		this.#rememberFlowId(flowId);
		const now = Date.now();
		const ids: string[] = [];
		for (const item of items) {
			const seen = this.#sql
				.exec<{ content_hash: string }>("SELECT content_hash FROM sender_ids WHERE id = ? AND at > ?", item.id, now - DEDUPE_WINDOW_MS)
				.toArray()[0];
			if (seen && seen.content_hash !== item.contentHash) {
				ids.push(await scopedId(flowId, "x-request-id", `${item.id}\n${item.contentHash}`));
				continue;
			}
			if (!seen)
				this.#sql.exec("INSERT OR REPLACE INTO sender_ids (id, content_hash, at) VALUES (?, ?, ?)", item.id, item.contentHash, now);
			ids.push(item.id);
		}
		this.#sql.exec("DELETE FROM sender_ids WHERE at < ?", now - DEDUPE_WINDOW_MS);
		return ids;
	}

	/**
	 * Stores executions durably (the consumer acks only after this returns). An id seen in the
	 * last 24 h is a duplicate: redelivery or a sender's retry, and creates nothing. A sender's own
	 * `x-request-id` is bound to the content it came with: repeated with another body, it is a new
	 * execution under an id derived from both, never a duplicate of something else.
	 */
	async accept(
		flowId: string,
		objectName: string,
		items: LanedExecution[],
		settings?: ObjectSettings,
	): Promise<{ accepted: string[]; duplicates: string[] }> {
		await this.#identify(flowId, objectName);
		const accepted: string[] = [];
		const duplicates: string[] = [];
		// A deleted flow's queue backlog is dropped unrecorded (the consumer acks it): nothing comes back to the run log.
		if (this.#deleted()) return { accepted, duplicates };
		const now = Date.now();
		const contentIds = new Map<LanedExecution, string>();
		for (const item of items)
			if (item.contentHash) contentIds.set(item, await scopedId(flowId, "x-request-id", `${item.id}\n${item.contentHash}`));
		const seenHash = (id: string) =>
			this.#sql
				.exec<{ content_hash: string | null }>("SELECT content_hash FROM seen WHERE id = ? AND at > ?", id, now - DEDUPE_WINDOW_MS)
				.toArray()[0];
		let startAt = now;
		this.#transaction(() => {
			this.#adoptSettings(settings);
			startAt = this.#settings().ordered ? now + REORDER_WINDOW_MS : now;
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
				this.#bump("received");
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
					this.#bump("failed");
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
		});
		if (accepted.length > 0) await this.#kick(startAt);
		await this.#flushOrLater();
		return { accepted, duplicates };
	}

	/** Which of these ids this object accepted within the dedupe window (known-ids.ts asks, after a layout change). */
	async knownIds(ids: string[]): Promise<string[]> {
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
	async recordDeadLetters(flowId: string, objectName: string, items: ExecutionMessage[]): Promise<void> {
		await this.#identify(flowId, objectName);
		if (this.#deleted()) return;
		const now = Date.now();
		this.#transaction(() => {
			for (const item of items) {
				if (this.#sql.exec("SELECT 1 FROM seen WHERE id = ?", item.id).toArray().length > 0) continue;
				const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", stagingKey(item)).toArray()[0];
				this.#sql.exec("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", item.id, now);
				this.#bump("received");
				this.#bump("failed");
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
		});
		await this.#flushOrLater();
	}

	/** Main object: manual retry of failed executions, each sent back to the object that owns its id. */
	async retryExecutions(flowId: string, items: RetryRequest[]): Promise<string[]> {
		this.#rememberFlowId(flowId);
		const groups = byObject(await routeExecutions(this.env, flowId, items));
		const retried = await Promise.all(
			[...groups].map(([object, entries]) => {
				const laned = entries.map(({ item, route }) => ({ ...item, lane: route.lane }));
				const settings = settingsFor(entries);
				return object === flowId
					? this.retry(flowId, object, laned, settings)
					: this.env.FLOW.getByName(object).retry(flowId, object, laned, settings);
			}),
		);
		return retried.flat();
	}

	/** Manual retry: the executions join the back of their lanes and keep their attempt history. */
	async retry(
		flowId: string,
		objectName: string,
		items: Array<RetryRequest & { lane: string }>,
		settings?: ObjectSettings,
	): Promise<string[]> {
		await this.#identify(flowId, objectName);
		const retried: string[] = [];
		if (this.#deleted()) return retried;
		const now = Date.now();
		this.#transaction(() => {
			this.#adoptSettings(settings);
			for (const item of items) {
				if (this.#sql.exec("SELECT 1 FROM inbox WHERE id = ?", item.id).toArray().length > 0) continue;
				this.#sql.exec(
					"INSERT INTO inbox (id, version, received_at, message, attempt_base, lane, order_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
					item.id,
					item.version,
					item.receivedAt,
					JSON.stringify(item.message),
					item.attemptCount,
					item.lane,
					now,
				);
				this.#bump("failed", -1);
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
		});
		if (retried.length > 0) await this.#kick(now);
		await this.#flushOrLater();
		return retried;
	}

	// ── RPC: counters, pause, resume ───────────────────────────────────────────────────────

	/** This object's own counters. */
	async counters(): Promise<FlowCounters> {
		const rows = this.#sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters").toArray();
		const get = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
		const queue = this.#sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(received_at) AS oldest FROM inbox").one();
		return {
			received: get("received"),
			succeeded: get("succeeded"),
			failed: get("failed"),
			inFlight: this.#running.size,
			authFailures: get("authFailures"),
			handshakes: get("handshakes"),
			queued: Number(queue.n),
			oldestQueuedAt: queue.oldest === null ? null : Number(queue.oldest),
			paused: this.#paused(),
		};
	}

	#shardNames(): string[] {
		return this.#sql
			.exec<{ name: string }>("SELECT name FROM shards ORDER BY name")
			.toArray()
			.map((r) => r.name as string);
	}

	/** Main object: the flow's counters, its shards' added in. */
	async flowCounters(flowId: string): Promise<FlowCounters> {
		this.#rememberFlowId(flowId);
		const all = [await this.counters(), ...(await Promise.all(this.#shardNames().map((name) => this.env.FLOW.getByName(name).counters())))];
		return all.reduce((total, c) => ({
			received: total.received + c.received,
			succeeded: total.succeeded + c.succeeded,
			failed: total.failed + c.failed,
			inFlight: total.inFlight + c.inFlight,
			authFailures: total.authFailures + c.authFailures,
			handshakes: total.handshakes + c.handshakes,
			queued: total.queued + c.queued,
			oldestQueuedAt:
				total.oldestQueuedAt === null
					? c.oldestQueuedAt
					: c.oldestQueuedAt === null
						? total.oldestQueuedAt
						: Math.min(total.oldestQueuedAt, c.oldestQueuedAt),
			paused: total.paused,
		}));
	}

	/** Main object: a shard introduces itself; it learns whether the flow is paused or held. */
	async registerShard(flowId: string, name: string): Promise<{ paused: boolean; holdUntil: number; deleted: boolean }> {
		if (this.#deleted()) return { paused: true, holdUntil: 0, deleted: true };
		this.#rememberFlowId(flowId);
		this.#sql.exec("INSERT OR IGNORE INTO shards (name) VALUES (?)", name);
		return { paused: this.#paused(), holdUntil: this.#pace().holdUntil, deleted: false };
	}

	/** Holds deliveries here; calls under way finish. */
	async pause(): Promise<void> {
		this.#pauseToggles++;
		this.#setMeta("paused", "1");
	}

	/** Releases held deliveries here, lanes in their order. */
	async resume(): Promise<void> {
		this.#pauseToggles++;
		this.#setMeta("paused", null);
		if (this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length > 0) await this.#kick(Date.now());
	}

	/** Main object: pause the flow. The flag is set here first, so a shard registering meanwhile learns it. */
	async pauseFlow(flowId: string): Promise<void> {
		this.#rememberFlowId(flowId);
		await this.pause();
		await Promise.all(this.#shardNames().map((name) => this.env.FLOW.getByName(name).pause()));
	}

	async resumeFlow(flowId: string): Promise<void> {
		this.#rememberFlowId(flowId);
		await this.resume();
		await Promise.all(this.#shardNames().map((name) => this.env.FLOW.getByName(name).resume()));
	}

	/** Main object: the ingress reports refused authentications here so the dashboard can show them per flow. */
	async addAuthFailures(count: number): Promise<void> {
		this.#bump("authFailures", count);
	}

	/**
	 * A credential changed (new key, new base URL) or was deleted: forget the cached copy so the
	 * next call uses the stored one. The credentials API calls the main object of every flow using
	 * it, which passes it on to its shards.
	 */
	async invalidateCredential(credentialId: string): Promise<void> {
		this.#credentials.delete(credentialId);
		if (this.#isMain())
			await Promise.all(this.#shardNames().map((name) => this.env.FLOW.getByName(name).invalidateCredential(credentialId)));
	}

	/** The ingress reports providers' handshakes it answered (no execution), for the dashboard. */
	async addHandshakes(count: number): Promise<void> {
		this.#bump("handshakes", count);
	}

	/** The flow was deleted: drop everything, pending executions included, in every object of the flow. */
	async destroy(): Promise<void> {
		const shards = this.#isMain() ? this.#shardNames() : [];
		await Promise.all(shards.map((name) => this.env.FLOW.getByName(name).destroy()));
		this.#generation++;
		this.#running.clear();
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		this.#metaCache.clear();
		// The instance lives on until evicted: a late queue hand-off must find empty tables, not none.
		this.#migrate();
		// One row stays: the queue may still hold the flow's hooks, and they must not come back as executions.
		this.#setMeta("deleted", "1");
	}

	// ── RPC: rate limit and backpressure across the flow's objects ─────────────────────────

	/** Main object: tokens for `want` calls under the flow's rate limit (rate-window.ts); each call must start by callMayStart(grantedAt). */
	async acquireTokens(want: number, limit: RateLimit): Promise<{ granted: number; retryAt: number | null; grantedAt: number }> {
		const now = Date.now();
		this.#sql.exec("DELETE FROM rate_window WHERE at <= ?", now - limit.perSeconds * 1000);
		const window = this.#sql
			.exec<{ used: number | null; oldest: number | null }>("SELECT sum(count) AS used, min(at) AS oldest FROM rate_window")
			.one();
		const slice = this.#sql
			.exec<{ used: number | null; oldest: number | null }>(
				"SELECT sum(count) AS used, min(at) AS oldest FROM rate_window WHERE at > ?",
				// Stamps are shifted by the grace: the slice (smoothing) is kept on grant times.
				now + grantStampShift() - sliceMs(limit),
			)
			.one();
		const decision = decideGrant(Number(window.used ?? 0), window.oldest === null ? null : Number(window.oldest), now, want, limit, {
			used: Number(slice.used ?? 0),
			oldestAt: slice.oldest === null ? null : Number(slice.oldest) - grantStampShift(),
		});
		if (decision.granted > 0)
			this.#sql.exec(
				"INSERT INTO rate_window (at, count) VALUES (?, ?) ON CONFLICT (at) DO UPDATE SET count = count + excluded.count",
				grantStamp(now, limit),
				decision.granted,
			);
		return { ...decision, grantedAt: now };
	}

	/**
	 * Main object: a version was published. Its delivery settings govern every object of the flow
	 * at once, executions already waiting included (pause, publish a rate limit, resume).
	 */
	async applyPublishedSettings(flowId: string, version: number, plan: DeliveryPlan): Promise<void> {
		this.#rememberFlowId(flowId);
		if (this.#deleted()) return;
		const names = [flowId, ...this.#shardNames()];
		await Promise.all(
			names.map((name) => {
				const settings = publishedSettings(flowId, name, version, plan);
				return name === flowId ? this.adoptPublishedSettings(settings) : this.env.FLOW.getByName(name).adoptPublishedSettings(settings);
			}),
		);
	}

	/** The flow's newest settings, from the main object: the delivery loop applies them from its next start on. */
	async adoptPublishedSettings(settings: ObjectSettings): Promise<void> {
		this.#adoptSettings(settings);
		if (this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length > 0) await this.#kick(Date.now());
	}

	/** Main object: one object of the flow got a 429/503; every other one slows down too. */
	async slowFlow(from: string, holdUntil: number, reason: string): Promise<void> {
		const targets = [this.#flowId(), ...this.#shardNames()].filter((name) => name !== from);
		await Promise.all(
			targets.map((name) =>
				name === this.#flowId() ? this.applySlowDown(holdUntil, reason) : this.env.FLOW.getByName(name).applySlowDown(holdUntil, reason),
			),
		);
	}

	/** Another object of the flow was told to slow down: halve here too, and hold until `holdUntil`. */
	async applySlowDown(holdUntil: number, reason: string): Promise<void> {
		const now = Date.now();
		const before = this.#pace();
		const after = slowDown(before, this.#settings().concurrency, now, holdUntil > now ? holdUntil - now : null);
		this.#setMeta("pace", JSON.stringify(after));
		log("warn", "flow.slowed", {
			flowId: this.#flowId(),
			reason,
			limit: after.limit,
			was: before.limit,
			holdUntil: after.holdUntil || null,
		});
	}

	// ── RPC: sample requests (main object) ─────────────────────────────────────────────────

	async createSampleRequest(flowId: string): Promise<{ token: string; expiresAt: number }> {
		this.#rememberFlowId(flowId);
		return this.#samples.create();
	}

	async deliverSample(token: string, message: Message): Promise<boolean> {
		return this.#samples.deliver(token, message);
	}

	async awaitSample(waitMs: number): Promise<{ sample: Message | null; expiresAt: number | null }> {
		return this.#samples.await(waitMs);
	}

	// ── delivery ───────────────────────────────────────────────────────────────────────────

	override async alarm(): Promise<void> {
		// One delivery loop at a time; a running loop picks up whatever this alarm was for.
		if (this.#looping) {
			// This was the watchdog (or an early kick): the loop is alive, so keep one armed and let it look again.
			await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
			return this.#signal();
		}
		this.#looping = true;
		try {
			await this.#loop();
		} finally {
			this.#looping = false;
		}
	}

	/** Starts what may start, waits for a call to finish or the next due time, repeats. */
	async #loop(): Promise<void> {
		const deadline = Date.now() + LOOP_BUDGET_MS;
		const flowId = this.#flowId();
		let armedAt = Date.now();
		await this.ctx.storage.setAlarm(armedAt + WATCHDOG_MS);
		let wakeAt: number | null = null;
		for (;;) {
			this.#kicked = false;
			wakeAt = await this.#startDue();
			if (this.#running.size === 0 || Date.now() > deadline) break;
			if (Date.now() - armedAt >= WATCHDOG_REARM_MS) {
				armedAt = Date.now();
				await this.ctx.storage.setAlarm(armedAt + WATCHDOG_MS);
			}
			// Until a call finishes, a kick arrives, the next due time or the next re-arm; at once if a kick already came.
			if (!this.#kicked) {
				const until = Math.min(wakeAt ?? Number.POSITIVE_INFINITY, armedAt + WATCHDOG_REARM_MS);
				let timer: ReturnType<typeof setTimeout> | undefined;
				await new Promise<void>((resolve) => {
					this.#wake = resolve;
					timer = setTimeout(resolve, Math.max(0, until - Date.now()));
				});
				if (timer !== undefined) clearTimeout(timer);
				this.#wake = null;
			}
			const backlog = this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length > 0;
			// Not awaited: the next starts must not wait for D1; flushes are chained in order.
			if (this.#outbox.pending() && this.#outbox.flushDue(Date.now(), backlog))
				void this.#outbox.flush().catch((error: unknown) => log("warn", "runlog.deferred", { flowId, error: errorMessage(error) }));
		}
		const flushed = await this.#outbox.flush();
		this.#sql.exec("DELETE FROM seen WHERE at < ?", Date.now() - DEDUPE_WINDOW_MS);
		this.#sql.exec("DELETE FROM staged WHERE at < ?", Date.now() - DEDUPE_WINDOW_MS);
		const next = [
			this.#running.size > 0 ? Date.now() : null,
			wakeAt,
			flushed ? null : Date.now() + OUTBOX_RETRY_MS,
			this.#kicked ? Date.now() : null,
		].filter((t): t is number => t !== null);
		// No await between deciding and handing the alarm over: a kick from now on sets its own alarm.
		const scheduled = next.length > 0 ? this.ctx.storage.setAlarm(Math.min(...next)) : this.ctx.storage.deleteAlarm();
		this.#looping = false;
		await scheduled;
	}

	/** Starts the due lane heads that capacity and the rate limit allow; returns when to look again (null: a finishing call or a kick will). */
	async #startDue(): Promise<number | null> {
		const now = Date.now();
		const settings = this.#settings();
		const room = capacity(this.#pace(), settings.concurrency, this.#running.size, this.#paused(), now);
		if (room.free === 0) return room.wakeAt;
		const runningLanes = JSON.stringify([...new Set(this.#running.values())]);
		// A lane's head: started first, then by acceptance stamp, then arrival. Only a due head of an idle lane may start.
		let rows = this.#sql
			.exec<InboxRow>(
				`SELECT seq, id, version, received_at, message, attempts, attempt_base, next_attempt_at, lane, calling, infra_failures FROM inbox AS i
				WHERE i.next_attempt_at <= ?1
					AND i.lane NOT IN (SELECT value FROM json_each(?2))
					AND NOT EXISTS (SELECT 1 FROM inbox AS j WHERE j.lane = i.lane AND j.seq <> i.seq
						AND (j.started > i.started OR (j.started = i.started AND (j.order_at < i.order_at OR (j.order_at = i.order_at AND j.seq < i.seq)))))
				ORDER BY i.started DESC, i.order_at, i.seq
				LIMIT ?3`,
				now,
				runningLanes,
				room.free,
			)
			.toArray();
		let rateWakeAt: number | null = null;
		let grantedAt: number | null = null;
		if (rows.length > 0 && settings.rateLimit) {
			// A token is a call leaving now: load what the calls need first, so a cold start does not delay them past their grant.
			await this.#prepare(rows);
			const {
				granted,
				retryAt,
				grantedAt: at,
			} = this.#isMain()
				? await this.acquireTokens(rows.length, settings.rateLimit)
				: await this.#main().acquireTokens(rows.length, settings.rateLimit);
			// A pause that arrived while the tokens were asked for wins (the tokens are spent unused: erring towards fewer calls).
			rows = this.#paused() ? [] : rows.slice(0, granted);
			rateWakeAt = retryAt;
			grantedAt = at;
		}
		const generation = this.#generation;
		// Read once: the handlers below may run after storage is gone (a restart), where reading it would throw again.
		const flowId = this.#flowId();
		for (const row of rows) {
			// Marked started in storage: whatever arrives late for this lane now queues behind it, also after a restart.
			if (this.#sql.exec("UPDATE inbox SET started = 1 WHERE seq = ?", row.seq).rowsWritten === 0) continue;
			this.#running.set(row.seq, row.lane);
			// Not awaited: the loop waits for signals, and every call signals when it is done.
			void this.#attempt(row, generation, grantedAt)
				.catch((error: unknown) => log("error", "execution.unhandled", { flowId, executionId: row.id, error: errorMessage(error) }))
				.finally(() => {
					// After a destroy, seq numbers start again: this call's entry is gone already.
					if (generation === this.#generation) this.#running.delete(row.seq);
					this.#signal();
				});
		}
		const nextDue = this.#sql
			.exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM inbox WHERE next_attempt_at > ?", now)
			.one().at;
		const times = [rateWakeAt, nextDue === null ? null : Number(nextDue)].filter((t): t is number => t !== null);
		return times.length > 0 ? Math.min(...times) : null;
	}

	/** Loads the versions, credentials and code these rows' calls need; failures are left to the attempt. */
	async #prepare(rows: InboxRow[]): Promise<void> {
		const flowId = this.#flowId();
		const now = Date.now();
		await Promise.all(
			[...new Set(rows.map((r) => r.version))].map(async (version) => {
				const step = (await this.#definition(flowId, version))?.steps[0];
				if (step) await this.#credential(step.credentialId, now);
			}),
		).catch(() => undefined);
		await import("../flows/run-step").catch(() => undefined);
	}

	async #definition(flowId: string, version: number): Promise<FlowDefinition | null> {
		if (!this.#versions.has(version)) this.#versions.set(version, await loadFlowVersion(this.env.DB, flowId, version));
		return this.#versions.get(version) ?? null;
	}

	async #credential(credentialId: string, nowMs: number): Promise<PetstoreCredential | null> {
		const cached = this.#credentials.get(credentialId);
		if (cached && cached.expiresAt > nowMs) return cached.value;
		const value = await loadPetstoreCredential(this.env, credentialId, nowMs);
		this.#credentials.set(credentialId, { value, expiresAt: nowMs + CREDENTIAL_CACHE_MS });
		return value;
	}

	/** Nothing was sent: wait (no attempt spent), visibly and within INFRASTRUCTURE_RETRY, or fail. */
	#afterInfrastructureFailure(row: InboxRow, message: string): void {
		const flowId = this.#flowId();
		const failures = row.infra_failures + 1;
		const next = afterInfrastructureFailure(failures);
		const now = Date.now();
		const base = { type: "execution", id: row.id, flowId, version: row.version, receivedAt: row.received_at } as const;
		log("error", "execution.infrastructure", { flowId, executionId: row.id, failures, error: message });
		this.#transaction(() => {
			if (next.action === "retry") {
				this.#sql.exec("UPDATE inbox SET infra_failures = ?, next_attempt_at = ? WHERE seq = ?", failures, now + next.delayMs, row.seq);
				this.#outbox.record({
					...base,
					status: "retrying",
					error: `Hookflow could not prepare the call (nothing was sent): ${message}; try ${failures} of ${INFRASTRUCTURE_RETRY.maxFailures}, next in ${Math.round(next.delayMs / 1000)} s`,
				});
			} else {
				this.#sql.exec("DELETE FROM inbox WHERE seq = ?", row.seq);
				this.#bump("failed");
				this.#outbox.record({
					...base,
					status: "failed",
					error: `${message} (${next.reason})`,
					finishedAt: now,
					durationMs: now - row.received_at,
				});
			}
		});
	}

	/** The call, or what a restart left of it: an action outcome, or null when nothing could be sent (infrastructure). */
	async #call(
		row: InboxRow,
		flowId: string,
		startedAt: number,
		grantedAt: number | null,
	): Promise<{ definition: FlowDefinition | null; outcome: ActionOutcome } | null> {
		if (row.calling) {
			// The last attempt's call may have reached the Petstore: it counts as an attempt under the retry policy, never as "not sent".
			const definition = await this.#definition(flowId, row.version).catch(() => null);
			return { definition, outcome: { kind: "retryable", request: null, response: null, error: INTERRUPTED, retryAfter: null } };
		}
		let definition: FlowDefinition | null;
		let credential: PetstoreCredential | null = null;
		let runStep: typeof import("../flows/run-step").runStep;
		try {
			definition = await this.#definition(flowId, row.version);
			const step = definition?.steps[0];
			if (step) credential = await this.#credential(step.credentialId, startedAt);
			// JSONata and the Petstore client load with the first delivery, not with the object.
			({ runStep } = await import("../flows/run-step"));
		} catch (error) {
			this.#afterInfrastructureFailure(row, errorMessage(error));
			return null;
		}
		if (grantedAt !== null && !callMayStart(grantedAt, Date.now())) {
			// Too late for its rate-limit token (rate-window.ts): not sent, no attempt spent; the loop asks for a new token.
			log("debug", "execution.token_expired", { flowId, executionId: row.id });
			return null;
		}
		// Durable before the call leaves (the output gate holds the fetch until this write is stored).
		this.#sql.exec("UPDATE inbox SET calling = 1 WHERE seq = ?", row.seq);
		const step = definition?.steps[0];
		try {
			const outcome: ActionOutcome = step
				? await runStep(step, JSON.parse(row.message), credential, row.id)
				: { kind: "terminal", request: null, response: null, error: `Version ${row.version} of this flow no longer exists` };
			return { definition, outcome };
		} catch (error) {
			// runStep turns every expected failure into an outcome; anything else must still end the attempt.
			return {
				definition,
				outcome: { kind: "terminal", request: null, response: null, error: `The step failed unexpectedly: ${errorMessage(error)}` },
			};
		}
	}

	async #attempt(row: InboxRow, generation: number, grantedAt: number | null): Promise<void> {
		const flowId = this.#flowId();
		const startedAt = Date.now();
		const called = await this.#call(row, flowId, startedAt, grantedAt);
		if (called === null || generation !== this.#generation) return;
		const { definition, outcome } = called;
		const finishedAt = Date.now();
		const attempt = row.attempts + 1;
		const n = row.attempt_base + attempt;
		const { next, slowDown: signal } = decideAfterAttempt(outcome, attempt, resolvePolicy(definition?.retryPolicy), finishedAt);
		let status: "succeeded" | "retrying" | "failed" = next.kind === "succeed" ? "succeeded" : next.kind === "retry" ? "retrying" : "failed";

		const before = this.#pace();
		const ceiling = this.#settings().concurrency;
		const after = signal ? slowDown(before, ceiling, finishedAt, signal.retryAfterMs) : speedUp(before, ceiling);
		const slowedBy = signal ? `Petstore answered ${signal.status}: ${describeSlowDown(before, after, finishedAt)}` : null;
		let error = next.kind === "succeed" ? null : slowedBy ? `${next.error}; ${slowedBy}` : next.error;

		const store = (request: ActionRequest | null, response: ActionResponse | null) =>
			this.#transaction(() => {
				// At full speed a success changes nothing: no write.
				if (JSON.stringify(after) !== JSON.stringify(before)) this.#setMeta("pace", JSON.stringify(after));
				this.#outbox.record({
					type: "attempt",
					executionId: row.id,
					n,
					startedAt,
					durationMs: finishedAt - startedAt,
					status: outcome.response?.status ?? null,
					outcome: status === "retrying" ? "retry" : status,
					error,
				});
				const final = status !== "retrying";
				this.#outbox.record({
					type: "execution",
					id: row.id,
					flowId,
					version: row.version,
					receivedAt: row.received_at,
					status,
					request,
					response,
					error,
					attemptCount: n,
					finishedAt: final ? finishedAt : null,
					durationMs: final ? finishedAt - row.received_at : null,
				});
				if (next.kind === "retry" && status === "retrying") {
					this.#sql.exec("UPDATE inbox SET attempts = ?, next_attempt_at = ?, calling = 0 WHERE seq = ?", attempt, next.atMs, row.seq);
				} else {
					this.#sql.exec("DELETE FROM inbox WHERE seq = ?", row.seq);
					this.#bump(status === "succeeded" ? "succeeded" : "failed");
				}
			});
		try {
			store(outcome.request, outcome.response);
		} catch (storeError) {
			// The call was made: never "not sent". Record the outcome once without its bodies, final, and move on.
			const cause = errorMessage(storeError);
			log("error", "execution.outcome_too_large", { flowId, executionId: row.id, error: cause });
			status = status === "succeeded" ? "succeeded" : "failed";
			error = `${outcome.kind === "succeeded" ? "The call succeeded" : (error ?? "The call failed")}, but its request and response could not be stored (${cause}); they are left out`;
			store(null, null);
		}
		log(status === "succeeded" ? "info" : status === "retrying" ? "warn" : "error", "execution", {
			flowId,
			executionId: row.id,
			version: row.version,
			attempt: n,
			status,
			ms: finishedAt - startedAt,
			petstoreStatus: outcome.response?.status ?? null,
			retryInMs: next.kind === "retry" ? next.atMs - finishedAt : undefined,
		});
		if (signal && slowedBy) {
			log("warn", "flow.slowed", { flowId, reason: slowedBy, limit: after.limit, was: before.limit, holdUntil: after.holdUntil || null });
			// Every other object of the flow slows down too; best effort, this one already has.
			const main = this.#main();
			const objectName = this.#meta("objectName") ?? flowId;
			const spread = this.#isMain()
				? this.slowFlow(objectName, after.holdUntil, slowedBy)
				: main.slowFlow(objectName, after.holdUntil, slowedBy);
			await spread.catch((e: unknown) => log("warn", "flow.slow_unspread", { flowId, error: errorMessage(e) }));
		}
	}
}
