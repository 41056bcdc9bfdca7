import { describe, expect, it } from "vitest";
import { type FlowPace, freshPace, originRoom, slowDownOrigin, speedUpOrigin } from "../../src/delivery/backpressure";
import type { InboxRow } from "../../src/delivery/inbox";
import { turnRecords } from "../../src/delivery/turn-records";
import { emptyState } from "../../src/flows/step-machine";

const CRM = "https://crm.test";
const PETS = "https://pets.test";

describe("backpressure per destination origin", () => {
	it("a 429 from one origin halves and holds that origin's calls only; successes grow it back", () => {
		const now = 1_000_000;
		const slowed = slowDownOrigin(freshPace(8), CRM, 8, now, 60_000);
		expect(slowed.origins?.[CRM]).toEqual({ limit: 4, successes: 0, holdUntil: now + 60_000 });
		expect(originRoom(slowed, CRM, 8, 0, now)).toEqual({ ok: false, wakeAt: now + 60_000 });
		expect(originRoom(slowed, PETS, 8, 7, now)).toEqual({ ok: true });
		expect(originRoom(slowed, PETS, 8, 8, now)).toMatchObject({ ok: false });
		// The top-level fields are the strictest origin's, for the dashboard and the log.
		expect(slowed).toMatchObject({ limit: 4, holdUntil: now + 60_000 });
		let pace: FlowPace = { ...slowed, origins: { [CRM]: { limit: 4, successes: 0, holdUntil: 0 } } };
		for (let i = 0; i < 4 + 5 + 6 + 7; i++) pace = speedUpOrigin(pace, CRM, 8);
		// Back at full speed: the origin needs no entry any more.
		expect(pace.origins).toBeUndefined();
		expect(pace.limit).toBe(8);
	});
});

describe("what a turn leaves in the run log", () => {
	const row: InboxRow = {
		seq: 1,
		id: "e1",
		version: 1,
		received_at: 100,
		message: "{}",
		attempts: 1,
		attempt_base: 2,
		next_attempt_at: 0,
		lane: "",
		calling: 0,
		infra_failures: 0,
		state: null,
	};
	const attempt = (outcome: "succeeded" | "retry" | "failed") => ({
		startedAt: 200,
		finishedAt: 250,
		status: 200,
		outcome,
		error: null,
		origin: PETS,
	});

	it("writes no execution record for a turn that goes on to its next step, and numbers attempts after the earlier ones", () => {
		const records = turnRecords(
			"f",
			row,
			{ kind: "stored", state: emptyState(), next: { kind: "continue" }, attempts: [attempt("succeeded")], slowDowns: [] },
			300,
			true,
			null,
		);
		expect(records.execution).toBeNull();
		expect(records.attempts.map((a) => a.n)).toEqual([4]);
		expect(records.callsMade).toBe(2);
	});

	it("keeps what a failed execution of several steps produced, so a manual retry resumes there; a one-step flow keeps none", () => {
		const state = { ...emptyState(), done: { crm: { s: "succeeded" as const, o: { id: 1 } } } };
		const failed = {
			kind: "stored" as const,
			state,
			next: { kind: "finished" as const, status: "failed" as const, error: "Step pet: 400" },
			attempts: [],
			slowDowns: [],
		};
		expect(turnRecords("f", row, failed, 300, true, null).execution).toMatchObject({
			status: "failed",
			resume: { done: state.done },
			durationMs: 200,
			attemptCount: 3,
		});
		expect(turnRecords("f", row, failed, 300, false, null).execution).toMatchObject({ resume: null });
	});
});
