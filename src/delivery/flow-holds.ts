/**
 * @module
 * What an object's turns hold of the limits its flow shares through the main object, and how they
 * give it back: rate-limit tokens (rate-window.ts) and, while an older shard layout drains, call
 * slots (call-slots.ts). A token or slot whose call never started goes back, so neither a busy
 * moment nor a turn without a call costs the flow a call its limits allow.
 */
import { errorMessage, log } from "../log";
import type { FlowCoordination } from "./flow-coordination";
import type { ObjectState } from "./object-state";
import type { RateLimit } from "./rate-window";

/**
 * The rate-limit tokens one turn holds and the calls it really started: what is left when the
 * turn ends (a token that came too late, a filter that ended the execution, a logic-only turn, a
 * destination held) goes back to the window.
 */
export interface TurnTokens {
	grants: Array<{ grantedAt: number; count: number; limit: RateLimit }>;
	callsStarted: number;
}

export class FlowHolds {
	readonly #coordination: () => FlowCoordination;
	readonly #state: ObjectState;

	constructor(coordination: () => FlowCoordination, state: ObjectState) {
		this.#coordination = coordination;
		this.#state = state;
	}

	/** While a layout drains: slots for up to `want` starts (null: no drain, the object's own share holds), and when to ask again. */
	async leaseSlots(want: number): Promise<{ ids: number[] | null; wakeAt: number | null }> {
		if (want === 0 || this.#state.get("leased") === null) return { ids: null, wakeAt: null };
		const lease = await this.#coordination().leaseSlots(this.#state.objectName(), want);
		if (!lease.over) return { ids: lease.ids, wakeAt: lease.retryAt };
		this.#state.set("leased", null);
		return { ids: null, wakeAt: null };
	}

	/** Slots go back when their turn ends; an unreachable main object lets them expire. */
	async releaseSlots(ids: number[]): Promise<void> {
		if (ids.length === 0) return;
		await this.#coordination()
			.releaseSlots(ids)
			.catch((error: unknown) => log("warn", "flow.slots_unreleased", { flowId: this.#state.flowId(), error: errorMessage(error) }));
	}

	/** Gives back the tokens a turn held but started no call with (earliest grants first: the calls made keep the latest stamps). */
	async returnTokens(tokens: TurnTokens): Promise<void> {
		let started = tokens.callsStarted;
		const unused = [...tokens.grants].reverse().flatMap((g) => {
			const kept = Math.min(g.count, started);
			started -= kept;
			return g.count > kept ? [{ ...g, count: g.count - kept }] : [];
		});
		tokens.grants = [];
		for (const g of unused)
			await this.#coordination()
				.returnTokens(g.grantedAt, g.count, g.limit)
				.catch((error: unknown) => log("warn", "rate.tokens_unreturned", { flowId: this.#state.flowId(), error: errorMessage(error) }));
	}

	/** An object of an older layout with nothing left tells the main object (the flow stops leasing); false if it could not (try again later). */
	async reportDrained(hasBacklog: boolean): Promise<boolean> {
		if (this.#state.get("draining") === null || hasBacklog) return true;
		try {
			await this.#coordination().drained(this.#state.objectName());
			this.#state.set("draining", null);
			return true;
		} catch (error) {
			log("warn", "flow.drain_unreported", { flowId: this.#state.flowId(), error: errorMessage(error) });
			return false;
		}
	}
}
