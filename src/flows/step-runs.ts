/**
 * @module
 * The run log's record of each step run (one per step instance: per item inside a split), and how
 * much of them a run-log row keeps. Pure.
 */
import type { ActionRequest, ActionResponse } from "../components/types";

export const STEP_RUN_STATUSES = ["succeeded", "failed", "retrying", "filtered", "skipped"] as const;
export type StepRunStatus = (typeof STEP_RUN_STATUSES)[number];

/** One step run in the run log (one per item inside a split). */
export interface StepRun {
	/** The step's id. */
	id: string;
	/** The instance: the id, prefixed by the split items it runs in (`lines[2]/price`). */
	key: string;
	/** Where the step is in the definition (`steps.2.steps.0`). */
	path: string;
	/** The item index inside the innermost split, or null. */
	item: number | null;
	status: StepRunStatus;
	request: ActionRequest | null;
	response: ActionResponse | null;
	error: string | null;
	attempts: number;
	startedAt: number;
	durationMs: number | null;
}

const encoder = new TextEncoder();
export const jsonBytes = (value: unknown) => (value === undefined ? 0 : encoder.encode(JSON.stringify(value)).length);

/** Bytes of JSON the step runs may take in one run-log row; past it the oldest runs' bodies are left out (each says so). */
export const MAX_RUN_LOG_STEPS_BYTES = 512 * 1024;

/** The runs as the run log stores them: bodies left out, oldest first, until they fit. */
export function runsForRunLog(runs: readonly StepRun[], limit = MAX_RUN_LOG_STEPS_BYTES): StepRun[] {
	// Only bodies are ever left out: runs without any (logic steps, before the first call) are kept whole, unmeasured.
	if (!runs.some((run) => run.request || run.response)) return [...runs];
	let size = jsonBytes(runs);
	if (size <= limit) return [...runs];
	const out = [...runs];
	for (const [index, run] of out.entries()) {
		if (size <= limit) break;
		if (!run.request && !run.response) continue;
		const before = jsonBytes(run);
		const slim: StepRun = {
			...run,
			request: run.request
				? { ...run.request, body: "(left out: the run log keeps at most 512 KiB of steps per execution)", truncated: true }
				: null,
			response: run.response
				? { ...run.response, body: "(left out: the run log keeps at most 512 KiB of steps per execution)", truncated: true }
				: null,
		};
		out[index] = slim;
		size += jsonBytes(slim) - before;
	}
	return out;
}
