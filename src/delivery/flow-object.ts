import { DurableObject } from "cloudflare:workers";
import type { PetstoreCredential } from "../components/petstore/client";
import type { ActionOutcome } from "../components/types";
import { randomBase64Url, toHex, utf8 } from "../crypto/encoding";
import { loadFlowVersion, loadPetstoreCredential } from "../db/queries/flows";
import type { FlowDefinition } from "../flows/definition";
import type { Message } from "../hook/message";
import { log } from "../log";
import type { AcceptedExecution, ExecutionMessage } from "./messages";
import { afterRetryableFailure, parseRetryAfter, resolvePolicy } from "./retry-policy";
import { type ExecutionRecord, type RunLogRecord, writeRunLog } from "./run-log";

/**
 * One object per flow. It is the only place that can promise per-flow order and exactly-once,
 * because it is single-threaded and strongly consistent: accepted executions wait in its inbox
 * (deduplicated by id for 24 h) and its alarm delivers them one at a time, head first; the head
 * blocks the ones behind it while it is being retried.
 */

const DEDUPE_WINDOW_MS = 24 * 60 * 60_000;
const SAMPLE_REQUEST_TTL_MS = 10 * 60_000;
const CREDENTIAL_CACHE_MS = 30_000;
const MAX_EXECUTIONS_PER_ALARM = 50;
const OUTBOX_RETRY_MS = 5_000;
const OUTBOX_BATCH = 40;
const RUN_LOG_FLUSH_MS = 250;

export interface FlowCounters {
	received: number;
	succeeded: number;
	failed: number;
	inFlight: number;
	/** Hook requests refused with 401, as the ingress reported them. */
	authFailures: number;
	/** Accepted and not finished yet. */
	queued: number;
	/** When the oldest queued execution was accepted (epoch ms), or null. */
	oldestQueuedAt: number | null;
	/** Deliveries are held by Pause. */
	paused: boolean;
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
}

export interface RetryRequest extends AcceptedExecution {
	/** Attempts already made, so the retried ones continue the numbering. */
	attemptCount: number;
}

const sha256Hex = async (text: string) => toHex(await crypto.subtle.digest("SHA-256", utf8.encode(text)));

export class FlowObject extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	readonly #versions = new Map<number, FlowDefinition | null>();
	readonly #credentials = new Map<string, { value: PetstoreCredential | null; expiresAt: number }>();
	readonly #sampleWaiters = new Set<() => void>();
	#delivering = false;
	#flushing: Promise<void> = Promise.resolve();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
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
			CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS sample_requests (token_hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, sample TEXT);
		`);
	}

	// ── storage helpers ────────────────────────────────────────────────────────────────────

	#flowId(): string {
		return (this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'flowId'").toArray()[0]?.value as string) ?? "";
	}

	#rememberFlowId(flowId: string): void {
		this.#sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('flowId', ?)", flowId);
	}

	#bump(name: keyof Omit<FlowCounters, "inFlight">, by = 1): void {
		this.#sql.exec(
			"INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
			name,
			by,
		);
	}

	#record(record: RunLogRecord): void {
		this.#sql.exec("INSERT INTO outbox (record) VALUES (?)", JSON.stringify(record));
	}

	async #ensureAlarm(atMs: number): Promise<void> {
		const current = await this.ctx.storage.getAlarm();
		if (current === null || current > atMs) await this.ctx.storage.setAlarm(atMs);
	}

	// ── RPC: accepting executions ──────────────────────────────────────────────────────────

	/** Holds a payload too large for a queue message until its queue reference arrives. */
	async stage(id: string, message: Message): Promise<void> {
		this.#sql.exec("INSERT OR REPLACE INTO staged (id, message, at) VALUES (?, ?, ?)", id, JSON.stringify(message), Date.now());
	}

	/**
	 * Stores executions durably (the consumer acks only after this returns). An id seen in the
	 * last 24 h is a duplicate: redelivery or a sender's retry, and creates nothing.
	 */
	async accept(flowId: string, items: ExecutionMessage[]): Promise<{ accepted: string[]; duplicates: string[] }> {
		const accepted: string[] = [];
		const duplicates: string[] = [];
		const now = Date.now();
		this.ctx.storage.transactionSync(() => {
			this.#rememberFlowId(flowId);
			for (const item of [...items].sort((a, b) => a.receivedAt - b.receivedAt)) {
				if (this.#sql.exec("SELECT 1 FROM seen WHERE id = ? AND at > ?", item.id, now - DEDUPE_WINDOW_MS).toArray().length > 0) {
					duplicates.push(item.id);
					continue;
				}
				const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", item.id).toArray()[0];
				const message = item.message ? JSON.stringify(item.message) : (staged?.message as string | undefined);
				this.#sql.exec("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", item.id, now);
				this.#sql.exec("DELETE FROM staged WHERE id = ?", item.id);
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
					this.#record({ ...base, status: "failed", error: "The payload of this execution was lost before delivery", finishedAt: now });
					continue;
				}
				this.#sql.exec(
					"INSERT INTO inbox (id, version, received_at, message) VALUES (?, ?, ?, ?)",
					item.id,
					item.version,
					item.receivedAt,
					message,
				);
				this.#record({ ...base, input: JSON.parse(message) });
				accepted.push(item.id);
			}
		});
		if (accepted.length > 0) await this.#ensureAlarm(now);
		await this.#flushOutbox();
		return { accepted, duplicates };
	}

	/** Queue messages that exhausted their retries: counted and logged as failed, so they can be retried by hand. */
	async recordDeadLetters(flowId: string, items: ExecutionMessage[]): Promise<void> {
		const now = Date.now();
		this.ctx.storage.transactionSync(() => {
			this.#rememberFlowId(flowId);
			for (const item of items) {
				if (this.#sql.exec("SELECT 1 FROM seen WHERE id = ?", item.id).toArray().length > 0) continue;
				const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", item.id).toArray()[0];
				this.#sql.exec("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", item.id, now);
				this.#bump("received");
				this.#bump("failed");
				this.#record({
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
		await this.#flushOutbox();
	}

	/** Manual retry of failed executions: they join the back of the inbox and keep their attempt history. */
	async retry(flowId: string, items: RetryRequest[]): Promise<string[]> {
		const retried: string[] = [];
		this.ctx.storage.transactionSync(() => {
			this.#rememberFlowId(flowId);
			for (const item of items) {
				if (this.#sql.exec("SELECT 1 FROM inbox WHERE id = ?", item.id).toArray().length > 0) continue;
				this.#sql.exec(
					"INSERT INTO inbox (id, version, received_at, message, attempt_base) VALUES (?, ?, ?, ?, ?)",
					item.id,
					item.version,
					item.receivedAt,
					JSON.stringify(item.message),
					item.attemptCount,
				);
				this.#bump("failed", -1);
				this.#record({
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
		if (retried.length > 0) await this.#ensureAlarm(Date.now());
		await this.#flushOutbox();
		return retried;
	}

	async counters(): Promise<FlowCounters> {
		const rows = this.#sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters").toArray();
		const get = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
		const queue = this.#sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(received_at) AS oldest FROM inbox").one();
		return {
			received: get("received"),
			succeeded: get("succeeded"),
			failed: get("failed"),
			inFlight: this.#delivering && Number(queue.n) > 0 ? 1 : 0,
			authFailures: get("authFailures"),
			queued: Number(queue.n),
			oldestQueuedAt: queue.oldest === null ? null : Number(queue.oldest),
			paused: this.#paused(),
		};
	}

	async flowCounters(_flowId: string): Promise<FlowCounters> {
		return this.counters();
	}

	#paused(): boolean {
		return this.#sql.exec("SELECT 1 FROM meta WHERE key = 'paused'").toArray().length > 0;
	}

	async pauseFlow(flowId: string): Promise<void> {
		this.#rememberFlowId(flowId);
		this.#sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('paused', '1')");
	}

	async resumeFlow(flowId: string): Promise<void> {
		this.#rememberFlowId(flowId);
		this.#sql.exec("DELETE FROM meta WHERE key = 'paused'");
		await this.#ensureAlarm(Date.now());
	}

	async retryExecutions(flowId: string, items: RetryRequest[]): Promise<string[]> {
		return this.retry(flowId, items);
	}

	/** The ingress reports refused authentications here so the dashboard can show them per flow. */
	async addAuthFailures(count: number): Promise<void> {
		this.#bump("authFailures", count);
	}

	/** The flow was deleted: drop everything, pending executions included. */
	async destroy(): Promise<void> {
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		// The instance lives on until evicted: a late queue hand-off must find empty tables, not none.
		this.#migrate();
	}

	// ── RPC: sample requests ───────────────────────────────────────────────────────────────

	async createSampleRequest(flowId: string): Promise<{ token: string; expiresAt: number }> {
		const token = randomBase64Url(24);
		const expiresAt = Date.now() + SAMPLE_REQUEST_TTL_MS;
		this.#rememberFlowId(flowId);
		this.#sql.exec("DELETE FROM sample_requests");
		this.#sql.exec("INSERT INTO sample_requests (token_hash, expires_at) VALUES (?, ?)", await sha256Hex(token), expiresAt);
		return { token, expiresAt };
	}

	/** One use: only an open, unexpired request takes a sample. */
	async deliverSample(token: string, message: Message): Promise<boolean> {
		const hash = await sha256Hex(token);
		const updated = this.#sql.exec(
			"UPDATE sample_requests SET sample = ? WHERE token_hash = ? AND sample IS NULL AND expires_at > ?",
			JSON.stringify(message),
			hash,
			Date.now(),
		).rowsWritten;
		if (updated === 0) return false;
		for (const wake of this.#sampleWaiters) wake();
		return true;
	}

	/** Long-poll: the sample once it has arrived, or null after `waitMs`. */
	async awaitSample(waitMs: number): Promise<{ sample: Message | null; expiresAt: number | null }> {
		const read = () =>
			this.#sql.exec<{ sample: string | null; expires_at: number }>("SELECT sample, expires_at FROM sample_requests").toArray()[0];
		let row = read();
		if (row && row.sample === null && row.expires_at > Date.now() && waitMs > 0) {
			await new Promise<void>((resolve) => {
				const wake = () => {
					clearTimeout(timer);
					this.#sampleWaiters.delete(wake);
					resolve();
				};
				const timer = setTimeout(wake, Math.min(waitMs, row ? row.expires_at - Date.now() : 0));
				this.#sampleWaiters.add(wake);
			});
			row = read();
		}
		return { sample: row?.sample ? (JSON.parse(row.sample as string) as Message) : null, expiresAt: row ? Number(row.expires_at) : null };
	}

	// ── delivery ───────────────────────────────────────────────────────────────────────────

	override async alarm(): Promise<void> {
		// One delivery loop at a time: a second alarm while one runs would break "never two at once".
		if (this.#delivering) return this.#ensureAlarm(Date.now() + 1000);
		this.#delivering = true;
		try {
			await this.#deliver();
		} finally {
			this.#delivering = false;
		}
	}

	async #deliver(): Promise<void> {
		await this.#flushOutbox();
		let flushedAt = Date.now();
		if (this.#paused()) return;
		for (let done = 0; done < MAX_EXECUTIONS_PER_ALARM; done++) {
			const head = this.#sql.exec<InboxRow>("SELECT * FROM inbox ORDER BY seq LIMIT 1").toArray()[0];
			if (!head) break;
			const now = Date.now();
			if (head.next_attempt_at > now) {
				await this.#flushOutbox();
				await this.ctx.storage.setAlarm(head.next_attempt_at);
				return;
			}
			try {
				await this.#attempt(head);
			} catch (error) {
				// Infrastructure trouble (D1 unreadable): nothing was sent, so try again soon without spending an attempt.
				log("error", "execution.infrastructure", { flowId: this.#flowId(), executionId: head.id, error: (error as Error).message });
				await this.ctx.storage.setAlarm(Date.now() + OUTBOX_RETRY_MS);
				return;
			}
			// Under a backlog, one D1 batch per RUN_LOG_FLUSH_MS instead of one per execution; a lone execution is flushed at once.
			if (Date.now() - flushedAt >= RUN_LOG_FLUSH_MS || this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length === 0) {
				await this.#flushOutbox();
				flushedAt = Date.now();
			}
		}
		await this.#flushOutbox();
		this.#sql.exec("DELETE FROM seen WHERE at < ?", Date.now() - DEDUPE_WINDOW_MS);
		this.#sql.exec("DELETE FROM staged WHERE at < ?", Date.now() - DEDUPE_WINDOW_MS);
		const more = this.#sql.exec("SELECT 1 FROM inbox LIMIT 1").toArray().length > 0;
		const unflushed = this.#sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
		if (more) await this.ctx.storage.setAlarm(Date.now());
		else if (unflushed) await this.ctx.storage.setAlarm(Date.now() + OUTBOX_RETRY_MS);
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

	async #attempt(head: InboxRow): Promise<void> {
		const flowId = this.#flowId();
		const startedAt = Date.now();
		const definition = await this.#definition(flowId, head.version);
		const step = definition?.steps[0];
		// JSONata and the Petstore client load with the first delivery, not with the object.
		const { runStep } = await import("../flows/run-step");
		const outcome: ActionOutcome = step
			? await runStep(step, JSON.parse(head.message), await this.#credential(step.credentialId, startedAt), head.id)
			: { kind: "terminal", request: null, response: null, error: `Version ${head.version} of this flow no longer exists` };
		const finishedAt = Date.now();
		const attempt = head.attempts + 1;
		const n = head.attempt_base + attempt;
		const next =
			outcome.kind === "retryable"
				? afterRetryableFailure(attempt, resolvePolicy(definition?.retryPolicy), parseRetryAfter(outcome.retryAfter, finishedAt))
				: null;
		const status = outcome.kind === "succeeded" ? "succeeded" : next?.action === "retry" ? "retrying" : "failed";
		const error = outcome.kind === "succeeded" ? null : next?.action === "fail" ? `${outcome.error} (${next.reason})` : outcome.error;

		this.ctx.storage.transactionSync(() => {
			const base = { flowId, version: head.version, receivedAt: head.received_at };
			this.#record({
				type: "attempt",
				executionId: head.id,
				n,
				startedAt,
				durationMs: finishedAt - startedAt,
				status: outcome.response?.status ?? null,
				outcome: status === "retrying" ? "retry" : status,
				error,
			});
			const final = status !== "retrying";
			this.#record({
				type: "execution",
				id: head.id,
				...base,
				status,
				request: outcome.request,
				response: outcome.response,
				error,
				attemptCount: n,
				finishedAt: final ? finishedAt : null,
				durationMs: final ? finishedAt - head.received_at : null,
			});
			if (next?.action === "retry") {
				this.#sql.exec("UPDATE inbox SET attempts = ?, next_attempt_at = ? WHERE seq = ?", attempt, finishedAt + next.delayMs, head.seq);
			} else {
				this.#sql.exec("DELETE FROM inbox WHERE seq = ?", head.seq);
				this.#bump(status === "succeeded" ? "succeeded" : "failed");
			}
		});
		log(status === "succeeded" ? "info" : status === "retrying" ? "warn" : "error", "execution", {
			flowId,
			executionId: head.id,
			version: head.version,
			attempt: n,
			status,
			ms: finishedAt - startedAt,
			petstoreStatus: outcome.response?.status ?? null,
			retryInMs: next?.action === "retry" ? next.delayMs : undefined,
		});
	}

	/** Copies outbox records to D1 in order; flushes never overlap, or an older batch could land after a newer one. */
	#flushOutbox(): Promise<void> {
		const run = this.#flushing.then(() => this.#flushOnce());
		// The chain only orders flushes; the caller awaits `run` and sees its failure.
		this.#flushing = run.catch(() => {});
		return run;
	}

	/** On failure the records stay in the outbox and the alarm tries again. */
	async #flushOnce(): Promise<void> {
		for (;;) {
			const rows = this.#sql
				.exec<{ seq: number; record: string }>("SELECT seq, record FROM outbox ORDER BY seq LIMIT ?", OUTBOX_BATCH)
				.toArray();
			if (rows.length === 0) return;
			try {
				await writeRunLog(
					this.env.DB,
					rows.map((r) => JSON.parse(r.record as string) as RunLogRecord),
				);
			} catch (error) {
				log("warn", "runlog.deferred", { flowId: this.#flowId(), records: rows.length, error: (error as Error).message });
				await this.#ensureAlarm(Date.now() + OUTBOX_RETRY_MS);
				return;
			}
			this.#sql.exec("DELETE FROM outbox WHERE seq <= ?", rows.at(-1)?.seq ?? 0);
		}
	}
}
