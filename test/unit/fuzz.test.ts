import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildMessage, type HookRequestParts } from "../../src/hook/message";
import { evaluateExpression, MappingError } from "../../src/mapping/evaluate";
import { api, call, createPetstoreCredential, createRunningFlow, eventually, ORIGIN, waitForExecution } from "../integration/helpers";

/**
 * Property-based and fuzz tests of everything that parses outside input: the hook's body parser,
 * the whole ingress, the admin API's validators and mapping evaluation. Every input gets its
 * documented 4xx or a clean failed execution; nothing throws out of a handler; nothing accepted is
 * lost; nothing reaches Object.prototype. Runs are few (fixed seed per run, reported on failure)
 * so the file stays well under a minute.
 */

const RUNS = 60;
const utf8 = new TextEncoder();

// Nothing any input does may add to Object.prototype, in this isolate (which the Worker shares).
afterEach(() => {
	expect(Object.getOwnPropertyNames(Object.prototype).filter((name) => !BUILTIN_PROTOTYPE_NAMES.has(name))).toEqual([]);
	expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
const BUILTIN_PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "__defineGetter__", "valueOf"];
const contentTypes = fc.constantFrom(
	undefined,
	"application/json",
	"application/json; charset=utf-8",
	"application/cloudevents+json",
	"APPLICATION/JSON",
	"application/x-www-form-urlencoded",
	"text/plain",
	"multipart/form-data; boundary=x",
	"application/xml",
	"",
);
const jsonText = fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v));
/** JSON objects whose keys include the names prototype pollution goes for. */
const prototypeKeyed = fc
	.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 3 })), {
		maxLength: 6,
	})
	.map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
const formText = fc
	.array(
		fc.tuple(
			fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, "a[b]", "__proto__[polluted]"), fc.string({ maxLength: 8 })),
			fc.string({ maxLength: 8 }),
		),
		{
			maxLength: 6,
		},
	)
	.map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"));
const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf]];
/** Valid JSON or form text with one invalid UTF-8 sequence spliced in. */
const invalidUtf8 = fc.tuple(fc.oneof(jsonText, formText), fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([text, bad, at]) => {
	const bytes = utf8.encode(text);
	const cut = at % (bytes.length + 1);
	return new Uint8Array([...bytes.slice(0, cut), ...bad, ...bytes.slice(cut)]);
});
const bodies = fc.oneof(
	fc.uint8Array({ maxLength: 300 }),
	jsonText.map((t) => utf8.encode(t)),
	prototypeKeyed.map((t) => utf8.encode(t)),
	formText.map((t) => utf8.encode(t)),
	invalidUtf8,
);
const nested = (depth: number, open = "[", close = "]") => `${open.repeat(depth)}${close.repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

function parts(method: string, contentType: string | undefined, rawBody: Uint8Array, search = ""): HookRequestParts {
	const headers = new Headers({ authorization: "Basic dTpw", cookie: "session=1", "x-signature": "abc" });
	if (contentType !== undefined) headers.set("content-type", contentType);
	return {
		method,
		url: new URL(`https://hookflow.test/hook/flow${search}`),
		headers,
		rawBody,
		additionalPath: "",
		secretHeaders: ["x-signature"],
	};
}

function expectPlainMessage(message: Record<string, unknown>): void {
	expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
	expect(typeof message._method).toBe("string");
	const headers = message._headers as Record<string, string>;
	for (const hidden of ["authorization", "cookie", "x-signature"]) expect(Object.hasOwn(headers, hidden)).toBe(false);
	expect(() => JSON.stringify(message)).not.toThrow();
}

describe("the hook's body parser (buildMessage)", () => {
	it("answers any bytes under any content type with a message or a 400/415, and never throws", () => {
		fc.assert(
			fc.property(fc.constantFrom("POST", "PUT", "GET"), contentTypes, bodies, (method, contentType, body) => {
				const result = buildMessage(parts(method, contentType, body));
				if (result.ok) expectPlainMessage(result.message);
				else {
					expect([400, 415]).toContain(result.status);
					expect(result.error.length).toBeGreaterThan(0);
				}
			}),
			{ numRuns: RUNS * 5 },
		);
	});

	it("puts a JSON object's fields at the top level and any other JSON value under _body", () => {
		fc.assert(
			fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
				const result = buildMessage(parts("POST", "application/json", utf8.encode(JSON.stringify(value))));
				expect(result.ok).toBe(true);
				if (!result.ok) return;
				expectPlainMessage(result.message);
				const roundTripped = JSON.parse(JSON.stringify(value)) as unknown;
				if (typeof roundTripped === "object" && roundTripped !== null && !Array.isArray(roundTripped)) {
					for (const [key, field] of Object.entries(roundTripped)) {
						if (!key.startsWith("_")) expect(result.message[key], key).toEqual(field);
					}
				} else expect(result.message._body).toEqual(roundTripped);
			}),
			{ numRuns: RUNS * 3 },
		);
	});

	it("keeps __proto__, constructor and prototype as plain fields of JSON, form and query input", () => {
		fc.assert(
			fc.property(prototypeKeyed, formText, (json, form) => {
				const fromJson = buildMessage(parts("POST", "application/json", utf8.encode(json)));
				expect(fromJson.ok).toBe(true);
				if (fromJson.ok) {
					expectPlainMessage(fromJson.message);
					for (const key of Object.keys(JSON.parse(json) as object))
						if (!key.startsWith("_")) expect(Object.hasOwn(fromJson.message, key)).toBe(true);
				}
				const fromForm = buildMessage(parts("POST", "application/x-www-form-urlencoded", utf8.encode(form)));
				const fromQuery = buildMessage(parts("GET", undefined, new Uint8Array(), `?${form}`));
				for (const result of [fromForm, fromQuery]) {
					expect(result.ok).toBe(true);
					if (!result.ok) continue;
					expectPlainMessage(result.message);
					expect(Object.getPrototypeOf(result.message._query)).toBe(Object.prototype);
					for (const key of new URLSearchParams(form).keys()) {
						if (!key.startsWith("_")) expect(typeof result.message[key] === "string" || Array.isArray(result.message[key]), key).toBe(true);
					}
				}
			}),
			{ numRuns: RUNS * 3 },
		);
	});

	it("refuses invalid UTF-8 in a JSON or form body with 400", () => {
		fc.assert(
			fc.property(fc.constantFrom("application/json", "application/x-www-form-urlencoded"), invalidUtf8, (contentType, body) => {
				expect(buildMessage(parts("POST", contentType, body))).toEqual({ ok: false, status: 400, error: "Body is not valid UTF-8" });
			}),
			{ numRuns: RUNS * 2 },
		);
	});

	it("reads deep nesting up to the limit and huge key counts", () => {
		for (const text of [nested(1000), nestedObject(1000), `${"[{},".repeat(1000)}1${"]".repeat(1000)}`]) {
			expect(buildMessage(parts("POST", "application/json", utf8.encode(text))).ok).toBe(true);
		}
		const keys = Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(",");
		const result = buildMessage(parts("POST", "application/json", utf8.encode(`{${keys}}`)));
		expect(result.ok && result.message.k99999).toBe(99_999);
	});

	// JSON deeper than about 4000 levels parses but cannot be passed to the flow object (RPC
	// serialization overflows the stack): accepting it would lose it, so the parser refuses it.
	it("refuses JSON nested deeper than the runtime can hand to the flow object with 400", () => {
		const result = buildMessage(parts("POST", "application/json", utf8.encode(nested(5000))));
		// Not toMatchObject: formatting the deep message for a diff would overflow the stack itself.
		expect(result.ok ? 200 : result.status).toBe(400);
	});
});

describe("the ingress (exports.default.fetch)", () => {
	let flowId: string;
	beforeAll(async () => {
		flowId = (await createRunningFlow({ type: "none" })).flowId;
	});

	const HOOK_HEADERS = new Set([
		"content-type",
		"content-length",
		"x-request-id",
		"retry-after",
		"www-authenticate",
		"allow",
		"x-content-type-options",
	]);
	const STATUSES = [200, 400, 405, 413, 415];

	async function send(method: string, init: { headers?: Record<string, string>; body?: Uint8Array; path?: string } = {}) {
		const request = new Request(`${ORIGIN}/hook/${flowId}${init.path ?? ""}`, {
			method,
			headers: init.headers,
			body: method === "GET" || method === "HEAD" ? undefined : init.body,
		});
		const response = await exports.default.fetch(request);
		for (const [name] of response.headers) expect(HOOK_HEADERS, name).toContain(name);
		const text = await response.text();
		if (method === "HEAD") {
			expect(text).toBe("");
			return { status: response.status, body: null };
		}
		const body = JSON.parse(text) as { requestId?: string; message?: string; error?: string };
		if (response.status === 200) {
			expect(body).toEqual({ requestId: expect.stringMatching(/^[0-9a-f]{32}$/), message: "thank you" });
			expect(response.headers.get("x-request-id")).toBe(body.requestId);
		} else {
			expect(Object.keys(body)).toEqual(["error"]);
			expect(typeof body.error).toBe("string");
		}
		return { status: response.status, body };
	}

	const headerNames = fc.oneof(
		fc.constantFrom("x-request-id", "idempotency-key", "webhook-id", "x-forwarded-for", "accept", "x-custom"),
		fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
	);
	// Header values cannot carry CR or LF at all (Headers refuses them), so injection is tried with everything else.
	const headerValues = fc.oneof(
		fc.string({ maxLength: 40 }),
		fc.stringMatching(/^[0-9a-f]{32}$/),
		fc.constantFrom("%0d%0aSet-Cookie: a=b", '"; x=1'),
	);

	it("answers any method, headers, content type and body with a documented status and shape", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom("GET", "HEAD", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
				contentTypes,
				bodies,
				fc.dictionary(headerNames, headerValues, { maxKeys: 4 }),
				fc.oneof(fc.constant(""), fc.webPath(), fc.constant("/%0d%0aSet-Cookie:%20a=b")),
				async (method, contentType, body, headers, path) => {
					const all = contentType === undefined ? headers : { ...headers, "content-type": contentType };
					const { status } = await send(method, { headers: all, body, path });
					expect(STATUSES, `${method} ${contentType} → ${status}`).toContain(status);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("keeps an unknown flow id with injected characters inside a JSON 404", async () => {
		for (const id of ["%0d%0aSet-Cookie:%20a=b", "%22%7D%2C%22x%22%3A%22", "..%2F..%2Fapi%2Fflows", "%E2%80%AE"]) {
			const response = await exports.default.fetch(new Request(`${ORIGIN}/hook/${id}`, { method: "POST" }));
			expect(response.status).toBe(404);
			expect(response.headers.get("set-cookie")).toBeNull();
			expect(Object.keys((await response.json()) as object)).toEqual(["error"]);
		}
	});

	it("accepts deep nesting, huge key counts and prototype keys, and each becomes a failed execution", async () => {
		const json = { "content-type": "application/json" };
		const keys = Array.from({ length: 60_000 }, (_, i) => `"k${i}":${i}`).join(",");
		const requestIds: string[] = [];
		for (const body of [
			nested(1000),
			nestedObject(1000),
			`{${keys}}`,
			'{"__proto__":{"petname":"Polluted","petstatus":"sold"},"constructor":{"prototype":{"petname":"x"}}}',
		]) {
			const { status, body: answer } = await send("POST", { headers: json, body: utf8.encode(body) });
			expect(status).toBe(200);
			requestIds.push(answer?.requestId as string);
		}
		// None has a top-level petname (the one under "__proto__" is a plain field), so the mapping finds no name.
		for (const requestId of requestIds) {
			const execution = await waitForExecution(requestId, "failed", 30_000);
			expect(execution.error, requestId).toBe("Name is required");
		}
		expect(({} as Record<string, unknown>).petname).toBeUndefined();
	});

	// From about 10 000 levels the queue's own serialization would overflow: a documented 400 instead.
	it("refuses very deep JSON with 400 rather than failing with 500", async () => {
		const response = await exports.default.fetch(
			new Request(`${ORIGIN}/hook/${flowId}`, { method: "POST", headers: { "content-type": "application/json" }, body: nested(20_000) }),
		);
		expect(response.status).toBe(400);
	});

	it("loses nothing it accepted: every accepted request ends as an execution", async () => {
		const accepted = new Set<string>();
		await fc.assert(
			fc.asyncProperty(contentTypes, bodies, async (contentType, body) => {
				const { status, body: answer } = await send("POST", {
					headers: contentType === undefined ? {} : { "content-type": contentType },
					body,
				});
				if (status === 200) accepted.add(answer?.requestId as string);
			}),
			{ numRuns: RUNS },
		);
		expect(accepted.size).toBeGreaterThan(5);
		await eventually(
			"every accepted request to finish",
			async () => {
				for (const id of accepted) {
					const response = await call("GET", `/api/executions/${id}`);
					if (response.status !== 200) return false;
					const { execution } = (await response.json()) as { execution: { status: string; error: string | null } };
					if (execution.status !== "succeeded" && execution.status !== "failed") return false;
					accepted.delete(id);
				}
				return true;
			},
			30_000,
		);
	});
});

describe("mapping evaluation", () => {
	const LIMIT_MESSAGE = /./;
	const bounded = [
		"($f := function($x){ $f($x) }; $f(1))",
		"($f := function($n){ $n = 0 ? 'x' : $f($n - 1) & $f($n - 1) }; $f(40))",
		"[1..10000000]",
		"$map([1..1000000], function($v){ $v })",
		"($a := [1..10000]; $a.($a))",
		"$join($map([1..100000], function($v){ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }))",
		"$reduce([1..1000000], function($acc, $v){ $acc & 'x' }, '')",
	];

	it("stops looping and allocating expressions with a MappingError that names the limit", async () => {
		for (const source of bounded) {
			const error = await evaluateExpression(source, {}).catch((error: unknown) => error);
			expect(error, source).toBeInstanceOf(MappingError);
			expect(String(error), source).toMatch(LIMIT_MESSAGE);
		}
	});

	it("never reaches Object.prototype through transforms or lookups", async () => {
		// "__proto__" and the other names stay plain fields of the data: read, changed and merged as such.
		const input = () => JSON.parse('{"a":{"b":1},"__proto__":{"c":1}}');
		for (const [source, expected] of [
			['$ ~> |__proto__|{"polluted":"yes"}|', '{"a":{"b":1},"__proto__":{"c":1,"polluted":"yes"}}'],
			['$ ~> |constructor.prototype|{"polluted":"yes"}|', '{"a":{"b":1},"__proto__":{"c":1}}'],
			['$ ~> |$|{"__proto__":{"polluted":"yes"}}|', '{"a":{"b":1},"__proto__":{"polluted":"yes"}}'],
			['$merge([{}, {"__proto__": {"polluted": "yes"}}])', '{"__proto__":{"polluted":"yes"}}'],
		] as const) {
			const result = (await evaluateExpression(source, input())) as Record<string, unknown>;
			expect(JSON.stringify(result), source).toBe(expected);
			expect(Object.hasOwn(result, "__proto__"), source).toBe(true);
			expect(result.polluted, source).toBeUndefined();
		}
		expect(await evaluateExpression("__proto__.polluted", input())).toBeUndefined();
		expect(await evaluateExpression("__proto__.c", input())).toBe(1);
	});

	it("answers any expression text with a result or a MappingError", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.oneof(
					fc.string({ maxLength: 40 }),
					fc
						.array(fc.constantFrom("$", "[", "]", "(", ")", "..", "1", "$f", ":=", "function($x){", "}", ";", "&", ".", "*", "~>", "|"), {
							maxLength: 20,
						})
						.map((tokens) => tokens.join(" ")),
				),
				fc.jsonValue({ maxDepth: 3 }),
				async (source, input) => {
					await evaluateExpression(source, input).catch((error: unknown) => expect(error).toBeInstanceOf(MappingError));
				},
			),
			{ numRuns: RUNS * 3 },
		);
	});

	// The step budget cannot reach inside a regular expression, so mappings refuse regular expressions.
	it("refuses a regular expression that would backtrack catastrophically, before matching anything", async () => {
		await expect(evaluateExpression(`$match("${"a".repeat(22)}!", /(a+)+$/)`, {})).rejects.toThrow(
			new MappingError("Regular expressions are not supported in mappings: their matching time cannot be bounded"),
		);
	});

	// Sequences within the sequence limit can still nest into 10^10 items: an item budget stops them.
	it("bounds allocation: $count([1..100000].[1..100000]) ends with a MappingError, not an out-of-memory abort", async () => {
		await expect(evaluateExpression("$count([1..100000].[1..100000])", {})).rejects.toThrow(/items/);
	});

	it("turns a looping mapping in a running flow into a failed execution", async () => {
		const petstore = await createPetstoreCredential();
		const webhook = await api("POST", "/api/credentials", { component: "webhook", name: "fuzz", auth: { type: "none" } });
		const { flow } = await api("POST", "/api/flows", { name: "Looping mapping" });
		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: webhook.credential.id },
			steps: [{ component: "petstore", action: "createPet", credentialId: petstore, mapping: { name: bounded[0], status: "'sold'" } }],
		});
		await api("POST", `/api/flows/${flow.id}/publish`);
		await api("POST", `/api/flows/${flow.id}/start`);
		const response = await exports.default.fetch(
			new Request(`${ORIGIN}/hook/${flow.id}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
		);
		const { requestId } = (await response.json()) as { requestId: string };
		const execution = await eventually("the looping mapping's execution to fail", async () => {
			const { execution } = await api("GET", `/api/executions/${requestId}`).catch(() => ({ execution: null }));
			return execution?.status === "failed" && execution;
		});
		expect(execution.error).toMatch(/name/i);
	});
});

describe("the admin API's parsers", () => {
	let flowId: string;
	let credentialId: string;
	beforeAll(async () => {
		flowId = (await api("POST", "/api/flows", { name: "Fuzzed" })).flow.id;
		credentialId = (await api("POST", "/api/credentials", { component: "webhook", name: "Fuzzed", auth: { type: "none" } })).credential.id;
	});

	const routes = () => [
		["POST", "/api/credentials"],
		["PATCH", `/api/credentials/${credentialId}`],
		["POST", "/api/flows"],
		["PATCH", `/api/flows/${flowId}`],
		["PUT", `/api/flows/${flowId}/draft`],
		["POST", `/api/flows/${flowId}/steps/0/sample`],
		["POST", "/api/mappings/preview"],
		["POST", "/api/import"],
	];
	/** JSON that comes close to what the routes take, so the validators are reached past the first check. */
	const nearlyValid = fc.record(
		{
			component: fc.constantFrom("webhook", "petstore", "__proto__", 1),
			name: fc.oneof(fc.string({ maxLength: 10 }), fc.constant("")),
			auth: fc.record(
				{ type: fc.constantFrom("none", "basic", "apiKey", "hmac", "standardWebhooks", "constructor"), secret: fc.string() },
				{ requiredKeys: [] },
			),
			sample: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(JSON.parse(nestedObject(500)))),
			mapping: fc.dictionary(
				fc.constantFrom(...PROTOTYPE_KEYS, "name", "status", "tags"),
				fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })),
			),
			trigger: fc.jsonValue({ maxDepth: 2 }),
			steps: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
			version: fc.constantFrom(1, 2, "1"),
			flows: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
			credentials: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
		},
		{ requiredKeys: [] },
	);
	const apiBodies = fc.oneof(
		fc.uint8Array({ maxLength: 200 }),
		invalidUtf8,
		jsonText.map((t) => utf8.encode(t)),
		prototypeKeyed.map((t) => utf8.encode(t)),
		nearlyValid.map((v) => utf8.encode(JSON.stringify(v))),
	);

	it("answer any body with a JSON 2xx or 4xx, never a 500", async () => {
		await fc.assert(
			fc.asyncProperty(fc.constantFrom(...routes()), apiBodies, async ([method, path], body) => {
				const response = await exports.default.fetch(
					new Request(`${ORIGIN}${path}`, {
						method,
						headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
						body,
					}),
				);
				const text = await response.text();
				expect([200, 201, 400, 404, 409, 413, 415, 422], `${method} ${path} → ${response.status} ${text.slice(0, 300)}`).toContain(
					response.status,
				);
				expect(response.headers.get("cache-control")).toBe("no-store");
				const json = JSON.parse(text) as { error?: { message: unknown } };
				if (response.status >= 400) expect(typeof json.error?.message).toBe("string");
			}),
			{ numRuns: RUNS * 2 },
		);
	});
});
