/**
 * @module
 * Turns a hook request into the execution's message: the body's fields at the top level, plus
 * `_method`, `_url`, `_query`, `_headers` and `_additionalUrlPath`. Secret-bearing headers never
 * reach the message.
 */
import { CLIENT_IP_HEADERS } from "../components/client-ip-headers";
import type { Message } from "../flows/message";
import { errorMessage } from "../log";

const ALWAYS_SECRET_HEADERS = ["authorization", "proxy-authorization", "cookie"];
/** Stateless between calls (no `stream` option), so one instance serves every request. */
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
/** The hidden-header sets per verifier's list (client IPs kept, dropped), built once instead of per request. */
const hiddenSets = new WeakMap<readonly string[], { keepingIps: Set<string>; droppingIps: Set<string> }>();

function hiddenHeaders(secretHeaders: readonly string[], keepClientIpHeaders: boolean): Set<string> {
	let sets = hiddenSets.get(secretHeaders);
	if (!sets) {
		const keepingIps = new Set([...ALWAYS_SECRET_HEADERS, ...secretHeaders]);
		sets = { keepingIps, droppingIps: new Set([...keepingIps, ...CLIENT_IP_HEADERS]) };
		hiddenSets.set(secretHeaders, sets);
	}
	return keepClientIpHeaders ? sets.keepingIps : sets.droppingIps;
}
/** Deeper JSON parses, but cannot be handed on (structured clone and JSON.stringify recurse): refuse it up front. */
export const MAX_JSON_DEPTH = 1024;

/** A JSON object (not an array): its fields are the message's. */
const isMessage = (value: unknown): value is Message => typeof value === "object" && value !== null && !Array.isArray(value);

/** Nesting depth of parsed JSON, measured without recursion so the measurement itself cannot overflow. */
function jsonDepth(value: unknown): number {
	let deepest = 0;
	const pending: Array<[unknown, number]> = [[value, 1]];
	for (let next = pending.pop(); next; next = pending.pop()) {
		const [current, depth] = next;
		if (typeof current !== "object" || current === null) continue;
		if (depth > deepest) deepest = depth;
		if (deepest > MAX_JSON_DEPTH) return deepest;
		for (const child of Object.values(current)) pending.push([child, depth + 1]);
	}
	return deepest;
}

export type ParseResult =
	| {
			ok: true;
			message: Message;
			/** The bytes of the headers kept in `_headers` (names, values and 6 of JSON syntax each): part of the message's size bound. */
			headerBytes: number;
	  }
	| { ok: false; status: 400 | 415; error: string };

export interface HookRequestParts {
	method: string;
	url: URL;
	headers: Headers;
	rawBody: Uint8Array;
	additionalPath: string;
	secretHeaders: readonly string[];
	/** Off by default: client IP headers are dropped from `_headers`. */
	keepClientIpHeaders?: boolean;
}

/** Search params to an object; a repeated name becomes an array. Object.fromEntries-style writes make `__proto__` a plain key. */
function paramsToObject(params: URLSearchParams): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const [key, value] of params) {
		const existing = Object.hasOwn(out, key) ? out[key] : undefined;
		const next = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
		Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
	}
	return out;
}

function mediaType(contentType: string): string {
	return contentType.split(";")[0]?.trim().toLowerCase() ?? "";
}

function parseBody(parts: HookRequestParts): { ok: true; body: Message } | { ok: false; status: 400 | 415; error: string } {
	if (parts.method === "GET") return { ok: true, body: paramsToObject(parts.url.searchParams) };
	if (parts.rawBody.length === 0) return { ok: true, body: {} };
	const contentType = parts.headers.get("content-type");
	if (!contentType)
		return { ok: false, status: 415, error: "Missing content-type header: send application/json or application/x-www-form-urlencoded" };
	const type = mediaType(contentType);
	const isJson = type === "application/json" || type.endsWith("+json");
	const isForm = type === "application/x-www-form-urlencoded";
	if (!isJson && !isForm)
		return {
			ok: false,
			status: 415,
			error: `Unsupported content-type ${type}: send application/json or application/x-www-form-urlencoded`,
		};
	let text: string;
	try {
		text = utf8Decoder.decode(parts.rawBody);
	} catch {
		return { ok: false, status: 400, error: "Body is not valid UTF-8" };
	}
	if (isForm) return { ok: true, body: paramsToObject(new URLSearchParams(text)) };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { ok: false, status: 400, error: `Malformed JSON body: ${errorMessage(error)}` };
	}
	// Each level takes an opening and a closing bracket: a shorter text cannot be too deep, no walk needed.
	if (text.length > 2 * MAX_JSON_DEPTH && jsonDepth(value) > MAX_JSON_DEPTH)
		return { ok: false, status: 400, error: `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels` };
	return { ok: true, body: isMessage(value) ? value : { _body: value } };
}

export function buildMessage(parts: HookRequestParts): ParseResult {
	const parsed = parseBody(parts);
	if (!parsed.ok) return parsed;
	const hidden = hiddenHeaders(parts.secretHeaders, parts.keepClientIpHeaders === true);
	const headers: Record<string, string> = {};
	let headerBytes = 0;
	for (const [name, value] of parts.headers) {
		if (hidden.has(name)) continue;
		headers[name] = value;
		headerBytes += name.length + value.length + 6;
	}
	// The parsed body is this call's own object: its fields stay first, the request's parts are written
	// after them (a body field of the same name keeps its place and takes the request's value, as a spread would).
	const message: Message = parsed.body;
	message._method = parts.method;
	message._url = parts.url.href;
	// Without a query, no URLSearchParams is created.
	message._query = parts.url.search === "" ? {} : paramsToObject(parts.url.searchParams);
	message._headers = headers;
	if (parts.additionalPath) message._additionalUrlPath = parts.additionalPath;
	return { ok: true, message, headerBytes };
}
