/**
 * @module
 * The step machine: given a version's steps and an execution's state, what runs next (a call, a
 * logic step, the end), and how an outcome changes the state. Pure: the flow object stores the
 * state as one JSON value on the execution's inbox row and does the I/O around it.
 *
 * A step *instance* is a step in a scope: `crm` at the top level, `lines[2]/price` for the step
 * `price` on item 2 of the split `lines`. The state keeps, per instance, its result (with the
 * output later steps read as `$steps.<id>`), a split's items, a router's choices and the attempts
 * of a call under way, plus one run-log record per instance. Steps already done are never run
 * again: a retry (automatic, manual, or after a restart) resumes at the first instance not done.
 */

import type { ActionRequest, ActionResponse } from "../components/types";
import { MAX_OUTPUTS_BYTES } from "../components/types";
import { countSteps } from "./step-tree";
import type { IdentifiedStep } from "./step-types";

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

type Result = { s: "succeeded"; o?: unknown } | { s: "filtered" } | { s: "failed"; e: string };

export interface ExecutionState {
	/** Results by instance key. */
	done: Record<string, Result>;
	/** A split's items, by the split's instance key. */
	items: Record<string, unknown[]>;
	/** A router's routes taken (indexes; -1 is `otherwise`), by instance key. */
	routes: Record<string, number[]>;
	/** Attempts made of a call not yet done, by instance key. */
	attempts: Record<string, number>;
	/** Bytes of JSON of the outputs and items carried (bounded by MAX_OUTPUTS_BYTES). */
	bytes: number;
	runs: StepRun[];
}

export const emptyState = (): ExecutionState => ({ done: {}, items: {}, routes: {}, attempts: {}, bytes: 0, runs: [] });

/** What `$execution` is. */
export interface ExecutionFacts {
	id: string;
	flowId: string;
	version: number;
	receivedAt: number;
}

/** Where an instance runs: its key prefix and, inside a split, the item. */
interface Scope {
	prefix: string;
	item?: unknown;
	index?: number;
}

interface Located {
	step: IdentifiedStep;
	key: string;
	/** Definition path, dotted. */
	path: string;
	item: number | null;
	scope: Scope;
}

export type NextAction =
	/** An outgoing call: prepare it with the context, send it with this idempotency key. */
	| (Located & { kind: "call"; idempotencyKey: string; attempt: number })
	/** A logic step to evaluate (filter, transform, a split's items, a router's conditions). */
	| (Located & { kind: "logic" })
	/** A split or router whose nested steps are all done: its output is known. */
	| (Located & { kind: "complete"; output: unknown; status: "succeeded" | "filtered" })
	| { kind: "finish"; status: "succeeded" | "failed" | "filtered"; error: string | null; failedKey: string | null };

type Walk =
	| { kind: "done"; last: unknown; any: boolean }
	| { kind: "filtered" }
	| { kind: "failed"; error: string; key: string }
	| { kind: "pending"; actions: NextAction[] };

const isLogic = (step: IdentifiedStep) => step.component === "logic";

/** A version's steps are immutable: their count is computed once per list. */
const counts = new WeakMap<readonly IdentifiedStep[], number>();
function stepCount(steps: readonly IdentifiedStep[]): number {
	let count = counts.get(steps);
	if (count === undefined) {
		count = countSteps(steps);
		counts.set(steps, count);
	}
	return count;
}

/** The next actions: calls and logic steps that may run now (several inside a split with concurrency), or the end. */
export function nextActions(steps: readonly IdentifiedStep[], state: ExecutionState, executionId: string): NextAction[] {
	const single = stepCount(steps) === 1;
	const walk = (list: readonly IdentifiedStep[], basePath: string, scope: Scope): Walk => {
		let last: unknown;
		let any = false;
		for (const [index, step] of list.entries()) {
			const key = `${scope.prefix}${step.id}`;
			const located: Located = { step, key, path: `${basePath}.${index}`, item: scope.index ?? null, scope };
			const result = state.done[key];
			if (result?.s === "succeeded") {
				last = result.o;
				any = true;
				continue;
			}
			if (result?.s === "filtered") return { kind: "filtered" };
			if (result?.s === "failed") return { kind: "failed", error: result.e, key };
			if (!isLogic(step)) {
				const attempt = (state.attempts[key] ?? 0) + 1;
				return {
					kind: "pending",
					actions: [{ ...located, kind: "call", attempt, idempotencyKey: single ? executionId : idempotencyKeyOf(executionId, key) }],
				};
			}
			if (step.action === "split") {
				const items = state.items[key];
				if (!items) return { kind: "pending", actions: [{ ...located, kind: "logic" }] };
				const window = step.concurrency ?? 1;
				const actions: NextAction[] = [];
				const outputs: unknown[] = [];
				let open = 0;
				for (const [i, item] of items.entries()) {
					const inner = walk(step.steps as IdentifiedStep[], `${located.path}.steps`, { prefix: `${key}[${i}]/`, item, index: i });
					if (inner.kind === "failed") return inner;
					if (inner.kind === "done" && inner.any) outputs.push(inner.last);
					if (inner.kind === "pending") {
						// Items in order: at most `concurrency` unfinished items have started.
						if (open < window) actions.push(...inner.actions);
						open++;
					}
				}
				if (open > 0) return { kind: "pending", actions };
				return { kind: "pending", actions: [{ ...located, kind: "complete", output: outputs, status: "succeeded" }] };
			}
			if (step.action === "router") {
				const taken = state.routes[key];
				if (!taken) return { kind: "pending", actions: [{ ...located, kind: "logic" }] };
				for (const route of taken) {
					const list = route === -1 ? step.otherwise : step.routes?.[route]?.steps;
					const path = route === -1 ? `${located.path}.otherwise` : `${located.path}.routes.${route}.steps`;
					const inner = walk((list ?? []) as IdentifiedStep[], path, scope);
					// Routes run one after the other; a filter stops only its own route.
					if (inner.kind === "pending" || inner.kind === "failed") return inner;
				}
				const names = taken.map((r) => (r === -1 ? "otherwise" : (step.routes?.[r]?.name ?? String(r))));
				return { kind: "pending", actions: [{ ...located, kind: "complete", output: { routes: names }, status: "succeeded" }] };
			}
			return { kind: "pending", actions: [{ ...located, kind: "logic" }] };
		}
		return { kind: "done", last, any };
	};
	const top = walk(steps, "steps", { prefix: "" });
	switch (top.kind) {
		case "pending":
			return top.actions;
		case "done":
			return [{ kind: "finish", status: "succeeded", error: null, failedKey: null }];
		case "filtered":
			return [{ kind: "finish", status: "filtered", error: null, failedKey: null }];
		case "failed":
			return [{ kind: "finish", status: "failed", error: top.error, failedKey: top.key }];
	}
}

/** Stable per execution, step and item; the same on every attempt. `lines[2]/price` → `<execution>.lines.2.price`. */
export function idempotencyKeyOf(executionId: string, key: string): string {
	return `${executionId}.${key.replaceAll("/", ".").replace(/\[(\d+)\]/g, ".$1")}`;
}

/** The variables an instance's expressions see: `$steps` (outputs on the way here), `$item`, `$index`, `$execution`. */
export function contextVariables(state: ExecutionState, scope: Scope, execution: ExecutionFacts): Record<string, unknown> {
	const steps: Record<string, unknown> = {};
	// Outer scopes first; an instance sees the outputs of its own scope and every enclosing one.
	const prefixes = [""];
	for (let at = scope.prefix.indexOf("/"); at !== -1; at = scope.prefix.indexOf("/", at + 1)) prefixes.push(scope.prefix.slice(0, at + 1));
	for (const [key, result] of Object.entries(state.done)) {
		if (result.s !== "succeeded") continue;
		const slash = key.lastIndexOf("/");
		const prefix = key.slice(0, slash + 1);
		if (prefixes.includes(prefix)) steps[key.slice(slash + 1)] = result.o;
	}
	const variables: Record<string, unknown> = {
		steps,
		execution: { ...execution, receivedAt: new Date(execution.receivedAt).toISOString() },
	};
	if (scope.index !== undefined) {
		variables.item = scope.item;
		variables.index = scope.index;
	}
	return variables;
}

const encoder = new TextEncoder();
export const jsonBytes = (value: unknown) => (value === undefined ? 0 : encoder.encode(JSON.stringify(value)).length);

/** The run-log record of an instance, replaced as it changes (one per instance). */
function withRun(state: ExecutionState, run: StepRun): StepRun[] {
	const at = state.runs.findIndex((r) => r.key === run.key);
	if (at === -1) return [...state.runs, run];
	const runs = [...state.runs];
	runs[at] = { ...run, startedAt: runs[at]?.startedAt ?? run.startedAt };
	return runs;
}

function stepLabel(step: IdentifiedStep): string {
	return step.name ? `"${step.name}" (${step.id})` : step.id;
}

/** Carries `output` for an instance, or fails it when the outputs would pass MAX_OUTPUTS_BYTES. */
function carry(state: ExecutionState, located: Located, output: unknown): { state: ExecutionState; error: string | null } {
	const bytes = jsonBytes(output);
	if (state.bytes + bytes > MAX_OUTPUTS_BYTES) {
		const error = `The output of step ${stepLabel(located.step)} is ${bytes} bytes: with the outputs before it (${state.bytes} bytes) it is over the ${MAX_OUTPUTS_BYTES} bytes an execution carries between steps; nothing was cut, so the execution stops here`;
		return { state: { ...state, done: { ...state.done, [located.key]: { s: "failed", e: error } } }, error };
	}
	return {
		state: { ...state, bytes: state.bytes + bytes, done: { ...state.done, [located.key]: { s: "succeeded", o: output } } },
		error: null,
	};
}

export interface CallResult {
	status: "succeeded" | "retrying" | "failed";
	output?: unknown;
	request: ActionRequest | null;
	response: ActionResponse | null;
	error: string | null;
	startedAt: number;
	finishedAt: number;
}

/** A call's attempt ended: succeeded (its output carried), retrying (attempt counted), or failed. */
export function applyCall(state: ExecutionState, action: Extract<NextAction, { kind: "call" }>, result: CallResult): ExecutionState {
	const attempts = { ...state.attempts, [action.key]: action.attempt };
	let next: ExecutionState = { ...state, attempts };
	let status: StepRunStatus = result.status;
	let error = result.error;
	if (result.status === "succeeded") {
		const carried = carry(next, action, result.output);
		next = carried.state;
		if (carried.error) {
			status = "failed";
			error = carried.error;
		}
	} else if (result.status === "failed") {
		next = { ...next, done: { ...next.done, [action.key]: { s: "failed", e: error ?? "The call failed" } } };
	}
	if (status !== "retrying") {
		const { [action.key]: _, ...rest } = next.attempts;
		next = { ...next, attempts: rest };
	}
	const run: StepRun = {
		id: action.step.id,
		key: action.key,
		path: action.path,
		item: action.item,
		status,
		request: result.request,
		response: result.response,
		error,
		attempts: action.attempt,
		startedAt: result.startedAt,
		durationMs: result.finishedAt - result.startedAt,
	};
	return { ...next, runs: withRun(next, run) };
}

export type LogicResult =
	| { ok: true; kind: "filter"; pass: boolean }
	| { ok: true; kind: "transform"; value: unknown }
	| { ok: true; kind: "split"; items: unknown[] }
	| { ok: true; kind: "router"; taken: number[] }
	| { ok: false; error: string };

/** A logic step was evaluated. A split's items and a router's choices are kept; its own record is written when its nested steps are done. */
export function applyLogic(
	state: ExecutionState,
	action: Extract<NextAction, { kind: "logic" }>,
	result: LogicResult,
	atMs: number,
): ExecutionState {
	const run = (status: StepRunStatus, error: string | null = null): StepRun => ({
		id: action.step.id,
		key: action.key,
		path: action.path,
		item: action.item,
		status,
		request: null,
		response: null,
		error,
		attempts: 0,
		startedAt: atMs,
		durationMs: 0,
	});
	const fail = (error: string) => {
		const failed = {
			...state,
			done: { ...state.done, [action.key]: { s: "failed" as const, e: `Step ${stepLabel(action.step)}: ${error}` } },
		};
		return { ...failed, runs: withRun(failed, run("failed", error)) };
	};
	if (!result.ok) return fail(result.error);
	switch (result.kind) {
		case "filter": {
			if (!result.pass) {
				const filtered = { ...state, done: { ...state.done, [action.key]: { s: "filtered" as const } } };
				return { ...filtered, runs: withRun(filtered, run("filtered")) };
			}
			const carried = carry(state, action, true);
			return { ...carried.state, runs: withRun(carried.state, run(carried.error ? "failed" : "succeeded", carried.error)) };
		}
		case "transform": {
			const carried = carry(state, action, result.value);
			return { ...carried.state, runs: withRun(carried.state, run(carried.error ? "failed" : "succeeded", carried.error)) };
		}
		case "split": {
			const bytes = jsonBytes(result.items);
			if (state.bytes + bytes > MAX_OUTPUTS_BYTES)
				return fail(
					`its items are ${bytes} bytes, over the ${MAX_OUTPUTS_BYTES} bytes an execution carries between steps (with ${state.bytes} bytes before them)`,
				);
			return { ...state, bytes: state.bytes + bytes, items: { ...state.items, [action.key]: result.items } };
		}
		case "router": {
			// The first steps of the ways not taken are recorded as skipped, so the run log shows every way.
			let routed: ExecutionState = { ...state, routes: { ...state.routes, [action.key]: result.taken } };
			const ways = [
				...(action.step.routes ?? []).map((route, r) => ({ r, steps: route.steps, path: `${action.path}.routes.${r}.steps` })),
				{ r: -1, steps: action.step.otherwise ?? [], path: `${action.path}.otherwise` },
			];
			for (const way of ways) {
				const first = way.steps[0];
				if (result.taken.includes(way.r) || !first?.id) continue;
				const skipped: StepRun = { ...run("skipped"), id: first.id, key: `${action.scope.prefix}${first.id}`, path: `${way.path}.0` };
				routed = { ...routed, runs: withRun(routed, skipped) };
			}
			return routed;
		}
	}
}

/** A split's or router's nested steps are done: its output is carried and its record written. */
export function applyComplete(state: ExecutionState, action: Extract<NextAction, { kind: "complete" }>, atMs: number): ExecutionState {
	const carried = carry(state, action, action.output);
	const first = state.runs.find((r) => r.key.startsWith(`${action.key}[`) || r.key === action.key);
	const run: StepRun = {
		id: action.step.id,
		key: action.key,
		path: action.path,
		item: action.item,
		status: carried.error ? "failed" : "succeeded",
		request: null,
		response: null,
		error: carried.error,
		attempts: 0,
		startedAt: first?.startedAt ?? atMs,
		durationMs: atMs - (first?.startedAt ?? atMs),
	};
	return { ...carried.state, runs: withRun(carried.state, run) };
}

/**
 * A manual retry resumes at the failed instance: failed results and the attempts of unfinished
 * calls are cleared, everything that succeeded is kept.
 */
export function resumeAfterFailure(state: ExecutionState): ExecutionState {
	const done = Object.fromEntries(Object.entries(state.done).filter(([, r]) => r.s !== "failed"));
	return { ...state, done, attempts: {} };
}

/** Bytes of JSON the step runs may take in one run-log row; past it the oldest runs' bodies are left out (each says so). */
export const MAX_RUN_LOG_STEPS_BYTES = 512 * 1024;

/** The runs as the run log stores them: bodies left out, oldest first, until they fit. */
export function runsForRunLog(runs: readonly StepRun[], limit = MAX_RUN_LOG_STEPS_BYTES): StepRun[] {
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

declare module "../db/schema" {
	interface JsonColumns {
		/** executions.steps: the step runs. */
		stepRuns: StepRun[];
		/** executions.resume: the state a manual retry resumes from (its runs are in executions.steps). */
		resumeState: Omit<ExecutionState, "runs">;
	}
}
