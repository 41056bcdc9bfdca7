/**
 * @module
 * A flow object's small state: its meta values (flow id, object name, paused, deleted, settings,
 * the pace) and its counters. Meta values read on every delivery are cached: only this object
 * writes them, and a rolled-back transaction clears the cache (`transaction`).
 */
import type { FlowCounters } from "../flows/counters";
import { type FlowPace, freshPace } from "./backpressure";
import type { ObjectSettings } from "./routing";

const CACHED_META = new Set(["flowId", "objectName", "paused", "settings", "deleted", "leased", "draining"]);
const DEFAULT_SETTINGS: ObjectSettings = { version: 0, concurrency: 1, rateLimit: null, ordered: true };

export type CounterName = "received" | "succeeded" | "failed" | "filtered" | "authFailures" | "handshakes";

export class ObjectState {
	readonly #sql: SqlStorage;
	readonly #storage: DurableObjectStorage;
	readonly #cache = new Map<string, string | null>();
	#parsedSettings: { stored: string | null; value: ObjectSettings } = { stored: null, value: DEFAULT_SETTINGS };

	constructor(storage: DurableObjectStorage) {
		this.#storage = storage;
		this.#sql = storage.sql;
	}

	get(key: string): string | null {
		if (CACHED_META.has(key) && this.#cache.has(key)) return this.#cache.get(key) ?? null;
		const value = (this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value as string) ?? null;
		if (CACHED_META.has(key)) this.#cache.set(key, value);
		return value;
	}

	set(key: string, value: string | null): void {
		if (value === null) this.#sql.exec("DELETE FROM meta WHERE key = ?", key);
		else this.#sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
		this.#cache.delete(key);
	}

	/** transactionSync that also forgets cached meta values when it rolls back (they may hold its writes). */
	transaction(body: () => void): void {
		try {
			this.#storage.transactionSync(body);
		} catch (error) {
			this.#cache.clear();
			throw error;
		}
	}

	/** After deleteAll. */
	forget(): void {
		this.#cache.clear();
	}

	flowId(): string {
		return this.get("flowId") ?? "";
	}

	rememberFlowId(flowId: string): void {
		if (this.get("flowId") === null) this.set("flowId", flowId);
	}

	/** The main object is named by the flow id; shards by shards.ts's shardName. */
	isMain(): boolean {
		const name = this.get("objectName");
		return name === null || name === this.flowId();
	}

	objectName(): string {
		return this.get("objectName") ?? this.flowId();
	}

	paused(): boolean {
		return this.get("paused") !== null;
	}

	/** The flow was deleted (destroy): late hand-overs, retries and shard registrations record nothing. */
	deleted(): boolean {
		return this.get("deleted") !== null;
	}

	settings(): ObjectSettings {
		const stored = this.get("settings");
		if (stored !== this.#parsedSettings.stored)
			this.#parsedSettings = { stored, value: stored ? (JSON.parse(stored) as ObjectSettings) : DEFAULT_SETTINGS };
		return this.#parsedSettings.value;
	}

	/** The newest version's settings win: they are what the flow runs with now. */
	adoptSettings(settings: ObjectSettings | undefined): void {
		if (settings && settings.version >= this.settings().version) this.set("settings", JSON.stringify(settings));
	}

	/** How fast this object may call each destination (backpressure.ts FlowPace). Not cached: tests reset it in storage. */
	pace(): FlowPace {
		const stored = this.get("pace");
		return stored ? (JSON.parse(stored) as FlowPace) : freshPace(this.settings().concurrency);
	}

	/** At full speed nothing changes: no write. */
	setPace(before: FlowPace, after: FlowPace): void {
		if (JSON.stringify(after) !== JSON.stringify(before)) this.set("pace", JSON.stringify(after));
	}

	bump(name: CounterName, by = 1): void {
		this.#sql.exec(
			"INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
			name,
			by,
		);
	}

	/** This object's counters; `inFlight` and the queue are the caller's. */
	counters(inFlight: number, queue: { n: number; oldest: number | null }): FlowCounters {
		const rows = this.#sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters").toArray();
		const get = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
		return {
			received: get("received"),
			succeeded: get("succeeded"),
			failed: get("failed"),
			// Only once a filter ended an execution: counters read before steps keep their shape.
			...(get("filtered") > 0 ? { filtered: get("filtered") } : {}),
			inFlight,
			authFailures: get("authFailures"),
			handshakes: get("handshakes"),
			queued: queue.n,
			oldestQueuedAt: queue.oldest,
			paused: this.paused(),
		};
	}
}
