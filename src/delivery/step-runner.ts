/**
 * @module
 * The step runner: one *turn* of an execution. It evaluates the logic steps that come next (in
 * memory, no storage), stops at the next call(s), has the host store the state durably before
 * anything is sent, sends, and answers what the host must store: the execution goes on (another
 * turn, due now: the next call takes its own rate-limit token), retries a step later, or is done.
 * The decisions are the step machine's (flows/step-machine.ts) and next-step.ts's; this file is
 * prepare → call → record around them.
 */
import type { OAuth2TokenClient } from "../components/http/oauth2";
import type { ActionOutcome, ActionRequest } from "../components/types";
import { evaluateLogicStep, prepareStepCall, type StepCredential, sendStepCall } from "../flows/step-actions";
import {
	applyCall,
	applyComplete,
	applyLogic,
	contextVariables,
	type ExecutionFacts,
	type ExecutionState,
	emptyState,
	type NextAction,
	nextActions,
} from "../flows/step-machine";
import type { IdentifiedStep } from "../flows/step-types";
import { errorMessage } from "../log";
import { MappingError } from "../mapping/evaluate";
import { decideAfterAttempt, type SlowDownSignal } from "./next-step";
import { type RetryPolicy, resolvePolicy } from "./retry-policy";

type CallAction = Extract<NextAction, { kind: "call" }>;

export const INTERRUPTED =
	"The attempt ended without a stored outcome (the object restarted during the call); the call may have reached its destination, so the retry carries the same idempotency key";

/** A published version as the runner needs it: its steps with ids (flows/step-tree.ts withStepIds). */
export interface RunnableVersion {
	steps: IdentifiedStep[];
	retryPolicy?: Partial<RetryPolicy>;
	/** More than one step: errors name the step they come from. */
	multiStep: boolean;
}

/** What a turn needs from the flow object. */
export interface StepRunnerHost {
	/** The step's credential; throws when it cannot be read (an infrastructure failure: nothing was sent). */
	credential(credentialId: string): Promise<StepCredential | null>;
	tokens: OAuth2TokenClient;
	/** Rate-limit tokens for `want` more calls in this turn (a split with concurrency); answers how many may start now. */
	moreCalls(want: number): Promise<number>;
	/**
	 * Whether calls to these origins may start now (each destination's pace has room); else when to
	 * look again. Nothing is sent or stored then.
	 */
	admit(origins: readonly string[]): { ok: true } | { ok: false; wakeAt: number };
	/** A call to `origin` starts (`+1`) or ends (`-1`): the pace counts calls under way per destination. */
	underWay(origin: string, change: 1 | -1): void;
	/** Durable before anything is sent (the output gate holds the fetch until this write is stored). */
	beforeCalls(state: ExecutionState): void;
}

export interface TurnInput {
	execution: ExecutionFacts;
	message: unknown;
	state: ExecutionState | null;
	/** The last turn's calls were under way when the object stopped: their outcome is unknown. */
	interrupted: boolean;
}

/** One attempt of one call, for the run log's attempts. */
export interface CallAttempt {
	startedAt: number;
	finishedAt: number;
	status: number | null;
	outcome: "succeeded" | "retry" | "failed";
	error: string | null;
	/** Where the call went (its origin), for the slow-down. */
	origin: string | null;
}

export type TurnResult =
	/** Nothing was sent: Hookflow could not prepare (D1 unreadable, a key that does not unseal). */
	| { kind: "infrastructure"; error: string }
	/** Nothing was sent: the token came too late or the destination is held or full; look again at `wakeAt`. */
	| { kind: "deferred"; wakeAt: number }
	| {
			kind: "stored";
			state: ExecutionState;
			/** continue: another turn now; retry: at `atMs`; finished: the execution's final status. */
			next:
				| { kind: "continue" }
				| { kind: "retry"; atMs: number; error: string }
				| { kind: "finished"; status: "succeeded" | "failed" | "filtered"; error: string | null };
			attempts: CallAttempt[];
			/** A 429/503 answer and where from: that destination slows down. `label` names it in messages ("Petstore", or the origin). */
			slowDowns: Array<SlowDownSignal & { origin: string; label: string }>;
	  };

const originOf = (request: ActionRequest | null): string | null => {
	if (!request) return null;
	try {
		return new URL(request.url).origin;
	} catch {
		return null;
	}
};

function label(step: IdentifiedStep): string {
	return step.name ? `"${step.name}" (${step.id})` : step.id;
}

/** Runs the logic steps due now, until a call or the end. */
async function advance(
	version: RunnableVersion,
	state: ExecutionState,
	input: TurnInput,
): Promise<{ state: ExecutionState; actions: NextAction[] }> {
	let current = state;
	for (;;) {
		const actions = nextActions(version.steps, current, input.execution.id);
		const first = actions[0];
		if (!first || first.kind === "finish" || first.kind === "call") return { state: current, actions };
		for (const action of actions) {
			if (action.kind === "complete") current = applyComplete(current, action, Date.now());
			else if (action.kind === "logic") {
				const context = { message: input.message, variables: contextVariables(current, action.scope, input.execution) };
				let result: Awaited<ReturnType<typeof evaluateLogicStep>>;
				try {
					result = await evaluateLogicStep(action.step, context);
				} catch (error) {
					// The sandbox turns expression failures into MappingError; anything else still ends this step, not the flow.
					result = {
						ok: false,
						error: error instanceof MappingError ? error.message : `The step failed unexpectedly: ${errorMessage(error)}`,
					};
				}
				current = applyLogic(current, action, result, Date.now());
			}
		}
	}
}

/** One turn of an execution (see the module comment). */
export async function runTurn(version: RunnableVersion, input: TurnInput, host: StepRunnerHost): Promise<TurnResult> {
	let state = input.state ?? emptyState();
	const attempts: CallAttempt[] = [];
	const slowDowns: Array<SlowDownSignal & { origin: string; label: string }> = [];
	let retryAt: { atMs: number; error: string } | null = null;

	const record = (action: CallAction, outcome: ActionOutcome, startedAt: number, finishedAt: number) => {
		const policy = resolvePolicy({ ...version.retryPolicy, ...action.step.retryPolicy });
		const decision = decideAfterAttempt(outcome, action.attempt, policy, finishedAt);
		const { next } = decision;
		const named = (error: string) => (version.multiStep ? `Step ${label(action.step)}: ${error}` : error);
		const origin = originOf(outcome.request);
		if (decision.slowDown && origin)
			slowDowns.push({ ...decision.slowDown, origin, label: action.step.component === "petstore" ? "Petstore" : origin });
		const status = next.kind === "succeed" ? "succeeded" : next.kind === "retry" ? "retrying" : "failed";
		const error = next.kind === "succeed" ? null : named(next.error);
		state = applyCall(state, action, {
			status,
			output:
				outcome.kind === "succeeded"
					? (outcome.output ?? { status: outcome.response.status, headers: outcome.response.headers ?? {}, body: outcome.response.body })
					: undefined,
			request: outcome.request,
			response: outcome.response,
			error,
			startedAt,
			finishedAt,
		});
		attempts.push({
			startedAt,
			finishedAt,
			status: outcome.response?.status ?? null,
			outcome: status === "retrying" ? "retry" : status,
			error,
			origin,
		});
		if (next.kind === "retry" && (retryAt === null || next.atMs < retryAt.atMs)) retryAt = { atMs: next.atMs, error: error ?? next.error };
	};
	/** The turn's result when a call of it must be retried: stored, due at the earliest retry. */
	const storedRetry = (): TurnResult | null => {
		// `record` sets it from a closure, which narrowing does not see.
		const due = retryAt as { atMs: number; error: string } | null;
		return due ? { kind: "stored", state, next: { kind: "retry", ...due }, attempts, slowDowns } : null;
	};

	if (input.interrupted) {
		// The calls the last turn stored as under way: each counts as an attempt that may have reached its destination.
		const under = nextActions(version.steps, state, input.execution.id).filter((a): a is CallAction => a.kind === "call");
		const now = Date.now();
		for (const action of under)
			record(action, { kind: "retryable", request: null, response: null, error: INTERRUPTED, retryAfter: null }, now, now);
		const retry = storedRetry();
		if (retry) return retry;
	}

	const advanced = await advance(version, state, input);
	state = advanced.state;
	const calls = advanced.actions.filter((a): a is CallAction => a.kind === "call");
	if (calls.length > 0) {
		// One token came with the turn; a split running items at once asks for the others.
		const allowed = calls.length > 1 ? 1 + (await host.moreCalls(calls.length - 1)) : 1;
		const starting = calls.slice(0, allowed);
		const prepared: Array<{ action: CallAction; credential: StepCredential | null; request: ActionRequest | null; error: string | null }> =
			[];
		try {
			for (const action of starting) {
				const credential = action.step.credentialId ? await host.credential(action.step.credentialId) : null;
				const context = { message: input.message, variables: contextVariables(state, action.scope, input.execution) };
				const call = await prepareStepCall(action.step, context, credential, action.idempotencyKey);
				prepared.push({ action, credential, request: call.ok ? call.request : null, error: call.ok ? null : call.error });
			}
		} catch (error) {
			if (error instanceof MappingError) throw error;
			return { kind: "infrastructure", error: errorMessage(error) };
		}
		// Refused before sending (bad input, a URL outside its credential): nothing is sent, the step fails.
		const now = Date.now();
		for (const p of prepared.filter((p) => p.request === null))
			record(p.action, { kind: "terminal", request: null, response: null, error: p.error ?? "The call could not be prepared" }, now, now);
		const sending = prepared.filter((p): p is typeof p & { request: ActionRequest } => p.request !== null);
		if (sending.length > 0) {
			const origins = sending.map((p) => originOf(p.request) ?? "");
			const admitted = host.admit(origins);
			if (!admitted.ok) return { kind: "deferred", wakeAt: admitted.wakeAt };
			try {
				host.beforeCalls(state);
			} catch (error) {
				// Nothing was sent: the state could not be stored (retried as an infrastructure failure, then failed; never a stall).
				return { kind: "infrastructure", error: `The execution's state could not be stored: ${errorMessage(error)}` };
			}
			await Promise.all(
				sending.map(async (p, i) => {
					const origin = origins[i] ?? "";
					const startedAt = Date.now();
					let outcome: ActionOutcome;
					host.underWay(origin, 1);
					try {
						outcome = await sendStepCall(p.request, p.credential, host.tokens);
					} catch (error) {
						outcome = { kind: "terminal", request: null, response: null, error: `The step failed unexpectedly: ${errorMessage(error)}` };
					} finally {
						host.underWay(origin, -1);
					}
					record(p.action, outcome, startedAt, Date.now());
				}),
			);
		}
	}
	const retry = storedRetry();
	if (retry) return retry;
	// After the calls: the logic that follows runs now, so a finished execution is stored once.
	const after = await advance(version, state, input);
	state = after.state;
	const first = after.actions[0];
	if (first?.kind === "finish")
		return { kind: "stored", state, next: { kind: "finished", status: first.status, error: first.error }, attempts, slowDowns };
	return { kind: "stored", state, next: { kind: "continue" }, attempts, slowDowns };
}
