/**
 * @module
 * A flow object: the only place that can promise order and exactly-once, because it is
 * single-threaded and strongly consistent. This file is its RPC surface; the parts own their
 * tables and roles:
 *
 * - inbox.ts: accepted executions in their lanes, dedupe by id (24 h), staged payloads, senders'
 *   own ids bound to their content;
 * - deliverer.ts: the delivery loop, one turn of an execution at a time (step-runner.ts runs the
 *   steps, the step machine decides; turn-inputs.ts loads, flow-holds.ts gives back what a turn
 *   did not use), storage before every call;
 * - flow-coordination.ts: what the flow's main object (named by the flow id) does for the whole
 *   flow — shards, counters, pause, resume, slow-downs, rate-limit tokens, call slots while a
 *   layout drains (call-slots.ts) — as typed interfaces;
 * - object-state.ts (meta values, counters), object-schema.ts (the tables and their migration),
 *   outbox.ts (the run log to D1), sample-requests.ts.
 *
 * Acceptance order: lanes follow the ingress's acceptance stamp, an ordered execution waits out
 * REORDER_WINDOW_MS first (shards.ts says why).
 */
import { DurableObject } from "cloudflare:workers";
import type { FlowCounters } from "../flows/counters";
import type { Message } from "../flows/message";
import { log } from "../log";
import { slowDownOrigin } from "./backpressure";
import { CallSlots, type SlotLease } from "./call-slots";
import { Deliverer } from "./deliverer";
import {
	type FlowCoordination,
	FlowShards,
	type Grant,
	handOutPublished,
	type ObjectControls,
	RateWindow,
	sumCounters,
} from "./flow-coordination";
import { Inbox, type LanedExecution, type RetryRequest } from "./inbox";
import type { ExecutionMessage } from "./messages";
import { migrateObjectStorage } from "./object-schema";
import { ObjectState } from "./object-state";
import { RunLogOutbox } from "./outbox";
import type { RateLimit } from "./rate-window";
import { byObject, type ObjectSettings, routeExecutions, settingsFor } from "./routing";
import { SampleRequests } from "./sample-requests";
import { type DeliveryPlan, REORDER_WINDOW_MS } from "./shards";

export type { FlowCounters, LanedExecution, RetryRequest };

export class FlowObject extends DurableObject<Env> implements FlowCoordination, ObjectControls {
	readonly #sql: SqlStorage;
	readonly #state: ObjectState;
	readonly #outbox: RunLogOutbox;
	readonly #inbox: Inbox;
	readonly #samples: SampleRequests;
	readonly #shards: FlowShards;
	readonly #rateWindow: RateWindow;
	readonly #slots: CallSlots;
	readonly #deliverer: Deliverer;
	/** Pause and resume calls so far, so a shard's registration does not undo a newer one. */
	#pauseToggles = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		this.#state = new ObjectState(ctx.storage);
		this.#outbox = new RunLogOutbox(
			this.#sql,
			() => this.env.DB,
			() => this.#state.flowId(),
		);
		this.#inbox = new Inbox(this.#sql, this.#state, this.#outbox);
		this.#samples = new SampleRequests(this.#sql);
		this.#shards = new FlowShards(this.#sql, env);
		this.#rateWindow = new RateWindow(this.#sql);
		this.#slots = new CallSlots(this.#sql, this.#state);
		this.#deliverer = new Deliverer({
			storage: ctx.storage,
			env,
			state: this.#state,
			inbox: this.#inbox,
			outbox: this.#outbox,
			coordination: () => this.#coordination(),
		});
		// Not awaited on purpose: a constructor cannot await, and blockConcurrencyWhile holds every event until it is done.
		void ctx.blockConcurrencyWhile(async () => migrateObjectStorage(this.#sql));
	}

	/** The flow's coordination: this object when it is the main one, else the main object. */
	#coordination(flowId = this.#state.flowId()): FlowCoordination {
		return this.#state.isMain() ? this : (this.env.FLOW.getByName(flowId) as FlowCoordination);
	}

	/**
	 * A shard tells its main object it exists (once), so counters, pause, resume, slow-downs and
	 * destroy reach it, and learns whether the flow is paused, held or deleted.
	 */
	async #identify(flowId: string, objectName: string): Promise<void> {
		this.#state.rememberFlowId(flowId);
		if (this.#state.get("objectName") !== null) return;
		if (objectName !== flowId) {
			const toggles = this.#pauseToggles;
			const { paused, pace, deleted, leased } = await (this.env.FLOW.getByName(flowId) as FlowCoordination).registerShard(
				flowId,
				objectName,
			);
			if (deleted) return this.#state.set("deleted", "1");
			// A new layout's shard born while an older one drains takes its slots from the flow's pool too.
			if (leased) this.#state.set("leased", "1");
			// A pause or resume that reached this shard while it registered is newer than the answer.
			if (paused && toggles === this.#pauseToggles) this.#state.set("paused", "1");
			// A Retry-After the flow got before this shard existed holds it too.
			if (pace?.origins)
				this.#state.setPace(this.#state.pace(), { ...this.#state.pace(), origins: pace.origins, holdUntil: pace.holdUntil });
		}
		this.#state.set("objectName", objectName);
	}

	// ── RPC: accepting executions ──────────────────────────────────────────────────────────

	/**
	 * Main object: holds a payload too large for a queue message until its queue reference arrives.
	 * Its alarm is set for when the payload expires: on a sharded flow the main object delivers
	 * nothing, so no delivery loop would come round to drop a reference that never arrived.
	 */
	async stage(key: string, message: Message): Promise<void> {
		if (this.#state.deleted()) return;
		this.#inbox.stage(key, message);
		const expiresAt = this.#inbox.stagedExpiry();
		if (expiresAt !== null) await this.#deliverer.kick(expiresAt);
	}

	/** Main object: staged payloads by staging key (request-id.ts stagingKey), so the consumer can route them by key. */
	async readStaged(keys: string[]): Promise<Record<string, Message>> {
		return this.#inbox.readStaged(keys);
	}

	/** Main object: the objects that own these executions have stored their payloads. */
	async dropStaged(keys: string[]): Promise<void> {
		this.#inbox.dropStaged(keys);
	}

	/**
	 * Main object of a sharded flow: a sender's own `x-request-id` is bound to the content it came
	 * with, here, before routing, because the same id with another body may have another key and
	 * so reach another shard, whose dedupe would not see the first (inbox.ts boundId).
	 */
	async claimSenderIds(flowId: string, items: Array<{ id: string; contentHash: string }>): Promise<string[]> {
		this.#state.rememberFlowId(flowId);
		return this.#inbox.claimSenderIds(flowId, items);
	}

	/**
	 * Stores executions durably (the consumer acks only after this returns). An id seen in the
	 * last 24 h is a duplicate: redelivery or a sender's retry, and creates nothing.
	 */
	async accept(
		flowId: string,
		objectName: string,
		items: LanedExecution[],
		settings?: ObjectSettings,
	): Promise<{ accepted: string[]; duplicates: string[] }> {
		await this.#identify(flowId, objectName);
		// A deleted flow's queue backlog is dropped unrecorded (the consumer acks it): nothing comes back to the run log.
		if (this.#state.deleted()) return { accepted: [], duplicates: [] };
		const now = Date.now();
		// The content-bound ids are computed first: a transaction cannot await.
		const contentIds = await this.#inbox.boundIds(flowId, items);
		let startAt = now;
		let result: { accepted: string[]; duplicates: string[] } = { accepted: [], duplicates: [] };
		this.#state.transaction(() => {
			this.#state.adoptSettings(settings);
			startAt = this.#state.settings().ordered ? now + REORDER_WINDOW_MS : now;
			result = this.#inbox.accept(flowId, items, contentIds, startAt, now);
		});
		if (result.accepted.length > 0) await this.#deliverer.kick(startAt);
		await this.#deliverer.flushOrLater();
		return result;
	}

	/** Which of these ids this object accepted within the dedupe window (known-ids.ts asks, after a layout change). */
	async knownIds(ids: string[]): Promise<string[]> {
		return this.#inbox.knownIds(ids);
	}

	/** Queue messages that exhausted their retries: counted and logged as failed, so they can be retried by hand. */
	async recordDeadLetters(flowId: string, objectName: string, items: ExecutionMessage[]): Promise<void> {
		await this.#identify(flowId, objectName);
		if (this.#state.deleted()) return;
		this.#state.transaction(() => this.#inbox.recordDeadLetters(flowId, items, Date.now()));
		await this.#deliverer.flushOrLater();
	}

	/** Main object: manual retry of failed executions, each sent back to the object that owns its id. */
	async retryExecutions(flowId: string, items: RetryRequest[]): Promise<string[]> {
		this.#state.rememberFlowId(flowId);
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

	/** Manual retry: the executions join the back of their lanes, keep their attempt history and resume at the failed step. */
	async retry(
		flowId: string,
		objectName: string,
		items: Array<RetryRequest & { lane: string }>,
		settings?: ObjectSettings,
	): Promise<string[]> {
		await this.#identify(flowId, objectName);
		if (this.#state.deleted()) return [];
		const now = Date.now();
		let retried: string[] = [];
		this.#state.transaction(() => {
			this.#state.adoptSettings(settings);
			retried = this.#inbox.requeue(flowId, items, now);
		});
		if (retried.length > 0) await this.#deliverer.kick(now);
		await this.#deliverer.flushOrLater();
		return retried;
	}

	// ── RPC: counters, pause, resume, credentials, destroy (every object; *Flow: the main object for all) ──

	/** This object's own counters. */
	async counters(): Promise<FlowCounters> {
		return this.#state.counters(this.#deliverer.inFlight, this.#inbox.queue());
	}

	/** Main object: the flow's counters, its shards' added in. */
	async flowCounters(flowId: string): Promise<FlowCounters> {
		this.#state.rememberFlowId(flowId);
		return sumCounters(await Promise.all(this.#shards.every(this, flowId).map(({ controls }) => controls.counters())));
	}

	/** Main object: a shard introduces itself; it learns whether the flow is paused, held or deleted. */
	async registerShard(
		flowId: string,
		name: string,
	): Promise<{ paused: boolean; pace: ReturnType<ObjectState["pace"]> | null; deleted: boolean; leased: boolean }> {
		if (this.#state.deleted()) return { paused: true, pace: null, deleted: true, leased: false };
		this.#state.rememberFlowId(flowId);
		this.#shards.add(name);
		return { paused: this.#state.paused(), pace: this.#state.pace(), deleted: false, leased: this.#slots.active() };
	}

	/** Holds deliveries here; calls under way finish. */
	async pause(): Promise<void> {
		this.#pauseToggles++;
		this.#state.set("paused", "1");
	}

	/** Releases held deliveries here, lanes in their order. */
	async resume(): Promise<void> {
		this.#pauseToggles++;
		this.#state.set("paused", null);
		if (this.#inbox.hasBacklog()) await this.#deliverer.kick(Date.now());
	}

	/** Main object: pause the flow. The flag is set here first, so a shard registering meanwhile learns it. */
	async pauseFlow(flowId: string): Promise<void> {
		this.#state.rememberFlowId(flowId);
		await this.pause();
		await Promise.all(
			this.#shards
				.every(this, flowId)
				.slice(1)
				.map(({ controls }) => controls.pause()),
		);
	}

	async resumeFlow(flowId: string): Promise<void> {
		this.#state.rememberFlowId(flowId);
		await this.resume();
		await Promise.all(
			this.#shards
				.every(this, flowId)
				.slice(1)
				.map(({ controls }) => controls.resume()),
		);
	}

	/** Main object: the ingress reports refused authentications here so the dashboard can show them per flow. */
	async addAuthFailures(count: number): Promise<void> {
		this.#state.bump("authFailures", count);
	}

	/** The ingress reports providers' handshakes it answered (no execution), for the dashboard. */
	async addHandshakes(count: number): Promise<void> {
		this.#state.bump("handshakes", count);
	}

	/**
	 * Main object: a credential changed (new key, new base URL, new secret) or was deleted: every
	 * object of the flow forgets its cached copy (and OAuth2 token), so the next call uses the stored one.
	 */
	async invalidateCredential(credentialId: string): Promise<void> {
		await Promise.all(this.#shards.every(this, this.#state.flowId()).map(({ controls }) => controls.forgetCredential(credentialId)));
	}

	async forgetCredential(credentialId: string): Promise<void> {
		this.#deliverer.forgetCredential(credentialId);
	}

	/** The flow was deleted: drop everything, pending executions included, in every object of the flow. */
	async destroy(): Promise<void> {
		if (this.#state.isMain())
			await Promise.all(
				this.#shards
					.every(this, this.#state.flowId())
					.slice(1)
					.map(({ controls }) => controls.destroy()),
			);
		this.#deliverer.reset();
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		this.#state.forget();
		// The instance lives on until evicted: a late queue hand-off must find empty tables, not none.
		migrateObjectStorage(this.#sql);
		// One row stays: the queue may still hold the flow's hooks, and they must not come back as executions.
		this.#state.set("deleted", "1");
	}

	// ── RPC: rate limit, published settings and backpressure across the flow's objects ─────

	/** Main object: tokens for `want` calls under the flow's rate limit (rate-window.ts); each call must start by callMayStart(grantedAt). */
	async acquireTokens(want: number, limit: RateLimit): Promise<Grant> {
		return this.#rateWindow.acquire(want, limit, Date.now());
	}

	/** Main object: tokens granted at `grantedAt` whose calls were not made go back to the window. */
	async returnTokens(grantedAt: number, count: number, limit: RateLimit): Promise<void> {
		this.#rateWindow.giveBack(grantedAt, count, limit);
	}

	/**
	 * Main object: a version was published. Its delivery settings govern every object of the flow at
	 * once, waiting executions included; if its layout differs, the older objects drain under slots
	 * leased from one pool of the new concurrency (call-slots.ts).
	 */
	async applyPublishedSettings(flowId: string, version: number, plan: DeliveryPlan): Promise<void> {
		this.#state.rememberFlowId(flowId);
		if (!this.#state.deleted()) await handOutPublished(this.#slots, this.#shards.every(this, flowId), flowId, version, plan);
	}

	/** The flow's newest settings, from the main object: the delivery loop applies them from its next start on. */
	async adoptPublishedSettings(settings: ObjectSettings, drain?: { leased: boolean; draining: boolean }): Promise<boolean> {
		this.#state.adoptSettings(settings);
		if (drain) {
			this.#state.set("leased", drain.leased ? "1" : null);
			this.#state.set("draining", drain.draining ? "1" : null);
		}
		const waiting = this.#inbox.hasBacklog();
		if (waiting) await this.#deliverer.kick(Date.now());
		return waiting;
	}

	/** Main object: slots for `want` executions while a layout drains (call-slots.ts). */
	async leaseSlots(holder: string, want: number): Promise<SlotLease> {
		return this.#slots.lease(holder, want, Date.now());
	}

	async releaseSlots(ids: number[]): Promise<void> {
		this.#slots.release(ids);
	}

	async drained(name: string): Promise<void> {
		this.#slots.drained(name);
	}

	/** Main object: one object of the flow got a 429/503 from `origin`; every other one slows its calls there too. */
	async slowFlow(from: string, origin: string, holdUntil: number, reason: string): Promise<void> {
		await Promise.all(
			this.#shards
				.every(this, this.#state.flowId())
				.filter(({ name }) => name !== from)
				.map(({ controls }) => controls.applySlowDown(origin, holdUntil, reason)),
		);
	}

	/** Another object of the flow was told to slow down: halve the calls to `origin` here too, and hold until `holdUntil`. */
	async applySlowDown(origin: string, holdUntil: number, reason: string): Promise<void> {
		const now = Date.now();
		const before = this.#state.pace();
		const after = slowDownOrigin(before, origin, this.#state.settings().concurrency, now, holdUntil > now ? holdUntil - now : null);
		this.#state.setPace(before, after);
		const shown = after.origins?.[origin] ?? after;
		log("warn", "flow.slowed", { flowId: this.#state.flowId(), origin, reason, limit: shown.limit, holdUntil: shown.holdUntil || null });
		// A held destination's executions wait for the hold: the loop looks again then.
		if (this.#inbox.hasBacklog()) await this.#deliverer.kick(Date.now());
	}

	// ── RPC: sample requests (main object) ─────────────────────────────────────────────────

	async createSampleRequest(flowId: string): Promise<{ token: string; expiresAt: number }> {
		this.#state.rememberFlowId(flowId);
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
		await this.#deliverer.alarm();
	}
}
