/**
 * @module
 * `/hook/:flowId[/…]`: verify at the edge, then durably enqueue before answering 200.
 */
import type { Context } from "hono";
import { recordAuthFailure as recordAuthFailureStat } from "../db/queries/stats";
import { MAX_INLINE_MESSAGE_BYTES, MAX_STORED_MESSAGE_BYTES } from "../delivery/limits";
import type { ExecutionMessage } from "../delivery/messages";
import { stagingKey } from "../flows/execution-ids";
import { errorMessage, log } from "../log";
import type { HandshakeAnswer } from "./auth/types";
import { getIngressConfig, type IngressConfig } from "./config-cache";
import { providerDeliveryId } from "./delivery-id";
import { buildMessage } from "./message";
import { executionIdFor } from "./request-id";
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS, WindowCounter } from "./throttle";

const ALLOWED_METHODS = ["GET", "HEAD", "POST"];
const authFailures = new WindowCounter();
const flowRequests = new WindowCounter();
const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;

function headerBytes(headers: Headers): number {
	let n = 0;
	for (const [name, value] of headers) n += name.length + value.length + 6;
	return n;
}

type HookContext = Context<{ Bindings: Env }>;
interface HookSeen {
	authType: string | null;
	reason?: string;
	handshake?: string;
}

export function hookError(status: number, error: string, headers: Record<string, string> = {}): Response {
	return Response.json({ error }, { status, headers });
}

/** Reads at most `limit` bytes; null when the body is larger. */
async function readBodyLimited(request: Request, limit: number): Promise<Uint8Array | null> {
	if (!request.body) return new Uint8Array();
	// A declared length is what HTTP framing delivers: read it in one go (the caller checked it against the limit).
	const declared = request.headers.get("content-length");
	if (declared !== null && Number(declared) <= limit) return new Uint8Array(await request.arrayBuffer());
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
		size += chunk.length;
		if (size > limit) return null;
		chunks.push(chunk);
	}
	if (chunks.length === 1 && chunks[0]) return chunks[0];
	const body = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		body.set(chunk, offset);
		offset += chunk.length;
	}
	return body;
}

/** What wrangler.toml's MAX_BODY_BYTES says when it says nothing usable. */
const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * A hook's or a sample's body within MAX_BODY_BYTES, or the 413 that says so: refused on a declared
 * length before reading, or as soon as the bytes read pass the limit.
 */
export async function readLimitedBody(request: Request, env: Env): Promise<Uint8Array | Response> {
	const maxBytes = Number(env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
	const tooLarge = () => hookError(413, `Body is larger than the ${maxBytes}-byte limit`);
	if (Number(request.headers.get("content-length") ?? 0) > maxBytes) return tooLarge();
	return (await readBodyLimited(request, maxBytes)) ?? tooLarge();
}

export async function handleHook(c: HookContext): Promise<Response> {
	const startedAt = Date.now();
	const seen: HookSeen = { authType: null };
	const response = await acceptHook(c, startedAt, seen);
	log(response.status < 400 ? "info" : response.status >= 500 ? "error" : "warn", "hook", {
		flowId: c.req.param("flowId"),
		requestId: response.headers.get("x-request-id"),
		method: c.req.method,
		status: response.status,
		auth: seen.authType,
		// A 401's reason names the check that failed, never a given or expected value.
		reason: seen.reason,
		// A provider's handshake (Slack url_verification, Zoom endpoint.url_validation, Meta subscribe) answered at the edge.
		handshake: seen.handshake,
		bytes: Number(c.req.header("content-length") ?? 0) || null,
		ms: Date.now() - startedAt,
	});
	return response;
}

/**
 * After a 401: the flow object counts it for the dashboard, and the rate-limiting binding counts it
 * per (flow, client) across this location's isolates. When the binding says the client is over the
 * limit, this isolate's counter is filled too, so its zero-I/O gate answers 429 from then on.
 */
async function recordAuthFailure(env: Env, flowId: string, clientKey: string): Promise<void> {
	const [counted, limited, charted] = await Promise.allSettled([
		env.FLOW.getByName(flowId).addAuthFailures(1),
		env.AUTH_FAILURES.limit({ key: clientKey }),
		// The per-minute count that metrics and the flow.auth_failures alert read.
		recordAuthFailureStat(env.DB, flowId, Date.now()),
	]);
	if (limited.status === "fulfilled" && !limited.value.success) {
		let count = 0;
		while (count < AUTH_FAILURE_LIMIT) count = authFailures.add(clientKey, Date.now(), AUTH_FAILURE_WINDOW_MS);
	}
	for (const outcome of [counted, limited, charted]) {
		if (outcome.status === "rejected") log("warn", "hook.auth_failure_unrecorded", { flowId, error: errorMessage(outcome.reason) });
	}
}

/** The handshake's answer: no execution; the flow object counts it for the dashboard. */
function answerHandshake(c: HookContext, flowId: string, answer: HandshakeAnswer, seen: HookSeen): Response {
	seen.handshake = answer.kind;
	c.executionCtx.waitUntil(
		c.env.FLOW.getByName(flowId)
			.addHandshakes(1)
			.catch((error: Error) => log("warn", "hook.handshake_unrecorded", { flowId, error: error.message })),
	);
	return new Response(answer.body, { headers: { "content-type": answer.contentType } });
}

/**
 * 405 for a method whose payload the credential does not verify: under a body signature a GET's
 * query (its payload) is unsigned, and the HMAC of its empty body a constant anyone can replay.
 */
function refuseUnsignedMethod(method: string, url: URL, config: IngressConfig): Response | null {
	if ((config.methods as readonly string[]).includes(method) || config.verifier?.isHandshakeRequest?.(method, url)) return null;
	const allowed = [...config.methods, "HEAD"].sort();
	return hookError(405, `Method ${method} is not allowed for this flow: ${config.methodsHint}. Send ${config.methods.join(" or ")}`, {
		allow: allowed.join(", "),
	});
}

async function acceptHook(c: HookContext, nowMs: number, seen: HookSeen): Promise<Response> {
	const flowId = c.req.param("flowId") ?? "";
	const request = c.req.raw;
	if (!ALLOWED_METHODS.includes(request.method)) {
		return hookError(405, `Method ${request.method} is not allowed: use POST (or GET with query parameters)`, {
			allow: ALLOWED_METHODS.join(", "),
		});
	}
	let config: IngressConfig;
	try {
		config = await getIngressConfig(c.env, flowId, nowMs);
	} catch (error) {
		log("error", "hook.config_failed", { flowId, error: errorMessage(error) });
		return hookError(503, "Hookflow cannot read the flow configuration right now; retry shortly", { "retry-after": "5" });
	}
	if (!config.accepting || !config.verifier || config.version === null)
		return hookError(404, `Flow ${flowId} either does not exist or is inactive`);
	seen.authType = config.authType;
	if (request.method === "HEAD") return new Response(null, { status: 200 });
	const url = new URL(request.url);
	const methodRefused = refuseUnsignedMethod(request.method, url, config);
	if (methodRefused) return methodRefused;

	const clientKey = `${flowId}\n${request.headers.get("cf-connecting-ip") ?? "local"}`;
	const authRetryAfter = authFailures.retryAfterSeconds(clientKey, AUTH_FAILURE_LIMIT, nowMs, AUTH_FAILURE_WINDOW_MS);
	if (authRetryAfter > 0) {
		return hookError(429, `Too many failed authentications from this client; retry in ${authRetryAfter} s`, {
			"retry-after": String(authRetryAfter),
		});
	}
	if (config.rateLimit) {
		const windowMs = config.rateLimit.perSeconds * 1000;
		const retryAfter = flowRequests.retryAfterSeconds(flowId, config.rateLimit.requests, nowMs, windowMs);
		if (retryAfter > 0)
			return hookError(
				429,
				`Rate limit of ${config.rateLimit.requests} requests per ${config.rateLimit.perSeconds} s reached; retry in ${retryAfter} s`,
				{ "retry-after": String(retryAfter) },
			);
	}

	const rawBody = await readLimitedBody(request, c.env);
	if (rawBody instanceof Response) return rawBody;

	const auth = await config.verifier.verify({ method: request.method, url, headers: request.headers, rawBody, nowMs });
	if (!auth.ok) {
		authFailures.add(clientKey, nowMs, AUTH_FAILURE_WINDOW_MS);
		seen.reason = auth.reason;
		// waitUntil: the 401 goes out without waiting for the object or the binding, and the runtime keeps that work alive after it.
		c.executionCtx.waitUntil(recordAuthFailure(c.env, flowId, clientKey));
		return hookError(401, auth.reason, auth.wwwAuthenticate ? { "www-authenticate": auth.wwwAuthenticate } : {});
	}
	if (auth.handshake) return answerHandshake(c, flowId, auth.handshake, seen);
	// Only authenticated requests count against the flow's rate limit: strangers cannot use it up.
	if (config.rateLimit) flowRequests.add(flowId, nowMs, config.rateLimit.perSeconds * 1000);

	const parsed = buildMessage({
		method: request.method,
		url,
		headers: request.headers,
		rawBody,
		additionalPath: url.pathname.slice(`/hook/${flowId}`.length),
		secretHeaders: config.verifier.secretHeaders,
		keepClientIpHeaders: config.keepClientIpHeaders,
	});
	if (!parsed.ok) return hookError(parsed.status, parsed.error);
	const handshake = config.verifier.handshake ? await config.verifier.handshake(parsed.message, auth.secretIndex ?? 0) : null;
	if (handshake) return answerHandshake(c, flowId, handshake, seen);

	const senderId = providerDeliveryId(config.verifier.deliveryId, request.headers, parsed.message);
	const content = { method: request.method, url, rawBody, ...(config.signsOnlyBody ? { bodyOnlyPath: `/hook/${flowId}` } : {}) };
	const { id, fromSender, contentHash } = await executionIdFor(flowId, request.headers, content, senderId);
	const envelope: ExecutionMessage = { id, flowId, version: config.version, receivedAt: nowMs, message: parsed.message };
	if (fromSender) envelope.idFromSender = true;
	if (contentHash) envelope.contentHash = contentHash;
	// Every request byte becomes at most 6 bytes of JSON (\uXXXX): serialize only when near the limits.
	const bound = 6 * (rawBody.length + 2 * request.url.length + headerBytes(request.headers)) + 1024;
	const size = bound <= MAX_INLINE_MESSAGE_BYTES ? bound : utf8Length(JSON.stringify(envelope));
	// A form body of escapes can expand when parsed; storage rows hold at most 2 MB.
	if (size > MAX_STORED_MESSAGE_BYTES)
		return hookError(413, `Body expands to ${size} bytes when parsed, over the ${MAX_STORED_MESSAGE_BYTES}-byte limit of a stored message`);
	try {
		if (size > MAX_INLINE_MESSAGE_BYTES) {
			// Too large for one queue message: the flow object holds the payload, the queue a reference.
			await c.env.FLOW.getByName(flowId).stage(stagingKey(envelope), parsed.message);
			delete envelope.message;
		}
		await c.env.EXECUTIONS.send(envelope, { contentType: "json" });
	} catch (error) {
		log("error", "hook.enqueue_failed", { flowId, requestId: id, error: errorMessage(error) });
		return hookError(503, "Hookflow could not store the request; nothing was accepted, retry shortly", { "retry-after": "5" });
	}
	return Response.json({ requestId: id, message: "thank you" }, { headers: { "x-request-id": id } });
}
