/**
 * @module
 * Fixed-window counters held in the isolate. They answer without any I/O, which keeps the hook
 * fast; the price is that each isolate counts on its own (see README, "Throttling").
 */

interface Window {
	start: number;
	count: number;
}

export class WindowCounter {
	readonly #windows = new Map<string, Window>();
	readonly #maxKeys: number;

	constructor(maxKeys = 50_000) {
		this.#maxKeys = maxKeys;
	}

	#current(key: string, nowMs: number, windowMs: number): Window {
		const existing = this.#windows.get(key);
		if (existing) {
			// An expired window restarts in place: evicting another key here could unblock a throttled client.
			if (nowMs - existing.start >= windowMs) Object.assign(existing, { start: nowMs, count: 0 });
			return existing;
		}
		const oldest = this.#windows.keys().next();
		if (this.#windows.size >= this.#maxKeys && !oldest.done) this.#windows.delete(oldest.value);
		const window = { start: nowMs, count: 0 };
		this.#windows.set(key, window);
		return window;
	}

	/** Seconds until the window resets, when `key` has reached `limit`; 0 otherwise. */
	retryAfterSeconds(key: string, limit: number, nowMs: number, windowMs: number): number {
		const window = this.#windows.get(key);
		if (!window || nowMs - window.start >= windowMs || window.count < limit) return 0;
		return Math.max(1, Math.ceil((window.start + windowMs - nowMs) / 1000));
	}

	add(key: string, nowMs: number, windowMs: number): number {
		const window = this.#current(key, nowMs, windowMs);
		window.count++;
		return window.count;
	}
}

/** After this many failed authentications from one client for one flow, that client waits out the window. */
export const AUTH_FAILURE_LIMIT = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
