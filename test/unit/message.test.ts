import { describe, expect, it } from "vitest";
import type { Message } from "../../src/flows/message";
import { buildMessage, type HookRequestParts, type ParseResult } from "../../src/hook/message";

const FLOW_URL = "https://hookflow.example/hook/f_abc";

function parts(
	overrides: Partial<Omit<HookRequestParts, "url" | "headers" | "rawBody">> & {
		url?: string;
		headers?: Record<string, string>;
		body?: string | Uint8Array;
	},
): HookRequestParts {
	const { url = FLOW_URL, headers = {}, body = "", ...rest } = overrides;
	return {
		method: "POST",
		additionalPath: "",
		secretHeaders: [],
		...rest,
		url: new URL(url),
		headers: new Headers(headers),
		rawBody: typeof body === "string" ? new TextEncoder().encode(body) : body,
	};
}

function messageOf(result: ParseResult): Message {
	if (!result.ok) throw new Error(`expected a message, got ${result.status} ${result.error}`);
	return result.message;
}

const json = { "content-type": "application/json" };
const form = { "content-type": "application/x-www-form-urlencoded" };

describe("JSON bodies", () => {
	it("puts an object's fields at the top level, next to the request details", () => {
		const message = messageOf(
			buildMessage(
				parts({ url: `${FLOW_URL}?source=shop`, headers: { ...json, "x-event": "pet" }, body: '{"petname":"Gromit","petstatus":"Sold"}' }),
			),
		);
		expect(message).toEqual({
			petname: "Gromit",
			petstatus: "Sold",
			_method: "POST",
			_url: `${FLOW_URL}?source=shop`,
			_query: { source: "shop" },
			_headers: { "content-type": "application/json", "x-event": "pet" },
		});
		expect(message).not.toHaveProperty("_additionalUrlPath");
	});

	it("keeps nested values as they are", () => {
		const message = messageOf(
			buildMessage(parts({ headers: json, body: '{"pet":{"tags":["a","b"],"age":3.5,"vaccinated":true,"owner":null}}' })),
		);
		expect(message.pet).toEqual({ tags: ["a", "b"], age: 3.5, vaccinated: true, owner: null });
	});

	it.each([
		["[1,2,3]", [1, 2, 3]],
		['"just text"', "just text"],
		["42", 42],
		["true", true],
		["null", null],
	])("puts the non-object JSON %s under _body", (body, value) => {
		const message = messageOf(buildMessage(parts({ headers: json, body })));
		expect(message._body).toEqual(value);
		expect(message._method).toBe("POST");
	});

	it("accepts application/json with parameters and +json types, in any case", () => {
		for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/cloudevents+json"]) {
			expect(messageOf(buildMessage(parts({ headers: { "content-type": type }, body: '{"a":1}' }))).a, type).toBe(1);
		}
	});

	it("does not let body fields overwrite the request details", () => {
		const message = messageOf(
			buildMessage(parts({ headers: json, body: '{"_method":"DELETE","_url":"https://evil.example","_headers":{}}' })),
		);
		expect(message._method).toBe("POST");
		expect(message._url).toBe(FLOW_URL);
		expect(message._headers).toEqual({ "content-type": "application/json" });
	});

	it("rejects malformed JSON with 400, saying where it failed", () => {
		const result = buildMessage(parts({ headers: json, body: '{"petname": "Gromit",}' }));
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.status).toBe(400);
		expect(result.error).toMatch(/^Malformed JSON body: /);
		expect(result.error).toMatch(/position 21/);
	});

	it("rejects truncated JSON with 400", () => {
		expect(buildMessage(parts({ headers: json, body: '{"petname": "Gro' }))).toMatchObject({ ok: false, status: 400 });
	});

	it("rejects a body that is not valid UTF-8 with 400", () => {
		const body = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}
		expect(buildMessage(parts({ headers: json, body }))).toEqual({ ok: false, status: 400, error: "Body is not valid UTF-8" });
		expect(buildMessage(parts({ headers: form, body: new Uint8Array([0x61, 0x3d, 0xc3]) }))).toMatchObject({ ok: false, status: 400 });
	});

	it("keeps valid multi-byte UTF-8 and drops a leading BOM", () => {
		const bytes = new TextEncoder().encode('{"name":"Grömit 🐶"}');
		const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
		expect(messageOf(buildMessage(parts({ headers: json, body: withBom }))).name).toBe("Grömit 🐶");
	});

	it("keeps a __proto__ key as a plain key without touching prototypes", () => {
		const message = messageOf(
			buildMessage(parts({ headers: json, body: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}' })),
		);
		expect(Object.hasOwn(message, "__proto__")).toBe(true);
		expect(Object.getOwnPropertyDescriptor(message, "__proto__")?.value).toEqual({ polluted: "yes" });
		expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
		expect(message.polluted).toBeUndefined();
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});

describe("form bodies", () => {
	it("turns fields into an object, repeated names into an array", () => {
		const message = messageOf(buildMessage(parts({ headers: form, body: "petname=Gromit&tag=clay&tag=dog&note=two+words%21&empty=" })));
		expect(message).toMatchObject({ petname: "Gromit", tag: ["clay", "dog"], note: "two words!", empty: "" });
	});

	it("keeps __proto__ as a plain key", () => {
		const message = messageOf(buildMessage(parts({ headers: form, body: "__proto__=x&__proto__=y&constructor=z" })));
		expect(Object.getOwnPropertyDescriptor(message, "__proto__")?.value).toEqual(["x", "y"]);
		expect(Object.getOwnPropertyDescriptor(message, "constructor")?.value).toBe("z");
		expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
	});
});

describe("GET requests", () => {
	it("uses the query parameters as the body", () => {
		const message = messageOf(buildMessage(parts({ method: "GET", url: `${FLOW_URL}?petname=Gromit&tag=a&tag=b` })));
		expect(message).toEqual({
			petname: "Gromit",
			tag: ["a", "b"],
			_method: "GET",
			_url: `${FLOW_URL}?petname=Gromit&tag=a&tag=b`,
			_query: { petname: "Gromit", tag: ["a", "b"] },
			_headers: {},
		});
	});

	it("ignores a body and content-type on GET", () => {
		const message = messageOf(
			buildMessage(parts({ method: "GET", url: `${FLOW_URL}?a=1`, headers: { "content-type": "text/plain" }, body: "x" })),
		);
		expect(message.a).toBe("1");
	});
});

describe("content types", () => {
	it("rejects a body without content-type with 415", () => {
		const result = buildMessage(parts({ body: '{"a":1}' }));
		expect(result).toMatchObject({ ok: false, status: 415 });
		expect(!result.ok && result.error).toMatch(/^Missing content-type header/);
	});

	it.each(["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/jsonx"])("rejects %s with 415", (type) => {
		const result = buildMessage(parts({ headers: { "content-type": type }, body: '{"a":1}' }));
		expect(result).toMatchObject({ ok: false, status: 415 });
		expect(!result.ok && result.error).toContain(`Unsupported content-type ${type.split(";")[0]}`);
	});

	it("accepts an empty POST body with or without content-type", () => {
		expect(messageOf(buildMessage(parts({})))).toEqual({ _method: "POST", _url: FLOW_URL, _query: {}, _headers: {} });
		expect(messageOf(buildMessage(parts({ headers: json })))._method).toBe("POST");
	});
});

describe("request details", () => {
	it("passes on the extra path after the flow id", () => {
		const message = messageOf(buildMessage(parts({ url: `${FLOW_URL}/orders/new`, additionalPath: "/orders/new" })));
		expect(message._additionalUrlPath).toBe("/orders/new");
		expect(message._url).toBe(`${FLOW_URL}/orders/new`);
	});

	it("puts the query in _query for POST too, without mixing it into the body", () => {
		const message = messageOf(buildMessage(parts({ url: `${FLOW_URL}?a=1&a=2&b=`, headers: json, body: '{"c":3}' })));
		expect(message._query).toEqual({ a: ["1", "2"], b: "" });
		expect(message).not.toHaveProperty("a");
		expect(message.c).toBe(3);
	});

	it("lower-cases header names and never passes on authorization, cookie or the credential's secret headers", () => {
		const message = messageOf(
			buildMessage(
				parts({
					headers: {
						...json,
						Authorization: "Basic dXNlcjpwYXNz",
						"Proxy-Authorization": "Basic abc",
						Cookie: "session=1",
						"X-API-Key": "k-123",
						"Webhook-Signature": "v1,abc",
						"Webhook-Id": "msg_1",
						"User-Agent": "curl/8",
					},
					secretHeaders: ["x-api-key", "webhook-signature"],
					body: "{}",
				}),
			),
		);
		expect(message._headers).toEqual({ "content-type": "application/json", "webhook-id": "msg_1", "user-agent": "curl/8" });
		const text = JSON.stringify(message);
		for (const secret of ["dXNlcjpwYXNz", "session=1", "k-123", "v1,abc"]) expect(text).not.toContain(secret);
	});

	it("keeps the API-key header when the credential does not use it", () => {
		const message = messageOf(buildMessage(parts({ headers: { "x-api-key": "not-a-secret-here" } })));
		expect(message._headers).toEqual({ "x-api-key": "not-a-secret-here" });
	});
});
