import { afterEach, describe, expect, it, vi } from "vitest";
import { callPetstore, describeRedirect } from "../../src/components/petstore/client";
import { petstoreBaseUrlSchema } from "../../src/components/petstore/index";
import { verifyPetstoreKey } from "../../src/components/petstore/verify-key";
import { MAX_RECORDED_BODY_BYTES, readRecordedBody, recordedValue } from "../../src/components/recorded-body";
import { openSampleToken, signSampleToken } from "../../src/crypto/sample-token";
import { stagingKey } from "../../src/flows/execution-ids";
import { buildMessage } from "../../src/hook/message";
import { contentHash, executionIdFor, SENDER_DELIVERY_ID_HEADERS } from "../../src/hook/request-id";

/** The pure decisions behind issue 10's hardening, one attack each. */

afterEach(() => {
	vi.restoreAllMocks();
});

const utf8 = new TextEncoder();
const jsonBytes = (value: unknown) => utf8.encode(JSON.stringify(value)).length;
const KEYS = { CREDENTIALS_KEY: "dGVzdC1rZXktMzItYnl0ZXMtZm9yLWhvb2tmbG93ISE=" };

describe("recorded bodies", () => {
	it("keeps a body that fits as is", () => {
		expect(recordedValue({ name: "Gromit" })).toEqual({ body: { name: "Gromit" } });
	});

	it("attack: a 2 MB echo is recorded as its head with the real size, within the cap", () => {
		const value = { name: "e".repeat(2_000_000) };
		const recorded = recordedValue(value);
		expect(recorded).toMatchObject({ truncated: true, bodyBytes: jsonBytes(value) });
		expect(jsonBytes(recorded.body)).toBeLessThanOrEqual(MAX_RECORDED_BODY_BYTES);
		expect(recorded.body).toMatch(/^\{"name":"eee/);
	});

	it("attack: escapes cannot push a head past the cap (control characters are 6 bytes in JSON)", () => {
		const recorded = recordedValue("\u0001".repeat(100_000));
		expect(jsonBytes(recorded.body)).toBeLessThanOrEqual(MAX_RECORDED_BODY_BYTES);
		expect((recorded.body as string).length).toBeGreaterThan(MAX_RECORDED_BODY_BYTES / 12);
	});

	it("attack: a 30 MB streamed answer keeps its head and counts every byte, whole characters only", async () => {
		const chunk = utf8.encode("é".repeat(500_000));
		let sent = 0;
		const stream = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent >= 30) return controller.close();
				sent++;
				controller.enqueue(chunk);
			},
		});
		const recorded = await readRecordedBody(new Response(stream));
		expect(recorded).toMatchObject({ truncated: true, bodyBytes: 30 * chunk.length });
		expect(recorded.body).toMatch(/^é+$/);
		expect(jsonBytes(recorded.body)).toBeLessThanOrEqual(MAX_RECORDED_BODY_BYTES);
	});

	it("parses a small JSON answer and keeps small text", async () => {
		expect(await readRecordedBody(Response.json({ id: 1 }))).toEqual({ body: { id: 1 } });
		expect(await readRecordedBody(new Response("plain"))).toEqual({ body: "plain" });
	});
});

describe("redirects are never followed with the key", () => {
	it("names the origin a redirect points to, resolved against the request", () => {
		const redirect = (status: number, location?: string) => new Response(null, { status, headers: location ? { location } : {} });
		expect(describeRedirect(redirect(302, "https://attacker.example/steal?k=1"), "https://petstore.example/v2/pet")).toContain(
			"to https://attacker.example;",
		);
		expect(describeRedirect(redirect(307, "/elsewhere"), "https://petstore.example/v2/pet")).toContain("to https://petstore.example;");
		expect(describeRedirect(redirect(301), "https://petstore.example/v2/pet")).toContain("an unnamed location");
		expect(describeRedirect(new Response("ok"), "https://petstore.example/v2/pet")).toBeNull();
	});

	it("attack: a 302 from POST /pet is a terminal outcome, fetched with redirect: manual", async () => {
		const spy = vi
			.spyOn(globalThis, "fetch")
			.mockImplementation(async () => new Response(null, { status: 302, headers: { location: "https://attacker.example/" } }));
		const request = { method: "POST", url: "https://petstore.example/v2/pet", headers: {}, body: { name: "x", status: "sold" } };
		const outcome = await callPetstore(request, "key");
		expect(spy.mock.calls[0]?.[1]?.redirect).toBe("manual");
		expect(outcome).toMatchObject({ kind: "terminal", error: expect.stringContaining("https://attacker.example") });
	});

	it("attack: key verification does not follow a redirect either", async () => {
		const spy = vi
			.spyOn(globalThis, "fetch")
			.mockImplementation(async () => new Response(null, { status: 301, headers: { location: "https://attacker.example/" } }));
		const verdict = await verifyPetstoreKey("https://petstore.example/v2", "key");
		expect(spy.mock.calls[0]?.[1]?.redirect).toBe("manual");
		expect(verdict).toEqual({ ok: false, reason: expect.stringContaining("https://attacker.example") });
	});
});

describe("the base URL schema", () => {
	it("attack: refuses a query, a fragment, user info and other schemes; accepts a plain http(s) URL", () => {
		for (const bad of [
			"https://petstore.example/internal/admin?x=",
			"https://petstore.example/v2?",
			"https://petstore.example/v2#frag",
			"https://user:pass@petstore.example/v2",
			"https://user@petstore.example/v2",
			"ftp://petstore.example/v2",
			"file:///etc/passwd",
		])
			expect(petstoreBaseUrlSchema.safeParse(bad).success, bad).toBe(false);
		for (const good of ["https://petstore.example/v2", "http://127.0.0.1:8787/v2/", "https://petstore.example"])
			expect(petstoreBaseUrlSchema.safeParse(good).success, good).toBe(true);
	});
});

describe("sample URL tokens", () => {
	it("opens what it signed for the same flow only", async () => {
		const signed = await signSampleToken("flow-a", "t".repeat(32), KEYS);
		expect(await openSampleToken("flow-a", signed, KEYS)).toBe("t".repeat(32));
		expect(await openSampleToken("flow-b", signed, KEYS)).toBeNull();
	});

	it("attack: made-up and forged tokens are refused without any object", async () => {
		const signed = await signSampleToken("flow-a", "t".repeat(32), KEYS);
		const forged = `${"u".repeat(32)}${signed.slice(32)}`;
		for (const token of ["", "not-the-token", "t".repeat(32), forged, `${signed}x`, signed.replace(".", "")])
			expect(await openSampleToken("flow-a", token, KEYS), token).toBeNull();
	});
});

describe("execution ids bound to content", () => {
	const content = (body: string, url = "https://hookflow.test/hook/f1") => ({
		method: "POST",
		url: new URL(url),
		rawBody: utf8.encode(body),
	});

	it("attack: the same sender id with another body is another execution; with the same body, the same one", async () => {
		for (const header of SENDER_DELIVERY_ID_HEADERS) {
			const headers = new Headers({ [header]: "evt_1" });
			const first = await executionIdFor("f1", headers, content('{"a":1}'));
			expect((await executionIdFor("f1", headers, content('{"a":1}'))).id, header).toBe(first.id);
			expect((await executionIdFor("f1", headers, content('{"a":2}'))).id, header).not.toBe(first.id);
			expect((await executionIdFor("f1", headers, content('{"a":1}', "https://hookflow.test/hook/f1?x=1"))).id).not.toBe(first.id);
			expect((await executionIdFor("f2", headers, content('{"a":1}'))).id, header).not.toBe(first.id);
			expect(first).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), fromSender: false });
		}
	});

	it("keeps a sender's x-request-id as the id and hands its content hash on", async () => {
		const given = "0123456789ABCDEF0123456789abcdef";
		const id = await executionIdFor("f1", new Headers({ "x-request-id": given }), content("{}"));
		expect(id).toEqual({ id: given.toLowerCase(), fromSender: true, contentHash: await contentHash(content("{}")) });
		expect(stagingKey(id)).toBe(`${id.id}.${id.contentHash}`);
		const random = await executionIdFor("f1", new Headers(), content("{}"));
		expect(random.fromSender).toBe(false);
		expect(stagingKey(random)).toBe(random.id);
	});
});

describe("client IP headers", () => {
	const parts = (keepClientIpHeaders?: boolean) => ({
		method: "POST",
		url: new URL("https://hookflow.test/hook/f1"),
		headers: new Headers({
			"content-type": "application/json",
			"cf-connecting-ip": "203.0.113.7",
			"x-forwarded-for": "203.0.113.7",
			"true-client-ip": "203.0.113.7",
			"x-real-ip": "203.0.113.7",
			forwarded: "for=203.0.113.7",
			"x-shop": "north",
		}),
		rawBody: utf8.encode("{}"),
		additionalPath: "",
		secretHeaders: [],
		keepClientIpHeaders,
	});
	const headersOf = (result: ReturnType<typeof buildMessage>) => (result.ok ? (result.message._headers as Record<string, string>) : {});

	it("drops them by default and keeps them when the flow asks", () => {
		expect(Object.keys(headersOf(buildMessage(parts()))).sort()).toEqual(["content-type", "x-shop"]);
		expect(headersOf(buildMessage(parts(true)))).toMatchObject({ "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "203.0.113.7" });
	});
});
