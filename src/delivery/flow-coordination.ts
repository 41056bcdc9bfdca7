/**
 * @module
 * What a flow's main object does for the whole flow, as typed interfaces instead of checks of
 * which object this is: every object asks its flow's coordination (`FlowCoordination`: the main
 * object, itself included) for rate-limit tokens, to spread a slow-down and to register; the main
 * object reaches every object of the flow (`ObjectControls`, itself included) through `FlowShards`
 * to add up counters, pause, resume, destroy, forget a credential and hand out published settings.
 */
import type { FlowCounters } from "../flows/counters";
import type { FlowPace } from "./backpressure";
import { type CallSlots, layoutNames, type SlotLease } from "./call-slots";
import { decideGrant, grantStamp, grantStampShift, type RateLimit, sliceMs } from "./rate-window";
import { type ObjectSettings, publishedSettings } from "./routing";
import type { DeliveryPlan } from "./shards";

export interface Grant {
	granted: number;
	retryAt: number | null;
	/** The main object's clock when granted: each call must start by callMayStart(grantedAt). */
	grantedAt: number;
}

/** What any object of a flow asks of the flow's main object. */
export interface FlowCoordination {
	acquireTokens(want: number, limit: RateLimit): Promise<Grant>;
	/** `count` tokens of the grant made at `grantedAt` under `limit` started no call: the window forgets them. */
	returnTokens(grantedAt: number, count: number, limit: RateLimit): Promise<void>;
	/** While a shard layout drains (call-slots.ts): slots for `want` executions of `holder`, and their return. */
	leaseSlots(holder: string, want: number): Promise<SlotLease>;
	releaseSlots(ids: number[]): Promise<void>;
	/** An object of an older layout has no executions left. */
	drained(name: string): Promise<void>;
	/** `from` got a 429/503 from `origin`: every other object slows its calls there too. */
	slowFlow(from: string, origin: string, holdUntil: number, reason: string): Promise<void>;
	registerShard(flowId: string, name: string): Promise<{ paused: boolean; pace: FlowPace | null; deleted: boolean; leased?: boolean }>;
}

/** What the main object asks of every object of its flow (itself included). */
export interface ObjectControls {
	counters(): Promise<FlowCounters>;
	pause(): Promise<void>;
	resume(): Promise<void>;
	destroy(): Promise<void>;
	forgetCredential(credentialId: string): Promise<void>;
	applySlowDown(origin: string, holdUntil: number, reason: string): Promise<void>;
	/** Answers whether executions wait here (an object of an older layout then drains under leased slots). */
	adoptPublishedSettings(settings: ObjectSettings, drain?: { leased: boolean; draining: boolean }): Promise<boolean>;
}

/** The main object's list of its flow's shards, and a door to each. */
export class FlowShards {
	readonly #sql: SqlStorage;
	readonly #env: Env;

	constructor(sql: SqlStorage, env: Env) {
		this.#sql = sql;
		this.#env = env;
	}

	names(): string[] {
		return this.#sql
			.exec<{ name: string }>("SELECT name FROM shards ORDER BY name")
			.toArray()
			.map((r) => r.name as string);
	}

	add(name: string): void {
		this.#sql.exec("INSERT OR IGNORE INTO shards (name) VALUES (?)", name);
	}

	/** The main object itself (`self`, no RPC) and each shard, by name. */
	every(self: ObjectControls, selfName: string): Array<{ name: string; controls: ObjectControls }> {
		return [
			{ name: selfName, controls: self },
			...this.names().map((name) => ({ name, controls: this.#env.FLOW.getByName(name) as ObjectControls })),
		];
	}
}

/**
 * A published version's settings to every object of the flow (`every`, the main object first). If
 * its layout differs, the objects of older layouts still holding executions drain under call slots
 * leased from the main object, and so do the new layout's objects until they are done (call-slots.ts).
 */
export async function handOutPublished(
	slots: CallSlots,
	every: ReadonlyArray<{ name: string; controls: ObjectControls }>,
	flowId: string,
	version: number,
	plan: DeliveryPlan,
): Promise<void> {
	const layout = new Set(layoutNames(flowId, plan));
	const older = every.filter(({ name }) => !layout.has(name));
	// Stored before the older objects are asked: one that empties meanwhile reports drained() to it.
	slots.startDrain(
		older.map(({ name }) => name),
		// "flow" is one at a time, whatever concurrency the definition names.
		plan.ordering === "flow" ? 1 : plan.concurrency,
	);
	const waiting = await Promise.all(
		older.map(({ name, controls }) =>
			controls.adoptPublishedSettings(publishedSettings(flowId, name, version, plan), { leased: true, draining: true }),
		),
	);
	older.forEach(({ name }, i) => {
		if (!waiting[i]) slots.drained(name);
	});
	const leased = slots.active();
	await Promise.all(
		every
			.filter(({ name }) => layout.has(name))
			.map(({ name, controls }) =>
				controls.adoptPublishedSettings(publishedSettings(flowId, name, version, plan), { leased, draining: false }),
			),
	);
}

/** The flow's counters: every object's added up. */
export function sumCounters(all: readonly FlowCounters[]): FlowCounters {
	return all.reduce((total, c) => {
		const filtered = (total.filtered ?? 0) + (c.filtered ?? 0);
		return {
			received: total.received + c.received,
			succeeded: total.succeeded + c.succeeded,
			failed: total.failed + c.failed,
			...(filtered > 0 ? { filtered } : {}),
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
		};
	});
}

/** The main object's log of the flow's rate-limit grants (rate-window.ts decides). */
export class RateWindow {
	readonly #sql: SqlStorage;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	acquire(want: number, limit: RateLimit, now: number): Grant {
		this.#sql.exec("DELETE FROM rate_window WHERE at <= ?", now - limit.perSeconds * 1000);
		const window = this.#sql
			.exec<{ used: number | null; oldest: number | null }>("SELECT sum(count) AS used, min(at) AS oldest FROM rate_window")
			.one();
		const slice = this.#sql
			.exec<{ used: number | null; oldest: number | null }>(
				"SELECT sum(count) AS used, min(at) AS oldest FROM rate_window WHERE at > ?",
				// Stamps are shifted (grantStampShift): the slice (smoothing) is kept on grant times.
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
	 * Tokens whose calls were not made (too late for their grant, a pause, a turn that ended
	 * without a call): taken out of their grant's bucket, so a small limit is not lost to them. The
	 * limit still holds on call starts: only calls that never started are forgotten.
	 */
	giveBack(grantedAt: number, count: number, limit: RateLimit): void {
		const at = grantStamp(grantedAt, limit);
		this.#sql.exec("UPDATE rate_window SET count = max(0, count - ?) WHERE at = ?", count, at);
		this.#sql.exec("DELETE FROM rate_window WHERE at = ? AND count = 0", at);
	}
}
