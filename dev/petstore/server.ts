/**
 * @module
 * A local Petstore-compatible API: the default action target for `npm start` and the tests, so the
 * whole walkthrough works offline. Everything lives in memory and is gone when the process exits;
 * that is fine for a dev and test double.
 *
 * /v2/*          the Petstore subset Hookflow uses, behind the `api-key` header.
 * /__control/*   test hooks (no key): request log (with the pet POSTs each one overlapped), fault
 *                injection (optionally aimed at one pet name), a latency for every pet POST, reset.
 *                Local use only.
 * /elsewhere/*   answers 302 to the same path under /v2/leaked/ on another origin (localhost
 *                instead of 127.0.0.1): a base URL that redirects. A client that follows it shows
 *                up in the request log as /v2/leaked/….
 * /crm/*        a CRM-like JSON API for HTTP request steps: GET /crm/customers/<id>, POST /crm/notes,
 *                any method on /crm/echo (answers what it got). Needs a credential: Bearer crm-token,
 *                Basic crm:crm-pass, x-api-key / ?api_key= crm-key, or a token from /oauth/token.
 * /oauth/token   OAuth2 client credentials (client crm-client, secret crm-secret): tokens live
 *                `tokenLifetimeSeconds` (POST /__control/crm {tokenLifetimeSeconds}); POST
 *                /__control/crm {revokeTokens:true} makes the issued ones answer 401.
 *                POST /__control/crm {faults:[{status?, retryAfter?, nonJson?, bodyBytes?}], latencyMs?}
 *                queues answers for the next CRM calls and a latency for every one.
 * /t/<tenant>/…  all of the above under a prefix, with their own pets, request log, faults and
 *                latency: each test file gets a tenant of its own, so files can run in parallel
 *                against one server.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export type PetstoreOptions = {
	port?: number;
	host?: string;
	apiKeys?: string[];
};
export type Petstore = { url: string; port: number; close(): Promise<void> };

type Pet = {
	id: number;
	category?: { id?: number; name?: string };
	name: string;
	photoUrls: string[];
	tags?: { id?: number; name?: string }[];
	status: string;
};

export type RequestRecord = {
	seq: number;
	method: string;
	/** The Host header: which name of this server the client used. */
	host: string | null;
	path: string;
	startedAt: string;
	endedAt: string | null;
	body: unknown;
	idempotencyKey: string | null;
	responseStatus: number | null;
	/** POST /v2/pet only: the idempotency keys of the other pet POSTs under way when this one arrived. */
	concurrentWith?: (string | null)[];
	/** CRM and token calls: the Authorization header as sent (a local test double may show it). */
	authorization?: string | null;
};

type CrmFault = { status?: number; retryAfter?: string; nonJson?: boolean; bodyBytes?: number };

// One queued fault, consumed by the next POST /v2/pet. Waits delayMs + hangMs (abort-safe),
// then answers `status` (default 503, with `retry-after` if given) instead of handling the
// call, except a bare {delayMs}, which then handles it normally (makes overlaps observable).
// afterCreate stores the pet before failing, like a response lost on its way back.
// bodyBytes handles the call normally but pads the answer to about that many bytes (an
// oversized answer: Hookflow must record its head and move on). redirect answers 302 to
// /v2/leaked/pet on another origin instead of handling the call.
// forName: the fault waits for the first POST whose body's name is this (other POSTs pass it by).
type Fault = {
	forName?: string;
	redirect?: boolean;
	bodyBytes?: number;
	status?: number;
	retryAfter?: string;
	hangMs?: number;
	delayMs?: number;
	afterCreate?: boolean;
};

/** One tenant's world: its pets, request log, queued faults and latency. */
type Tenant = {
	pets: Map<number, Pet>;
	petsByIdempotencyKey: Map<string, number>;
	requests: RequestRecord[];
	faults: Fault[];
	nextPetId: number;
	nextSeq: number;
	petPostsInFlight: number;
	maxConcurrent: number;
	/** Every pet POST waits this long before it is handled (POST /__control/latency): a slow destination. */
	latencyMs: number;
	postsUnderWay: Set<RequestRecord>;
	crm: { faults: CrmFault[]; latencyMs: number; tokenLifetimeSeconds: number; tokens: Set<string>; nextToken: number; nextNote: number };
};

const newTenant = (): Tenant => ({
	pets: new Map(),
	petsByIdempotencyKey: new Map(),
	requests: [],
	faults: [],
	nextPetId: 1,
	nextSeq: 1,
	petPostsInFlight: 0,
	maxConcurrent: 0,
	latencyMs: 0,
	postsUnderWay: new Set(),
	crm: { faults: [], latencyMs: 0, tokenLifetimeSeconds: 3600, tokens: new Set(), nextToken: 1, nextNote: 1 },
});

/** `/t/<tenant>/<rest>`: a tenant name of letters, digits, `-` and `_`. */
const TENANT_PREFIX = /^\/t\/([\w-]{1,64})(\/.*)?$/;

const STATUSES = ["available", "pending", "sold"];
const FAULT_KEYS = ["forName", "status", "retryAfter", "hangMs", "delayMs", "afterCreate", "bodyBytes", "redirect"];
const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
	status: number;
	constructor(status: number, message: string) {
		super(message);
		this.status = status;
	}
}

export async function startPetstore(options: PetstoreOptions = {}): Promise<Petstore> {
	const host = options.host ?? "127.0.0.1";
	const apiKeys = new Set(options.apiKeys ?? ["secret"]);
	// Aborted on close() so hanging fault responses stop waiting.
	const lifetime = new AbortController();

	// The unprefixed API is the tenant "".
	const tenants = new Map<string, Tenant>();
	const tenantOf = (name: string) => {
		const tenant = tenants.get(name) ?? newTenant();
		tenants.set(name, tenant);
		return tenant;
	};

	const server = createServer((req, res) => {
		handle(req, res).catch((error: unknown) => {
			// A client that hung up mid-body is not an error worth reporting.
			if (res.destroyed) return;
			if (error instanceof HttpError) {
				return sendError(res, error.status, error.message);
			}
			console.error("petstore: unexpected error", error);
			sendError(res, 500, "Internal server error");
		});
	});

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? "/", "http://petstore.local");
		const method = req.method ?? "GET";
		const prefixed = TENANT_PREFIX.exec(url.pathname);
		const tenant = tenantOf(prefixed?.[1] ?? "");
		// Where this tenant's API lives on this server: "" or /t/<tenant>.
		const root = prefixed ? `/t/${prefixed[1]}` : "";
		if (prefixed) url.pathname = prefixed[2] ?? "/";
		if (url.pathname.startsWith("/__control/")) {
			return control(tenant, req, res, url, method);
		}
		if (url.pathname.startsWith("/elsewhere/")) {
			return redirectElsewhere(res, root, url.pathname.slice("/elsewhere".length) + url.search);
		}
		if (url.pathname === "/oauth/token" || url.pathname === "/crm" || url.pathname.startsWith("/crm/")) {
			return crm(tenant, req, res, url, method);
		}
		if (url.pathname !== "/v2" && !url.pathname.startsWith("/v2/")) {
			return sendError(res, 404, `No route for ${method} ${url.pathname}`);
		}

		const isPetPost = method === "POST" && url.pathname === "/v2/pet";
		const record = recordRequest(tenant, req, url, method);
		if (isPetPost) {
			tenant.petPostsInFlight++;
			tenant.maxConcurrent = Math.max(tenant.maxConcurrent, tenant.petPostsInFlight);
			record.concurrentWith = [...tenant.postsUnderWay].map((other) => other.idempotencyKey);
			tenant.postsUnderWay.add(record);
		}
		// "close" fires on completion and on client disconnect alike; only the former has a status.
		const requestGone = new AbortController();
		res.on("close", () => {
			record.endedAt = new Date().toISOString();
			if (res.writableFinished) record.responseStatus = res.statusCode;
			if (isPetPost) {
				tenant.petPostsInFlight--;
				tenant.postsUnderWay.delete(record);
			}
			requestGone.abort();
		});

		const rawBody = await readBody(req);
		record.body = parseLoose(rawBody);

		if (isPetPost) {
			const name = (record.body as { name?: unknown } | null)?.name;
			const index = tenant.faults.findIndex((f) => f.forName === undefined || f.forName === name);
			const fault = index === -1 ? undefined : tenant.faults.splice(index, 1)[0];
			if (tenant.latencyMs > 0 && !(await wait(tenant.latencyMs, AbortSignal.any([requestGone.signal, lifetime.signal])))) return;
			if (fault) {
				const signal = AbortSignal.any([requestGone.signal, lifetime.signal]);
				const waitMs = (fault.delayMs ?? 0) + (fault.hangMs ?? 0);
				if (waitMs > 0 && !(await wait(waitMs, signal))) return;
				if (fault.redirect) return redirectElsewhere(res, root, "/pet");
				if (fault.bodyBytes !== undefined) {
					if (!authorized(req)) return sendError(res, 401, "Invalid API key");
					const pet = createPet(tenant, req, rawBody);
					return sendJson(res, 200, { ...pet, padding: "x".repeat(fault.bodyBytes) });
				}
				const delayOnly = fault.delayMs !== undefined && Object.keys(fault).every((key) => key === "delayMs" || key === "forName");
				if (!delayOnly) {
					if (fault.afterCreate && authorized(req)) createPet(tenant, req, rawBody);
					if (fault.retryAfter !== undefined) {
						res.setHeader("retry-after", fault.retryAfter);
					}
					return sendError(res, fault.status ?? 503, "Injected fault");
				}
			}
		}

		if (!authorized(req)) return sendError(res, 401, "Invalid API key");
		return route(tenant, req, res, url, method, rawBody);
	}

	function route(tenant: Tenant, req: IncomingMessage, res: ServerResponse, url: URL, method: string, rawBody: string) {
		const { pets } = tenant;
		const path = url.pathname;
		if (path === "/v2/user/me") {
			if (method !== "GET") return sendError(res, 405, "Method not allowed");
			// Proves the key works without ever echoing it.
			return sendJson(res, 200, { username: "petstore-user", apiKey: "valid" });
		}
		if (path === "/v2/pet") {
			if (method === "PUT") return sendJson(res, 200, updatePet(tenant, req, rawBody));
			if (method !== "POST") return sendError(res, 405, "Method not allowed");
			return sendJson(res, 200, createPet(tenant, req, rawBody));
		}
		if (path === "/v2/pet/findByStatus") {
			if (method !== "GET") return sendError(res, 405, "Method not allowed");
			const wanted = url.searchParams.getAll("status").flatMap((value) => value.split(","));
			if (wanted.length === 0 || wanted.some((status) => !STATUSES.includes(status))) {
				return sendError(res, 400, "Invalid status value");
			}
			return sendJson(
				res,
				200,
				[...pets.values()].filter((pet) => wanted.includes(pet.status)),
			);
		}
		const petId = /^\/v2\/pet\/([^/]+)$/.exec(path)?.[1];
		if (petId !== undefined) {
			if (method !== "GET" && method !== "DELETE") return sendError(res, 405, "Method not allowed");
			if (!/^\d+$/.test(petId)) {
				return sendError(res, 400, "Invalid ID supplied");
			}
			const pet = pets.get(Number(petId));
			if (!pet) return sendError(res, 404, "Pet not found");
			if (method === "DELETE") {
				pets.delete(pet.id);
				return sendJson(res, 200, { code: 200, type: "unknown", message: String(pet.id) });
			}
			return sendJson(res, 200, pet);
		}
		return sendError(res, 404, `No route for ${method} ${path}`);
	}

	function createPet(tenant: Tenant, req: IncomingMessage, rawBody: string): Pet {
		const key = header(req, "idempotency-key");
		const knownId = key === null ? undefined : tenant.petsByIdempotencyKey.get(key);
		const known = knownId === undefined ? undefined : tenant.pets.get(knownId);
		if (known) return known;

		if (!/^application\/(.+\+)?json\b/i.test(header(req, "content-type") ?? "")) {
			throw new HttpError(415, "Content-Type must be application/json");
		}
		const pet = validatePet(parseJson(rawBody));
		const stored: Pet = { ...pet, id: pet.id ?? tenant.nextPetId };
		tenant.nextPetId = Math.max(tenant.nextPetId, stored.id + 1);
		// Like the real Petstore, posting an existing id replaces that pet.
		tenant.pets.set(stored.id, stored);
		if (key !== null) tenant.petsByIdempotencyKey.set(key, stored.id);
		return stored;
	}

	/** Starts a request's entry in the tenant's log (its answer and end are filled in as they happen). */
	function recordRequest(tenant: Tenant, req: IncomingMessage, url: URL, method: string): RequestRecord {
		const record: RequestRecord = {
			seq: tenant.nextSeq++,
			method,
			host: header(req, "host"),
			path: url.pathname + url.search,
			startedAt: new Date().toISOString(),
			endedAt: null,
			body: null,
			idempotencyKey: header(req, "idempotency-key"),
			responseStatus: null,
		};
		tenant.requests.push(record);
		return record;
	}

	async function crm(tenant: Tenant, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
		const record = recordRequest(tenant, req, url, method);
		record.authorization = header(req, "authorization");
		res.on("close", () => {
			record.endedAt = new Date().toISOString();
			if (res.writableFinished) record.responseStatus = res.statusCode;
		});
		const rawBody = await readBody(req);
		record.body = parseLoose(rawBody);
		const state = tenant.crm;
		if (url.pathname === "/oauth/token") {
			const form = new URLSearchParams(rawBody);
			if (method !== "POST" || form.get("grant_type") !== "client_credentials")
				return sendJson(res, 400, { error: "unsupported_grant_type" });
			if (form.get("client_id") !== "crm-client" || form.get("client_secret") !== "crm-secret")
				return sendJson(res, 401, { error: "invalid_client" });
			const token = `crm-token-${state.nextToken++}`;
			state.tokens.add(token);
			return sendJson(res, 200, { access_token: token, token_type: "Bearer", expires_in: state.tokenLifetimeSeconds });
		}
		const auth = header(req, "authorization") ?? "";
		const bearer = auth.startsWith("Bearer ") ? auth.slice(7) : null;
		const authorized =
			bearer === "crm-token" ||
			(bearer !== null && state.tokens.has(bearer)) ||
			auth === `Basic ${Buffer.from("crm:crm-pass").toString("base64")}` ||
			header(req, "x-api-key") === "crm-key" ||
			url.searchParams.get("api_key") === "crm-key";
		if (!authorized) return sendJson(res, 401, { message: "Unauthorized" });
		if (state.latencyMs > 0 && !(await wait(state.latencyMs, lifetime.signal))) return;
		const fault = state.faults.shift();
		if (fault?.status) {
			if (fault.retryAfter !== undefined) res.setHeader("retry-after", fault.retryAfter);
			return sendJson(res, fault.status, { message: "Injected fault" });
		}
		if (fault?.nonJson) {
			res.writeHead(200, { "content-type": "application/json" });
			res.end("<html>not json</html>");
			return;
		}
		const path = url.pathname;
		const customer = /^\/crm\/customers\/([^/]+)$/.exec(path)?.[1];
		if (customer !== undefined && method === "GET") {
			const id = decodeURIComponent(customer);
			const padding = fault?.bodyBytes ? { padding: "x".repeat(fault.bodyBytes) } : {};
			return sendJson(res, 200, {
				id,
				email: `${id}@example.test`,
				name: `Customer ${id}`,
				tier: id.length % 2 === 0 ? "gold" : "basic",
				...padding,
			});
		}
		if (path === "/crm/notes" && method === "POST") return sendJson(res, 201, { id: state.nextNote++, note: record.body });
		if (path === "/crm/echo") {
			const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== "authorization"));
			return sendJson(res, 200, { method, path, query: Object.fromEntries(url.searchParams), headers, body: record.body });
		}
		return sendError(res, 404, `No route for ${method} ${path}`);
	}

	/** PUT /pet: replaces an existing pet (404 when there is none with that id). */
	function updatePet(tenant: Tenant, req: IncomingMessage, rawBody: string): Pet {
		if (!/^application\/(.+\+)?json\b/i.test(header(req, "content-type") ?? "")) {
			throw new HttpError(415, "Content-Type must be application/json");
		}
		const pet = validatePet(parseJson(rawBody));
		if (pet.id === undefined) throw new HttpError(400, "Invalid ID supplied");
		if (!tenant.pets.has(pet.id)) throw new HttpError(404, "Pet not found");
		const stored: Pet = { ...pet, id: pet.id };
		tenant.pets.set(stored.id, stored);
		return stored;
	}

	function control(tenant: Tenant, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> | void {
		const call = `${method} ${url.pathname}`;
		if (call === "GET /__control/requests") {
			return sendJson(res, 200, { requests: tenant.requests, maxConcurrent: tenant.maxConcurrent });
		}
		if (call === "GET /__control/pets") {
			return sendJson(res, 200, [...tenant.pets.values()]);
		}
		if (call === "POST /__control/reset") {
			// Calls still hanging from before the reset are genuinely in flight; sequence numbers go on.
			const { nextSeq, petPostsInFlight, postsUnderWay } = tenant;
			Object.assign(tenant, newTenant(), { nextSeq, petPostsInFlight, postsUnderWay, maxConcurrent: petPostsInFlight });
			return sendJson(res, 200, { ok: true });
		}
		if (call === "POST /__control/crm") {
			return readBody(req).then((raw) => {
				const body = parseJson(raw) as { faults?: CrmFault[]; latencyMs?: number; tokenLifetimeSeconds?: number; revokeTokens?: boolean };
				if (Array.isArray(body.faults)) tenant.crm.faults.push(...body.faults);
				if (typeof body.latencyMs === "number") tenant.crm.latencyMs = body.latencyMs;
				if (typeof body.tokenLifetimeSeconds === "number") tenant.crm.tokenLifetimeSeconds = body.tokenLifetimeSeconds;
				if (body.revokeTokens) tenant.crm.tokens.clear();
				sendJson(res, 200, { faults: tenant.crm.faults.length, latencyMs: tenant.crm.latencyMs });
			});
		}
		if (call === "POST /__control/latency") {
			return readBody(req).then((raw) => {
				const body = parseJson(raw) as { ms?: unknown };
				if (!Number.isSafeInteger(body?.ms) || (body.ms as number) < 0) throw new HttpError(400, "Expected {ms: <whole milliseconds ≥ 0>}");
				tenant.latencyMs = body.ms as number;
				sendJson(res, 200, { latencyMs: tenant.latencyMs });
			});
		}
		if (call === "POST /__control/faults") {
			return readBody(req).then((raw) => {
				const body = parseJson(raw) as { responses?: unknown };
				if (!Array.isArray(body?.responses) || !body.responses.every(isFault)) {
					throw new HttpError(
						400,
						"Expected {responses:[{forName?, status?, retryAfter?, hangMs?, delayMs?, afterCreate?, bodyBytes?, redirect?}]}",
					);
				}
				tenant.faults.push(...body.responses);
				sendJson(res, 200, { queued: tenant.faults.length });
			});
		}
		return sendError(res, 404, `No route for ${call}`);
	}

	function redirectElsewhere(res: ServerResponse, root: string, path: string): void {
		const port = (server.address() as { port: number }).port;
		res.writeHead(302, { location: `http://localhost:${port}${root}/v2/leaked${path}`, "content-length": 0 });
		res.end();
	}

	function authorized(req: IncomingMessage): boolean {
		const key = header(req, "api-key");
		return key !== null && apiKeys.has(key);
	}

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, host, () => {
			server.off("error", reject);
			resolve();
		});
	});
	const address = server.address();
	if (address === null || typeof address === "string") {
		throw new Error("petstore: no TCP address");
	}
	const urlHost = host.includes(":") ? `[${host}]` : host;

	return {
		url: `http://${urlHost}:${address.port}/v2`,
		port: address.port,
		close() {
			lifetime.abort();
			return new Promise<void>((resolve, reject) => {
				server.close((error) => (error ? reject(error) : resolve()));
				// close() alone waits for keep-alive and hanging sockets; tests should not.
				server.closeAllConnections();
			});
		},
	};
}

function validatePet(body: unknown): Omit<Pet, "id"> & { id?: number } {
	if (typeof body !== "object" || body === null || Array.isArray(body)) {
		throw new HttpError(400, "Request body must be a JSON object");
	}
	const input = body as Record<string, unknown>;
	if (typeof input.name !== "string" || input.name.trim() === "") {
		throw new HttpError(400, "Name is required");
	}
	if (input.status === undefined || input.status === null || input.status === "") {
		throw new HttpError(400, "Status is required");
	}
	if (typeof input.status !== "string" || !STATUSES.includes(input.status)) {
		throw new HttpError(400, "Provided status is invalid.");
	}
	if (input.id !== undefined && !(Number.isSafeInteger(input.id) && (input.id as number) >= 0)) {
		throw new HttpError(400, "Invalid ID supplied");
	}
	if (input.category !== undefined && !isNamedRef(input.category)) {
		throw new HttpError(400, "category must be an object {id?, name?}");
	}
	if (input.tags !== undefined && !(Array.isArray(input.tags) && input.tags.every(isNamedRef))) {
		throw new HttpError(400, "tags must be an array of {id?, name?}");
	}
	const photoUrls = input.photoUrls ?? [];
	if (!Array.isArray(photoUrls) || !photoUrls.every((value) => typeof value === "string")) {
		throw new HttpError(400, "photoUrls must be an array of strings");
	}
	return {
		id: input.id as number | undefined,
		...(input.category === undefined ? {} : { category: input.category as Pet["category"] }),
		name: input.name,
		photoUrls,
		...(input.tags === undefined ? {} : { tags: input.tags as Pet["tags"] }),
		status: input.status,
	};
}

function isNamedRef(value: unknown): boolean {
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		return false;
	}
	const ref = value as Record<string, unknown>;
	return (ref.id === undefined || Number.isSafeInteger(ref.id)) && (ref.name === undefined || typeof ref.name === "string");
}

function isFault(value: unknown): value is Fault {
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		return false;
	}
	const fault = value as Record<string, unknown>;
	// Unknown keys are rejected so a typo cannot silently turn into a plain 503.
	if (!Object.keys(fault).every((key) => FAULT_KEYS.includes(key))) return false;
	const optional = (key: string, check: (v: unknown) => boolean) => fault[key] === undefined || check(fault[key]);
	const ms = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
	return (
		optional("forName", (v) => typeof v === "string") &&
		optional("status", (v) => Number.isInteger(v) && (v as number) >= 200 && (v as number) <= 599) &&
		optional("retryAfter", (v) => typeof v === "string") &&
		optional("hangMs", ms) &&
		optional("delayMs", ms) &&
		optional("afterCreate", (v) => typeof v === "boolean") &&
		optional("bodyBytes", ms) &&
		optional("redirect", (v) => typeof v === "boolean")
	);
}

// Resolves false when the request or the server went away first.
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
	try {
		await sleep(ms, undefined, { signal });
		return true;
	} catch {
		return false;
	}
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) {
			throw new HttpError(413, "Request body too large");
		}
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): unknown {
	try {
		return JSON.parse(raw);
	} catch {
		throw new HttpError(400, "Invalid JSON body");
	}
}

// For the request log: JSON when it parses, the raw text otherwise, null when empty.
function parseLoose(raw: string): unknown {
	if (raw === "") return null;
	try {
		return JSON.parse(raw);
	} catch {
		return raw;
	}
}

function header(req: IncomingMessage, name: string): string | null {
	const value = req.headers[name];
	return typeof value === "string" ? value : null;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	if (res.headersSent || res.destroyed) return;
	const text = JSON.stringify(body);
	res.writeHead(status, {
		"content-type": "application/json",
		"content-length": Buffer.byteLength(text),
	});
	res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
	sendJson(res, status, { code: status, type: "error", message });
}

if (import.meta.main) {
	const petstore = await startPetstore({
		port: Number(process.env.PETSTORE_PORT ?? 0),
	});
	console.log(`petstore listening on ${petstore.url}`);
	const stop = () => petstore.close().then(() => process.exit(0));
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
}
