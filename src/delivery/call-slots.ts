/**
 * @module
 * The flow's concurrency while a shard layout drains. A flow's objects normally hold fixed shares
 * of its concurrency (shards.ts), which add up to it. A republish that changes the layout (say
 * concurrency 100 → 2: four shards become two) leaves the old layout's objects with executions
 * still waiting; their shares under the new layout would round to nothing, and fixed shares of
 * both layouts at once would add up to more than the new concurrency. So while any object of an
 * older layout has executions left, every object of the flow leases a slot from its main object
 * for each execution it starts, out of one pool of the new concurrency, and gives it back when the
 * execution's turn ends. A lease expires after CALL_LEASE_MS (longer than any turn's calls may
 * take, their timeouts included), so an object that died holding slots cannot keep them. When the
 * last old object reports it is empty, the drain is over and every object goes back to its share
 * (each learns it from the answer to its next lease request).
 */
import type { ObjectState } from "./object-state";
import { type DeliveryPlan, shardCount, shardName } from "./shards";

/** Longer than a turn's calls can take: an OAuth2 token (15 s), the call (30 s), its retry after a 401 (30 s). */
export const CALL_LEASE_MS = 120_000;
/** An object that found the pool full looks again this soon (only while a layout drains). */
export const LEASE_RETRY_MS = 200;

export interface SlotLease {
	/** One lease per execution that may start; fewer than asked when the pool is full. */
	ids: number[];
	/** When to ask again, if fewer were leased than asked. */
	retryAt: number | null;
	/** No layout is draining: start by the object's own share, lease nothing. */
	over: boolean;
}

/** The object names of the plan's layout. */
export function layoutNames(flowId: string, plan: Pick<DeliveryPlan, "ordering" | "concurrency">): string[] {
	const count = shardCount(plan);
	return Array.from({ length: count }, (_, i) => shardName(flowId, count, i));
}

interface Drain {
	/** Objects of older layouts with executions left. */
	names: string[];
	/** The newest plan's concurrency: the flow's whole pool. */
	pool: number;
}

/** The main object's drain and its leases. */
export class CallSlots {
	static readonly schema =
		`CREATE TABLE IF NOT EXISTS call_leases (id INTEGER PRIMARY KEY AUTOINCREMENT, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);`;
	readonly #sql: SqlStorage;
	readonly #state: ObjectState;

	constructor(sql: SqlStorage, state: ObjectState) {
		this.#sql = sql;
		this.#state = state;
	}

	#drain(): Drain | null {
		const stored = this.#state.get("drain");
		return stored ? (JSON.parse(stored) as Drain) : null;
	}

	active(): boolean {
		return this.#drain() !== null;
	}

	/** A publish changed the layout: these older objects may still hold executions (each reports when it is empty). */
	startDrain(names: readonly string[], pool: number): void {
		this.#state.set("drain", names.length > 0 ? JSON.stringify({ names, pool }) : null);
		if (names.length === 0) this.#sql.exec("DELETE FROM call_leases");
	}

	/** An older object has no executions left; the last one ends the drain. */
	drained(name: string): void {
		const drain = this.#drain();
		if (drain)
			this.startDrain(
				drain.names.filter((n) => n !== name),
				drain.pool,
			);
	}

	lease(holder: string, want: number, now: number): SlotLease {
		const drain = this.#drain();
		if (!drain) return { ids: [], retryAt: null, over: true };
		this.#sql.exec("DELETE FROM call_leases WHERE expires_at <= ?", now);
		const used = Number(this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM call_leases").one().n);
		const granted = Math.max(0, Math.min(want, drain.pool - used));
		const ids: number[] = [];
		for (let i = 0; i < granted; i++)
			ids.push(
				Number(
					this.#sql
						.exec<{ id: number }>("INSERT INTO call_leases (holder, expires_at) VALUES (?, ?) RETURNING id", holder, now + CALL_LEASE_MS)
						.one().id,
				),
			);
		return { ids, retryAt: granted < want ? now + LEASE_RETRY_MS : null, over: false };
	}

	release(ids: readonly number[]): void {
		if (ids.length > 0) this.#sql.exec("DELETE FROM call_leases WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids));
	}
}
