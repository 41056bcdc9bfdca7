/**
 * @module
 * The one admin-API helper of the tests, for the Worker in workerd (through its fetch handler) and
 * for `npm start` (over HTTP) alike.
 */

export interface ApiTarget {
	origin: string;
	token: string;
	/** How a request reaches the Worker; global fetch unless given. */
	fetch?: (request: Request) => Promise<Response>;
	/** Gives up on a call after this long (a hung server must fail the test, not stall it). */
	timeoutMs?: number;
}

import type { CredentialView, ExecutionsPage, ExecutionView, FlowList, FlowView } from "../../src/api/responses";

/** A JSON response whose shape the test states by the fields it reads. */
export type Json = Record<string, any>;

/** `/api/<resource>/<id>` and nothing after the id. */
type One<P extends string, Resource extends string, T> = P extends `/api/${Resource}/${infer Id}`
	? Id extends `${string}/${string}` | `${string}?${string}`
		? never
		: T
	: never;

type Typed<M extends string, P extends string> = M extends "GET"
	? P extends `/api/flows/${string}/executions${string}`
		? ExecutionsPage
		: P extends "/api/flows"
			? FlowList
			: P extends "/api/credentials" | `/api/credentials?${string}`
				? { credentials: CredentialView[] }
				:
						| One<P, "flows", { flow: FlowView }>
						| One<P, "executions", { execution: ExecutionView }>
						| One<P, "credentials", { credential: CredentialView }>
	: M extends "POST"
		? P extends "/api/flows" | `/api/flows/${string}/${"start" | "stop" | "pause" | "resume"}`
			? { flow: FlowView }
			: P extends `/api/flows/${string}/publish`
				? { version: number }
				: P extends "/api/credentials"
					? { credential: CredentialView }
					: P extends `/api/executions/${string}/retry`
						? { execution: ExecutionView }
						: never
		: M extends "PUT" | "PATCH"
			? P extends `/api/flows/${string}/draft`
				? { flow: FlowView }
				: One<P, "flows", { flow: FlowView }> | One<P, "credentials", { credential: CredentialView }>
			: never;

/**
 * An answer as a test reads it: every field the API answers, by name (a field it does not answer
 * fails to compile), with free-form JSON (`unknown`: bodies, messages) readable as is and nullable
 * fields read as present: the test's own expectations check them.
 */
type Loose<T> = unknown extends T
	? any
	: T extends null
		? never
		: T extends readonly (infer U)[]
			? Loose<U>[]
			: T extends object
				? { -readonly [K in keyof T]-?: Loose<T[K]> }
				: T;

/**
 * What a call answers: the API's own answer types (src/api/responses.ts) for the routes that have
 * them, so a test reading a field the API does not answer fails to compile; `Json` for the rest.
 */
export type Answer<M extends string, P extends string> = [Typed<M, P>] extends [never] ? Json : Loose<Typed<M, P>>;

export class ApiCallError extends Error {
	constructor(
		readonly status: number,
		readonly body: string,
		call: string,
	) {
		super(`${call} → ${status} ${body}`);
	}
}

export function apiClient(target: ApiTarget) {
	const send = target.fetch ?? ((request: Request) => fetch(request));

	/** Any call, authorized as the admin; the raw response, whatever its status. */
	function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
		return send(
			new Request(`${target.origin}${path}`, {
				method,
				headers: {
					authorization: `Bearer ${target.token}`,
					...(body === undefined ? {} : { "content-type": "application/json" }),
					...headers,
				},
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: target.timeoutMs ? AbortSignal.timeout(target.timeoutMs) : undefined,
			}),
		);
	}

	/**
	 * A call that must succeed (2xx); its JSON, or `{}` when it has no body. Throws with the status
	 * and body otherwise. Typed by its route (`Answer`), or by the type the test states (`api<T>(…)`).
	 */
	function api<const M extends string, const P extends string>(method: M, path: P, body?: unknown): Promise<Answer<M, P>>;
	function api<T>(method: string, path: string, body?: unknown): Promise<T>;
	async function api(method: string, path: string, body?: unknown): Promise<unknown> {
		const response = await call(method, path, body);
		const text = await response.text();
		if (response.status >= 300) throw new ApiCallError(response.status, text, `${method} ${path}`);
		return text ? JSON.parse(text) : {};
	}

	return { call, api };
}
