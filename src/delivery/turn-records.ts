/**
 * @module
 * What a turn of an execution leaves in the run log: one attempt record per call, and the
 * execution's record when it waits for a retry or is done (a turn that simply goes on to its next
 * step writes none, so a flow of many steps costs no D1 row per step). Pure.
 */
import { type ExecutionState, runsForRunLog } from "../flows/step-machine";
import type { InboxRow } from "./inbox";
import type { AttemptRecord, ExecutionRecord } from "./run-log";
import type { TurnResult } from "./step-runner";

type Stored = Extract<TurnResult, { kind: "stored" }>;

export interface TurnRecords {
	attempts: AttemptRecord[];
	execution: ExecutionRecord | null;
	/** Calls made so far, all turns. */
	callsMade: number;
}

/** The last call's request and response among the step runs (the execution's `request` and `response`). */
function lastCall(state: ExecutionState) {
	const run = [...state.runs].reverse().find((r) => r.request || r.response);
	return { request: run?.request ?? null, response: run?.response ?? null };
}

export function turnRecords(
	flowId: string,
	row: InboxRow,
	turn: Stored,
	finishedAt: number,
	multiStep: boolean,
	slowedBy: string | null,
): TurnRecords {
	const first = row.attempt_base + row.attempts;
	const attempts: AttemptRecord[] = turn.attempts.map((a, i) => ({
		type: "attempt",
		executionId: row.id,
		n: first + i + 1,
		startedAt: a.startedAt,
		durationMs: a.finishedAt - a.startedAt,
		status: a.status,
		outcome: a.outcome,
		error: a.error && slowedBy && a.outcome === "retry" ? `${a.error}; ${slowedBy}` : a.error,
	}));
	const callsMade = row.attempts + turn.attempts.length;
	const base = {
		type: "execution",
		id: row.id,
		flowId,
		version: row.version,
		receivedAt: row.received_at,
		attemptCount: row.attempt_base + callsMade,
	} as const;
	const { next, state } = turn;
	if (next.kind === "continue") return { attempts, execution: null, callsMade };
	// A one-step flow's run is the execution's own request and response: not stored twice (the API fills them in).
	const steps = multiStep ? runsForRunLog(state.runs) : state.runs.map((run) => ({ ...run, request: null, response: null }));
	if (next.kind === "retry") {
		const error = slowedBy ? `${next.error}; ${slowedBy}` : next.error;
		return {
			attempts,
			execution: { ...base, status: "retrying", ...lastCall(state), error, steps, finishedAt: null, durationMs: null },
			callsMade,
		};
	}
	const { runs: _, ...resumable } = state;
	return {
		attempts,
		execution: {
			...base,
			status: next.status,
			...lastCall(state),
			error: next.error,
			steps,
			// A failed execution of several steps keeps what its steps produced: a manual retry resumes at the failed one.
			resume: next.status === "failed" && multiStep ? resumable : null,
			finishedAt,
			durationMs: finishedAt - row.received_at,
		},
		callsMade,
	};
}
