/**
 * @module
 * What running an action once produced; the retry policy decides what happens next.
 */

/** Set when a recorded body was cut to MAX_RECORDED_BODY_BYTES (components/recorded-body.ts). */
interface RecordedBodySize {
	/** The body's real size in bytes. */
	bodyBytes?: number;
	truncated?: true;
}

export interface ActionRequest extends RecordedBodySize {
	method: string;
	url: string;
	/** Non-secret headers only: the API key is never recorded. */
	headers: Record<string, string>;
	body: unknown;
}

export interface ActionResponse extends RecordedBodySize {
	status: number;
	/** The answer's headers (HTTP request steps; never set-cookie). */
	headers?: Record<string, string>;
	body: unknown;
}

/**
 * What an expression of a step sees: `$` is the trigger's message, and `$steps`, `$item`,
 * `$index`, `$execution` are variables (flows/step-context.ts builds them).
 */
export interface StepContext {
	message: unknown;
	variables: Record<string, unknown>;
}

export type ActionOutcome =
	/** 2xx: done. `output` is what `$steps.<id>` holds: `{status, headers, body}` with the whole body (the recorded one may be cut). */
	| { kind: "succeeded"; request: ActionRequest; response: ActionResponse; output?: unknown }
	/** The call failed in a way another attempt may fix (network, timeout, 408, 429, 5xx); `request` is null when the attempt was cut short before its outcome was stored. */
	| { kind: "retryable"; request: ActionRequest | null; response: ActionResponse | null; error: string; retryAfter: string | null }
	/** Retrying cannot help: invalid input or another 4xx. `request` is null when no call was made. */
	| { kind: "terminal"; request: ActionRequest | null; response: ActionResponse | null; error: string };

declare module "../db/schema" {
	interface JsonColumns {
		/** executions.request: the call as recorded (never the key). */
		actionRequest: ActionRequest;
		/** executions.response: the answer as recorded. */
		actionResponse: ActionResponse;
	}
}

/** Bytes of JSON all the step outputs one execution carries may take (SPEC §6): past it the execution fails naming the step. */
export const MAX_OUTPUTS_BYTES = 1024 * 1024;
