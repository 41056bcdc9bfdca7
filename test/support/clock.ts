/**
 * @module
 * Time moved, not waited for. In the workers project the Worker, its queue consumer and its
 * Durable Objects run in the test's own isolate and read the time from `Date.now()`, so a test
 * that replaces `Date.now` moves the code's notion of time everywhere at once: the ingress's config
 * cache, the objects' 24 h dedupe and staging windows, the retry schedule. Nothing in `src/` needs
 * a clock parameter for it, so the seam cannot drift from the code it controls.
 *
 * The clock keeps running (real time plus an offset), so timeouts and polling still work, unless a
 * test freezes it to hit an edge to the millisecond. What it
 * does not move: workerd's own alarm scheduler. An alarm the code sets on the moved clock fires
 * that much later in real time, so a test that moved the clock runs alarms itself
 * (`runDurableObjectAlarm`). `new Date()` is not moved; the code under test uses `Date.now()`.
 */
import { onTestFinished, vi } from "vitest";

export interface MovableClock {
	/** Runs the clock at real time + `offsetMs`. */
	set(offsetMs: number): void;
	/** Stops the clock at `atMs` (for an edge to the millisecond; nothing that waits on the clock may run meanwhile). */
	freeze(atMs: number): void;
	/** The clock's time now. */
	now(): number;
}

/** Takes over `Date.now` for the rest of the running test; given back when it finishes. */
export function movableClock(): MovableClock {
	const real = Date.now.bind(Date);
	let offset = 0;
	let frozenAt: number | null = null;
	const now = () => frozenAt ?? real() + offset;
	const spy = vi.spyOn(Date, "now").mockImplementation(now);
	onTestFinished(() => spy.mockRestore());
	return {
		set: (offsetMs) => {
			frozenAt = null;
			offset = offsetMs;
		},
		freeze: (atMs) => {
			frozenAt = atMs;
		},
		now,
	};
}
