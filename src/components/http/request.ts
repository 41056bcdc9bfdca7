/**
 * @module
 * The HTTP request action's decisions, pure apart from evaluating expressions: `prepareHttpCall`
 * turns a step's settings and context into the request (nothing secret in it), and
 * `interpretHttpAnswer` turns the answer into an outcome and the step's output.
 */
import { evaluateExpression, MappingError, normalize } from "../../mapping/evaluate";
import { renderTemplate } from "../../mapping/template";
import { outsideCredential, resolveStepUrl } from "../base-url";
import { recordedValue } from "../recorded-body";
import type { ActionOutcome, ActionRequest, StepContext } from "../types";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpRequestSettings {
	method?: string;
	url?: string;
	headers?: Record<string, string>;
	query?: Record<string, string>;
	body?: string;
}

/** Headers a step may not set: the credential, the transport and the idempotency key decide them. */
const RESERVED_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding", "cookie"]);
/** Headers never recorded in the run log, whoever set them. */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

export type PreparedCall = { ok: true; request: ActionRequest } | { ok: false; error: string };

const fail = (error: string): PreparedCall => ({ ok: false, error });

export async function prepareHttpCall(
	settings: HttpRequestSettings,
	context: StepContext,
	baseUrl: string | null,
	idempotencyKey: string,
): Promise<PreparedCall> {
	const method = (settings.method ?? "GET").toUpperCase();
	if (!(HTTP_METHODS as readonly string[]).includes(method)) return fail(`Method ${method} is not one of ${HTTP_METHODS.join(", ")}`);
	let url: URL;
	const headers: Record<string, string> = { accept: "application/json" };
	let body: unknown;
	try {
		const resolved = resolveStepUrl(await renderTemplate(settings.url ?? "", context.message, context.variables, "url"), baseUrl);
		if (!resolved.ok) return fail(resolved.error);
		url = resolved.url;
		for (const [name, template] of Object.entries(settings.query ?? {})) {
			url.searchParams.append(name, await renderTemplate(template, context.message, context.variables, "text"));
		}
		for (const [name, template] of Object.entries(settings.headers ?? {})) {
			const lower = name.toLowerCase();
			if (RESERVED_HEADERS.has(lower)) return fail(`Header ${name} cannot be set by a step`);
			headers[lower] = await renderTemplate(template, context.message, context.variables, "text");
		}
		if (settings.body !== undefined && settings.body.trim() !== "") {
			const value = await evaluateExpression(settings.body, context.message, context.variables);
			if (value !== undefined) body = normalize(value);
		}
	} catch (error) {
		if (error instanceof MappingError) return fail(`An expression failed: ${error.message}`);
		throw error;
	}
	if (baseUrl !== null) {
		const outside = outsideCredential(url, baseUrl);
		if (outside) return fail(outside);
	}
	if (body !== undefined) headers["content-type"] ??= "application/json";
	headers["idempotency-key"] ??= idempotencyKey;
	return { ok: true, request: { method, url: url.toString(), headers, body } };
}

/** The request as the run log records it: no secret header, the body within its cap. */
export function recordedHttpRequest(request: ActionRequest): ActionRequest {
	const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !SECRET_HEADERS.has(name)));
	return { ...request, headers, ...recordedValue(request.body) };
}

export interface HttpAnswer {
	status: number;
	headers: Record<string, string>;
	/** The whole body as text. */
	text: string;
	/** Where a 3xx pointed, by origin, or null. */
	redirectedTo: string | null;
	retryAfter: string | null;
}

const isJsonType = (contentType: string | undefined) => /^application\/([\w.+-]+\+)?json\b/i.test(contentType ?? "");

/** The outcome of an answer: 2xx succeeded (output `{status, headers, body}`), 408/429/5xx retryable, the rest terminal. */
export function interpretHttpAnswer(request: ActionRequest, answer: HttpAnswer): ActionOutcome {
	const recorded = recordedHttpRequest(request);
	let body: unknown = answer.text;
	let notJson: string | null = null;
	if (isJsonType(answer.headers["content-type"]) && answer.text !== "") {
		try {
			body = JSON.parse(answer.text);
		} catch (error) {
			notJson = `The answer says it is JSON (${answer.headers["content-type"]}) but is not: ${(error as Error).message}`;
		}
	}
	const response = { status: answer.status, headers: answer.headers, ...recordedValue(body) };
	const origin = new URL(request.url).origin;
	if (answer.status >= 200 && answer.status < 300) {
		if (notJson) return { kind: "terminal", request: recorded, response, error: notJson };
		return { kind: "succeeded", request: recorded, response, output: { status: answer.status, headers: answer.headers, body } };
	}
	if (answer.status >= 300 && answer.status < 400)
		return {
			kind: "terminal",
			request: recorded,
			response,
			error: `${origin} redirected (HTTP ${answer.status}) to ${answer.redirectedTo ?? "an unnamed location"}; redirects are not followed, so a secret is never sent elsewhere: call the final URL`,
		};
	const quoted = describeError(body);
	const error = `${origin} answered ${answer.status}${quoted}`;
	if (answer.status === 408 || answer.status === 429 || answer.status >= 500)
		return { kind: "retryable", request: recorded, response, error, retryAfter: answer.retryAfter };
	return { kind: "terminal", request: recorded, response, error };
}

function describeError(body: unknown): string {
	if (typeof body === "string") return body.trim() ? `: ${body.trim().slice(0, 300)}` : "";
	if (typeof body === "object" && body !== null) {
		for (const key of ["message", "error_description", "error", "detail", "title"]) {
			const value = Reflect.get(body, key);
			if (typeof value === "string" && value) return `: ${value.slice(0, 300)}`;
		}
	}
	return "";
}
