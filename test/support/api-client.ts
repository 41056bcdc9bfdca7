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

/** A JSON response whose shape the test states by the fields it reads. */
export type Json = Record<string, any>;

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

	/** A call that must succeed (2xx); its JSON, or `{}` when it has no body. Throws with the status and body otherwise. */
	async function api<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
		const response = await call(method, path, body);
		const text = await response.text();
		if (response.status >= 300) throw new ApiCallError(response.status, text, `${method} ${path}`);
		return (text ? JSON.parse(text) : {}) as T;
	}

	return { call, api };
}
