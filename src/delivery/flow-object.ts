import { DurableObject } from "cloudflare:workers";
import type { PetstoreCredential } from "../components/petstore/client";
import type { ActionOutcome, ActionRequest, ActionResponse } from "../components/types";
import { randomBase64Url, toHex, utf8 } from "../crypto/encoding";
import { loadFlowVersion, loadPetstoreCredential } from "../db/queries/flows";
import type { FlowCounters } from "../flows/counters";
import type { FlowDefinition } from "../flows/definition";
import { scopedId, stagingKey } from "../flows/execution-ids";
import type { Message } from "../flows/message";
import { log } from "../log";
import type { AcceptedExecution, ExecutionMessage } from "./messages";
import { afterInfrastructureFailure, afterRetryableFailure, INFRASTRUCTURE_RETRY, parseRetryAfter, resolvePolicy } from "./retry-policy";
import { type ExecutionRecord, type RunLogRecord, writeRunLog } from "./run-log";

/**
 * One object per flow. It is the only place that can promise per-flow order and exactly-once,
 * because it is single-threaded and strongly consistent: accepted executions wait in its inbox
 * (deduplicated by id for 24 h) and its alarm delivers them one at a time, head first; the head
 * blocks the ones behind it while it is being retried.
 *
 * The head is marked `calling` (durably, before the call leaves) until its outcome is stored: an
 * attempt cut short by a restart is then recorded as an attempt (retried under the retry policy,
 * so bounded) instead of silently re-sent, and an outcome too large to store is recorded once
 * without its bodies, final, so the flow moves on.
 */

const DEDUPE_WINDOW_MS = 24 * 60 * 60_000;
const SAMPLE_REQUEST_TTL_MS = 10 * 60_000;
const CREDENTIAL_CACHE_MS = 30_000;
const MAX_EXECUTIONS_PER_ALARM = 50;
const OUTBOX_RETRY_MS = 5_000;
const OUTBOX_BATCH = 40;
const RUN_LOG_FLUSH_MS = 250;
const INFRASTRUCTURE_MAX = INFRASTRUCTURE_RETRY.maxFailures;
const INTERRUPTED =
	"The attempt ended without a stored outcome (the object restarted during the call); the call may have reached the Petstore, so the retry carries the same idempotency key";

export type { FlowCounters };

interface InboxRow extends Record<string, SqlStorageValue> {
	seq: number;
	id: string;
	version: number;
	received_at: number;
	message: string;
	attempts: number;
	attempt_base: number;
	next_attempt_at: number;
	/** 1 from just before the action is called until its outcome is stored. */
	calling: number;
	/** Infrastructure failures before the call (nothing sent); bounded by INFRASTRUCTURE_RETRY. */
	infra_failures: number;
}

/** Thrown for failures before the action was called: retrying cannot send anything twice. */
class BeforeCallError extends Error {}

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
		// Columns added after the first release: objects created before then get them here.
		const columns = new Set(
			this.#sql
				.exec<{ name: string }>("PRAGMA table_info(inbox)")
				.toArray()
				.map((c) => c.name),
		);
		if (!columns.has("calling")) this.#sql.exec("ALTER TABLE inbox ADD COLUMN calling INTEGER NOT NULL DEFAULT 0");
		if (!columns.has("infra_failures")) this.#sql.exec("ALTER TABLE inbox ADD COLUMN infra_failures INTEGER NOT NULL DEFAULT 0");
		const seenColumns = new Set(
			this.#sql
				.exec<{ name: string }>("PRAGMA table_info(seen)")
				.toArray()
				.map((c) => c.name),
		);
		if (!seenColumns.has("content_hash")) this.#sql.exec("ALTER TABLE seen ADD COLUMN content_hash TEXT");
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
		// The queue's schema drops a top-level `__proto__` key from inline messages; a staged one must not keep it either.
		const { ["__proto__"]: _dropped, ...fields } = Object.fromEntries(Object.entries(message));
		this.#sql.exec("INSERT OR REPLACE INTO staged (id, message, at) VALUES (?, ?, ?)", id, JSON.stringify(fields), Date.now());
	}

	/**
	 * Stores executions durably (the consumer acks only after this returns). An id seen in the
	 * last 24 h is a duplicate: redelivery or a sender's retry, and creates nothing. A sender's own
	 * `x-request-id` is bound to the content it came with: repeated with another body, it is a new
	 * execution under an id derived from both, never a duplicate of something else.
	 */
	async accept(flowId: string, items: ExecutionMessage[]): Promise<{ accepted: string[]; duplicates: string[] }> {
		const accepted: string[] = [];
		const duplicates: string[] = [];
		const now = Date.now();
		const contentIds = new Map<ExecutionMessage, string>();
		for (const item of items)
			if (item.contentHash) contentIds.set(item, await scopedId(flowId, "x-request-id", `${item.id}\n${item.contentHash}`));
		this.ctx.storage.transactionSync(() => {
			this.#rememberFlowId(flowId);
			const seenHash = (id: string) =>
				this.#sql
					.exec<{ content_hash: string | null }>("SELECT content_hash FROM seen WHERE id = ? AND at > ?", id, now - DEDUPE_WINDOW_MS)
					.toArray()[0];
			for (const item of [...items].sort((a, b) => a.receivedAt - b.receivedAt)) {
				const stagedId = item.id;
				const stagedKey = stagingKey(item);
				const seen = seenHash(item.id);
				const contentId = contentIds.get(item);
				if (seen && contentId && seen.content_hash && seen.content_hash !== item.contentHash) item.id = contentId;
				if (seen && (item.id === stagedId || seenHash(item.id))) {
					duplicates.push(item.id);
					continue;
				}
				const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", stagedKey).toArray()[0];
				const message = item.message ? JSON.stringify(item.message) : (staged?.message as string | undefined);
				this.#sql.exec("INSERT OR REPLACE INTO seen (id, at, content_hash) VALUES (?, ?, ?)", item.id, now, item.contentHash ?? null);
				this.#sql.exec("DELETE FROM staged WHERE id = ?", stagedKey);
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
				const staged = this.#sql.exec<{ message: string }>("SELECT message FROM staged WHERE id = ?", stagingKey(item)).toArray()[0];
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
		const inFlight = Number(this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM inbox").one().n);
		return {
			received: get("received"),
			succeeded: get("succeeded"),
			failed: get("failed"),
			inFlight,
			authFailures: get("authFailures"),
			handshakes: get("handshakes"),
		};
	}

	/** The ingress reports refused authentications here so the dashboard can show them per flow. */
	async addAuthFailures(count: number): Promise<void> {
		this.#bump("authFailures", count);
	}

	/**
	 * A credential changed (new key, new base URL) or was deleted: forget the cached copy so the
	 * next call uses the stored one. The credentials API calls this for every flow using it.
	 */
	async invalidateCredential(credentialId: string): Promise<void> {
		this.#credentials.delete(credentialId);
	}

	/** The ingress reports providers' handshakes it answered (no execution), for the dashboard. */
	async addHandshakes(count: number): Promise<void> {
		this.#bump("handshakes", count);
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
				if (error instanceof BeforeCallError) {
					// The next turn of the loop finds the head waiting (and sets the alarm) or gone (failed).
					this.#afterInfrastructureFailure(head, error.message);
					continue;
				}
				// Storage failed even for the short record: the head is still marked `calling`, so the next alarm records an interrupted attempt.
				log("error", "execution.unrecorded", { flowId: this.#flowId(), executionId: head.id, error: (error as Error).message });
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

	/** Nothing was sent: wait (no attempt spent), visibly and within INFRASTRUCTURE_RETRY, or fail. */
	#afterInfrastructureFailure(head: InboxRow, message: string): void {
		const flowId = this.#flowId();
		const failures = head.infra_failures + 1;
		const next = afterInfrastructureFailure(failures);
		const now = Date.now();
		const base = { type: "execution", id: head.id, flowId, version: head.version, receivedAt: head.received_at } as const;
		log("error", "execution.infrastructure", { flowId, executionId: head.id, failures, error: message });
		this.ctx.storage.transactionSync(() => {
			if (next.action === "retry") {
				this.#sql.exec("UPDATE inbox SET infra_failures = ?, next_attempt_at = ? WHERE seq = ?", failures, now + next.delayMs, head.seq);
				this.#record({
					...base,
					status: "retrying",
					error: `Hookflow could not prepare the call (nothing was sent): ${message}; try ${failures} of ${INFRASTRUCTURE_MAX}, next in ${Math.round(next.delayMs / 1000)} s`,
				});
			} else {
				this.#sql.exec("DELETE FROM inbox WHERE seq = ?", head.seq);
				this.#bump("failed");
				this.#record({
					...base,
					status: "failed",
					error: `${message} (${next.reason})`,
					finishedAt: now,
					durationMs: now - head.received_at,
				});
			}
		});
	}

	async #attempt(head: InboxRow): Promise<void> {
		const flowId = this.#flowId();
		const startedAt = Date.now();
		let definition: FlowDefinition | null = null;
		let credential: PetstoreCredential | null = null;
		let runStep: typeof import("../flows/run-step").runStep;
		let called: ActionOutcome;
		if (head.calling) {
			// The last attempt's call may have reached the Petstore: it counts as an attempt under the retry policy, never as "not sent".
			called = { kind: "retryable", request: null, response: null, error: INTERRUPTED, retryAfter: null };
			definition = await this.#definition(flowId, head.version).catch(() => null);
		} else {
			try {
				definition = await this.#definition(flowId, head.version);
				const step = definition?.steps[0];
				if (step) credential = await this.#credential(step.credentialId, startedAt);
				// JSONata and the Petstore client load with the first delivery, not with the object.
				({ runStep } = await import("../flows/run-step"));
				// Durable before the call leaves (the output gate holds the fetch until this write is stored).
				this.#sql.exec("UPDATE inbox SET calling = 1 WHERE seq = ?", head.seq);
			} catch (error) {
				throw new BeforeCallError((error as Error).message);
			}
			const step = definition?.steps[0];
			try {
				called = step
					? await runStep(step, JSON.parse(head.message), credential, head.id)
					: { kind: "terminal", request: null, response: null, error: `Version ${head.version} of this flow no longer exists` };
			} catch (error) {
				// runStep turns every expected failure into an outcome; anything else must still end the attempt.
				called = { kind: "terminal", request: null, response: null, error: `The step failed unexpectedly: ${(error as Error).message}` };
			}
		}
		const outcome = called;
		const finishedAt = Date.now();
		const attempt = head.attempts + 1;
		const n = head.attempt_base + attempt;
		const next =
			outcome.kind === "retryable"
				? afterRetryableFailure(attempt, resolvePolicy(definition?.retryPolicy), parseRetryAfter(outcome.retryAfter, finishedAt))
				: null;
		let status: "succeeded" | "retrying" | "failed" =
			outcome.kind === "succeeded" ? "succeeded" : next?.action === "retry" ? "retrying" : "failed";
		let error = outcome.kind === "succeeded" ? null : next?.action === "fail" ? `${outcome.error} (${next.reason})` : outcome.error;

		const store = (request: ActionRequest | null, response: ActionResponse | null) =>
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
					request,
					response,
					error,
					attemptCount: n,
					finishedAt: final ? finishedAt : null,
					durationMs: final ? finishedAt - head.received_at : null,
				});
				if (next?.action === "retry" && status === "retrying") {
					this.#sql.exec(
						"UPDATE inbox SET attempts = ?, next_attempt_at = ?, calling = 0 WHERE seq = ?",
						attempt,
						finishedAt + next.delayMs,
						head.seq,
					);
				} else {
					this.#sql.exec("DELETE FROM inbox WHERE seq = ?", head.seq);
					this.#bump(status === "succeeded" ? "succeeded" : "failed");
				}
			});
		try {
			store(outcome.request, outcome.response);
		} catch (storeError) {
			// The call was made: never "not sent". Record the outcome once without its bodies, final, and move on.
			const cause = (storeError as Error).message;
			log("error", "execution.outcome_too_large", { flowId, executionId: head.id, error: cause });
			status = status === "succeeded" ? "succeeded" : "failed";
			error = `${outcome.kind === "succeeded" ? "The call succeeded" : (error ?? "The call failed")}, but its request and response could not be stored (${cause}); they are left out`;
			store(null, null);
		}
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
