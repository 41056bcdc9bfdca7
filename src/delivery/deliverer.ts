/**
 * @module
 * The delivery loop of one flow object. The alarm starts a loop that takes the due head of every
 * idle lane, up to the object's concurrency and the flow's rate limit (one token per turn: each
 * call of an execution of many steps takes its own), and runs one *turn* of each (step-runner.ts):
 * the logic steps up to the next call, the call, the outcome stored. An execution that goes on is
 * due again at once and stays its lane's head, so per-key order holds across whole executions.
 * A lane's head blocks the rest of its lane until it is done, so a retrying key holds up that key
 * only. Pause holds every start; calls under way finish. Decisions are pure (step machine,
 * next-step.ts, backpressure.ts, rate-window.ts, turn-records.ts); this file stores and schedules.
 */
import type { ExecutionState } from "../flows/step-machine";
import { errorMessage, log } from "../log";
import { capacity, freshPace, originRoom, slowDownOrigin, slowDownText, speedUpOrigin } from "./backpressure";
import type { FlowCoordination } from "./flow-coordination";
import { FlowHolds, type TurnTokens } from "./flow-holds";
import type { Inbox, InboxRow } from "./inbox";
import type { ObjectState } from "./object-state";
import type { RunLogOutbox } from "./outbox";
import { callMayStart, type RateLimit } from "./rate-window";
import { afterInfrastructureFailure, INFRASTRUCTURE_RETRY } from "./retry-policy";
import { type RunnableVersion, runTurn } from "./step-runner";
import { TurnInputs } from "./turn-inputs";
import { turnRecords } from "./turn-records";

const OUTBOX_RETRY_MS = 5_000;
/** One alarm runs the loop this long, then hands over to the next alarm (running calls carry on). */
const LOOP_BUDGET_MS = 30_000;
/** While a loop runs, an alarm stays armed this far ahead (re-armed every WATCHDOG_REARM_MS): if the object dies mid-loop, delivery restarts within this long. */
const WATCHDOG_MS = 10_000;
const WATCHDOG_REARM_MS = 5_000;

export interface DelivererParts {
	storage: DurableObjectStorage;
	env: Env;
	state: ObjectState;
	inbox: Inbox;
	outbox: RunLogOutbox;
	coordination(): FlowCoordination;
}

export class Deliverer {
	readonly #parts: DelivererParts;
	readonly #inputs: TurnInputs;
	/** Executions in a turn, by inbox seq: their lane. */
	readonly #running = new Map<number, string>();
	/** Calls under way per destination origin (the per-origin pace). */
	readonly #calls = new Map<string, number>();
	readonly #holds: FlowHolds;
	#looping = false;
	/** Set by a kick or a finished turn while the loop runs, so neither is lost while the loop is not waiting. */
	#kicked = false;
	#wake: (() => void) | null = null;
	/** Bumped by reset() (destroy): turns started before it must not write into the emptied storage. */
	#generation = 0;

	constructor(parts: DelivererParts) {
		this.#parts = parts;
		this.#holds = new FlowHolds(parts.coordination, parts.state);
		this.#inputs = new TurnInputs(parts.env, parts.state);
	}

	get inFlight(): number {
		return this.#running.size;
	}

	reset(): void {
		this.#generation++;
		this.#running.clear();
		this.#calls.clear();
	}

	forgetCredential(credentialId: string): void {
		this.#inputs.forgetCredential(credentialId);
	}

	/** Something may start now or at `atMs`: a running loop looks again, otherwise the alarm starts one. */
	async kick(atMs: number): Promise<void> {
		if (this.#looping) this.#signal();
		else {
			const current = await this.#parts.storage.getAlarm();
			if (current === null || current > atMs) await this.#parts.storage.setAlarm(atMs);
		}
	}

	/** Writes the run log now; if D1 refuses, the alarm tries again. */
	async flushOrLater(): Promise<void> {
		if (!(await this.#parts.outbox.flush())) await this.kick(Date.now() + OUTBOX_RETRY_MS);
	}

	#signal(): void {
		this.#kicked = true;
		this.#wake?.();
	}

	async alarm(): Promise<void> {
		// One delivery loop at a time; a running loop picks up whatever this alarm was for.
		if (this.#looping) {
			// This was the watchdog (or an early kick): the loop is alive, so keep one armed and let it look again.
			await this.#parts.storage.setAlarm(Date.now() + WATCHDOG_MS);
			return this.#signal();
		}
		this.#looping = true;
		try {
			await this.#loop();
		} finally {
			this.#looping = false;
		}
	}

	/** Starts what may start, waits for a turn to finish or the next due time, repeats. */
	async #loop(): Promise<void> {
		const { storage, outbox, inbox, state } = this.#parts;
		const deadline = Date.now() + LOOP_BUDGET_MS;
		const flowId = state.flowId();
		let armedAt = Date.now();
		await storage.setAlarm(armedAt + WATCHDOG_MS);
		let wakeAt: number | null = null;
		for (;;) {
			this.#kicked = false;
			wakeAt = await this.#startDue();
			if (this.#running.size === 0 || Date.now() > deadline) break;
			if (Date.now() - armedAt >= WATCHDOG_REARM_MS) {
				armedAt = Date.now();
				await storage.setAlarm(armedAt + WATCHDOG_MS);
			}
			// Until a turn finishes, a kick arrives, the next due time or the next re-arm; at once if a kick already came.
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
			// Not awaited: the next starts must not wait for D1; flushes are chained in order.
			if (outbox.pending() && outbox.flushDue(Date.now(), inbox.hasBacklog()))
				void outbox.flush().catch((error: unknown) => log("warn", "runlog.deferred", { flowId, error: errorMessage(error) }));
		}
		const flushed = await outbox.flush();
		inbox.purge(Date.now());
		// An object of an older shard layout with nothing left says so: the flow's objects stop leasing call slots.
		const reported = await this.#holds.reportDrained(inbox.hasBacklog());
		const next = [
			this.#running.size > 0 ? Date.now() : null,
			wakeAt,
			flushed && reported ? null : Date.now() + OUTBOX_RETRY_MS,
			this.#kicked ? Date.now() : null,
			// A staged payload whose reference never came is dropped then, also where this object delivers nothing.
			inbox.stagedExpiry(),
		].filter((t): t is number => t !== null);
		// No await between deciding and handing the alarm over: a kick from now on sets its own alarm.
		const scheduled = next.length > 0 ? storage.setAlarm(Math.min(...next)) : storage.deleteAlarm();
		this.#looping = false;
		await scheduled;
	}

	/** Starts the due lane heads that capacity and the rate limit allow; returns when to look again (null: a finishing turn or a kick will). */
	async #startDue(): Promise<number | null> {
		const { state, inbox } = this.#parts;
		const now = Date.now();
		const settings = state.settings();
		// Destinations slow down on their own (per origin, at the call): the object as a whole runs up to its share.
		const room = capacity(freshPace(settings.concurrency), settings.concurrency, this.#running.size, state.paused(), now);
		if (room.free === 0) return room.wakeAt;
		let rows = inbox.dueHeads(now, [...new Set(this.#running.values())], room.free);
		// While an older shard layout drains, each start also needs a slot of the flow's pool (call-slots.ts).
		const { ids: leases, wakeAt: leaseWakeAt } = await this.#holds.leaseSlots(rows.length);
		// A pause that arrived while the slots were asked for wins (they go back below).
		if (leases) rows = state.paused() ? [] : rows.slice(0, leases.length);
		let rateWakeAt: number | null = null;
		let grant: { grantedAt: number; limit: RateLimit } | null = null;
		const limit = settings.rateLimit;
		if (rows.length > 0 && limit) {
			// A token is a call leaving now: load what the calls need first, so a cold start does not delay them past their grant.
			await this.#inputs.warm(rows);
			const granted = await this.#parts.coordination().acquireTokens(rows.length, limit);
			grant = { grantedAt: granted.grantedAt, limit };
			rateWakeAt = granted.retryAt;
			// A pause that arrived while the tokens were asked for wins; its tokens go back.
			if (state.paused()) await this.#holds.returnTokens({ grants: [{ ...grant, count: granted.granted }], callsStarted: 0 });
			rows = state.paused() ? [] : rows.slice(0, granted.granted);
		}
		if (leases && leases.length > rows.length) await this.#holds.releaseSlots(leases.slice(rows.length));
		const generation = this.#generation;
		// Read once: the handlers below may run after storage is gone (a restart), where reading it would throw again.
		const flowId = state.flowId();
		for (const [i, row] of rows.entries()) {
			const tokens: TurnTokens = { grants: grant ? [{ ...grant, count: 1 }] : [], callsStarted: 0 };
			const slot = leases?.slice(i, i + 1) ?? [];
			if (!inbox.markStarted(row)) {
				await Promise.all([this.#holds.returnTokens(tokens), this.#holds.releaseSlots(slot)]);
				continue;
			}
			this.#running.set(row.seq, row.lane);
			// Not awaited: the loop waits for signals, and every turn signals when it is done.
			void this.#turn(row, generation, grant?.grantedAt ?? null, tokens)
				.catch((error: unknown) => log("error", "execution.unhandled", { flowId, executionId: row.id, error: errorMessage(error) }))
				// Before the loop looks again, so a token this turn did not use can start the next call.
				.then(() => Promise.all([this.#holds.returnTokens(tokens), this.#holds.releaseSlots(slot)]))
				.finally(() => {
					// After a destroy, seq numbers start again: this turn's entry is gone already.
					if (generation === this.#generation) this.#running.delete(row.seq);
					this.#signal();
				});
		}
		const times = [rateWakeAt, leaseWakeAt, inbox.nextDueAfter(now)].filter((t): t is number => t !== null);
		return times.length > 0 ? Math.min(...times) : null;
	}

	/** One turn of one execution, and what it leaves stored. */
	async #turn(row: InboxRow, generation: number, grantedAt: number | null, tokens: TurnTokens): Promise<void> {
		const { state, inbox, outbox } = this.#parts;
		const flowId = state.flowId();
		let version: RunnableVersion | null;
		try {
			version = await this.#inputs.version(row.version);
		} catch (error) {
			return this.#afterInfrastructureFailure(row, errorMessage(error));
		}
		if (generation !== this.#generation) return;
		if (!version) {
			const now = Date.now();
			state.transaction(() => {
				inbox.remove(row.seq);
				state.bump("failed");
				outbox.record({
					type: "execution",
					id: row.id,
					flowId,
					version: row.version,
					receivedAt: row.received_at,
					status: "failed",
					request: null,
					response: null,
					error: `Version ${row.version} of this flow no longer exists`,
					finishedAt: now,
					durationMs: now - row.received_at,
				});
			});
			return;
		}
		const started = Date.now();
		if (grantedAt !== null && !callMayStart(grantedAt, started)) {
			// Too late for its rate-limit token (rate-window.ts): not sent, no attempt spent, the token given back; still due, the loop asks for a new one.
			log("debug", "execution.token_expired", { flowId, executionId: row.id });
			return;
		}
		const turn = await runTurn(
			version,
			{
				execution: { id: row.id, flowId, version: row.version, receivedAt: row.received_at },
				message: JSON.parse(row.message),
				state: row.state ? (JSON.parse(row.state) as ExecutionState) : null,
				interrupted: row.calling === 1,
			},
			{
				credential: (id) => this.#inputs.credential(id),
				tokens: this.#inputs.tokens,
				moreCalls: async (want) => {
					const limit = state.settings().rateLimit;
					if (!limit) return want;
					const more = await this.#parts.coordination().acquireTokens(want, limit);
					tokens.grants.push({ grantedAt: more.grantedAt, count: more.granted, limit });
					return more.granted;
				},
				admit: (origins) => {
					// Checked again here, after the mapping, just before the calls leave: a busy moment since the turn
					// began must not carry a call past its grant's start window (the token goes back, a new one is asked for).
					const now = Date.now();
					if (grantedAt !== null && !callMayStart(grantedAt, now)) return { ok: false, wakeAt: now };
					const pace = state.pace();
					for (const origin of new Set(origins)) {
						const room = originRoom(pace, origin, state.settings().concurrency, this.#calls.get(origin) ?? 0, now);
						if (!room.ok) return room;
					}
					return { ok: true };
				},
				underWay: (origin, change) => {
					if (change === 1) tokens.callsStarted++;
					this.#calls.set(origin, (this.#calls.get(origin) ?? 0) + change);
				},
				beforeCalls: (progress) => inbox.markCalling(row.seq, progress),
			},
		);
		if (generation !== this.#generation) return;
		if (turn.kind === "infrastructure") return this.#afterInfrastructureFailure(row, turn.error);
		if (turn.kind === "deferred") return inbox.deferUntil(row.seq, turn.wakeAt);
		const finishedAt = Date.now();
		// Backpressure per destination: a 429/503 halves the calls to its origin, successes grow them back.
		const ceiling = state.settings().concurrency;
		const before = state.pace();
		let after = before;
		for (const attempt of turn.attempts)
			if (attempt.origin && attempt.outcome === "succeeded") after = speedUpOrigin(after, attempt.origin, ceiling);
		for (const signal of turn.slowDowns) after = slowDownOrigin(after, signal.origin, ceiling, finishedAt, signal.retryAfterMs);
		const slowed = turn.slowDowns[0];
		const slowedBy = slowed ? slowDownText(slowed, before, after, ceiling, finishedAt) : null;
		const records = turnRecords(flowId, row, turn, finishedAt, version.multiStep, slowedBy);
		const store = (stored: typeof turn) => {
			const { attempts, execution, callsMade } =
				stored === turn ? records : turnRecords(flowId, row, stored, finishedAt, version.multiStep, slowedBy);
			state.transaction(() => {
				state.setPace(before, after);
				for (const attempt of attempts) outbox.record(attempt);
				if (execution) outbox.record(execution);
				const next = stored.next;
				if (next.kind === "finished") {
					inbox.remove(row.seq);
					state.bump(next.status);
				} else inbox.continueAt(row.seq, stored.state, callsMade, next.kind === "retry" ? next.atMs : finishedAt);
			});
		};
		try {
			store(turn);
		} catch (storeError) {
			// The calls were made: never "not sent". Recorded once without their bodies, final, and the flow moves on.
			const cause = errorMessage(storeError);
			log("error", "execution.outcome_too_large", { flowId, executionId: row.id, error: cause });
			const succeeded = turn.next.kind === "finished" && turn.next.status === "succeeded";
			const said =
				turn.next.kind === "continue" ? "The step succeeded" : succeeded ? "The call succeeded" : (turn.next.error ?? "The call failed");
			const runs = turn.state.runs.map((r) => ({ ...r, request: null, response: null }));
			store({
				...turn,
				state: { ...turn.state, runs },
				next: {
					kind: "finished",
					status: succeeded ? "succeeded" : "failed",
					error: `${said}, but its request and response could not be stored (${cause}); they are left out`,
				},
			});
		}
		const status = turn.next.kind === "finished" ? turn.next.status : turn.next.kind === "retry" ? "retrying" : "running";
		log(status === "failed" ? "error" : status === "retrying" ? "warn" : "info", "execution", {
			flowId,
			executionId: row.id,
			version: row.version,
			attempt: records.execution?.attemptCount ?? row.attempt_base + records.callsMade,
			status,
			ms: finishedAt - started,
			calls: turn.attempts.map((a) => a.status ?? "-").join(","),
			retryInMs: turn.next.kind === "retry" ? turn.next.atMs - finishedAt : undefined,
		});
		if (slowed && slowedBy) {
			const shown = after.origins?.[slowed.origin] ?? after;
			log("warn", "flow.slowed", {
				flowId,
				origin: slowed.origin,
				reason: slowedBy,
				limit: shown.limit,
				holdUntil: shown.holdUntil || null,
			});
			// Every other object of the flow slows its calls there too; best effort, this one already has.
			await this.#parts
				.coordination()
				.slowFlow(state.objectName(), slowed.origin, shown.holdUntil, slowedBy)
				.catch((e: unknown) => log("warn", "flow.slow_unspread", { flowId, error: errorMessage(e) }));
		}
	}

	/** Nothing was sent: wait (no attempt spent), visibly and within INFRASTRUCTURE_RETRY, or fail. */
	#afterInfrastructureFailure(row: InboxRow, message: string): void {
		const { state, inbox, outbox } = this.#parts;
		const flowId = state.flowId();
		const failures = row.infra_failures + 1;
		const next = afterInfrastructureFailure(failures);
		const now = Date.now();
		const base = { type: "execution", id: row.id, flowId, version: row.version, receivedAt: row.received_at } as const;
		log("error", "execution.infrastructure", { flowId, executionId: row.id, failures, error: message });
		state.transaction(() => {
			if (next.action === "retry") {
				inbox.waitAfterInfrastructure(row.seq, failures, now + next.delayMs);
				outbox.record({
					...base,
					status: "retrying",
					error: `Hookflow could not prepare the call (nothing was sent): ${message}; try ${failures} of ${INFRASTRUCTURE_RETRY.maxFailures}, next in ${Math.round(next.delayMs / 1000)} s`,
				});
			} else {
				inbox.remove(row.seq);
				state.bump("failed");
				outbox.record({
					...base,
					status: "failed",
					error: `${message} (${next.reason})`,
					finishedAt: now,
					durationMs: now - row.received_at,
				});
			}
		});
	}
}
