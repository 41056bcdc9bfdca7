import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { memoryTokenCache, OAuth2TokenClient, usableUntil } from "../../src/components/http/oauth2";
import { interpretHttpAnswer, prepareHttpCall } from "../../src/components/http/request";

const tokenUrl = () => env.PETSTORE_BASE_URL.replace(/\/v2$/, "/oauth/token");
const details = () => ({ baseUrl: "https://crm.test", tokenUrl: tokenUrl(), clientId: "crm-client" });
const request = { method: "GET", url: "https://crm.test/c/1", headers: {}, body: undefined };

describe("the HTTP request step's decisions", () => {
	it("prepares method, URL, query, headers and a JSON body from the context, with the idempotency key", async () => {
		const prepared = await prepareHttpCall(
			{
				method: "post",
				url: "/notes/{{id}}",
				query: { source: "{{$steps.crm.body.tier}}" },
				headers: { "X-Trace": "t-{{$execution.id}}" },
				body: "{'text': note}",
			},
			{ message: { id: 7, note: "hi" }, variables: { steps: { crm: { body: { tier: "gold" } } }, execution: { id: "e1" } } },
			"https://crm.test/api",
			"e1.notes",
		);
		expect(prepared).toEqual({
			ok: true,
			request: {
				method: "POST",
				url: "https://crm.test/api/notes/7?source=gold",
				headers: { accept: "application/json", "x-trace": "t-e1", "content-type": "application/json", "idempotency-key": "e1.notes" },
				body: { text: "hi" },
			},
		});
	});

	it("refuses a computed URL outside the credential's base URL, naming the origin", async () => {
		const prepared = await prepareHttpCall(
			{ method: "GET", url: "{{next}}" },
			{ message: { next: "https://evil.test/x" }, variables: {} },
			"https://crm.test/api",
			"k",
		);
		expect(prepared).toEqual({
			ok: false,
			error: expect.stringMatching(
				/goes to https:\/\/evil.test, outside the credential's base URL https:\/\/crm.test\/api.*nothing was sent/,
			),
		});
	});

	it("classifies answers: 2xx with the parsed body, 429/5xx retryable, other 4xx and redirects terminal, JSON that is not JSON terminal", () => {
		const answer = (status: number, text: string, type = "application/json") => ({
			status,
			headers: { "content-type": type },
			text,
			redirectedTo: null,
			retryAfter: null,
		});
		expect(interpretHttpAnswer(request, answer(200, '{"a":1}'))).toMatchObject({
			kind: "succeeded",
			output: { status: 200, body: { a: 1 } },
		});
		expect(interpretHttpAnswer(request, answer(200, "plain", "text/plain"))).toMatchObject({
			kind: "succeeded",
			output: { body: "plain" },
		});
		expect(interpretHttpAnswer(request, answer(503, "{}"))).toMatchObject({ kind: "retryable" });
		expect(interpretHttpAnswer(request, answer(404, '{"message":"nope"}'))).toMatchObject({
			kind: "terminal",
			error: "https://crm.test answered 404: nope",
		});
		expect(interpretHttpAnswer(request, answer(302, ""))).toMatchObject({
			kind: "terminal",
			error: expect.stringMatching(/redirects are not followed/),
		});
		expect(interpretHttpAnswer(request, answer(200, "<html>"))).toMatchObject({
			kind: "terminal",
			error: expect.stringMatching(/says it is JSON .* but is not/),
		});
	});
});

describe("the OAuth2 client-credentials token client", () => {
	it("fetches once, reuses the token until shortly before expiry, and fetches anew on refresh", async () => {
		let now = 1_000_000;
		const cache = memoryTokenCache();
		const client = new OAuth2TokenClient(cache, () => now);
		const first = await client.token("c1", details(), { clientSecret: "crm-secret" });
		expect(first).toMatchObject({ ok: true, accessToken: expect.stringMatching(/^crm-token-/) });
		expect(await client.token("c1", details(), { clientSecret: "crm-secret" })).toEqual(first);
		now += 3600_000 - 30_000;
		const expired = await client.token("c1", details(), { clientSecret: "crm-secret" });
		expect(expired.ok && first.ok && expired.accessToken !== first.accessToken).toBe(true);
		const refreshed = await client.token("c1", details(), { clientSecret: "crm-secret" }, true);
		expect(refreshed.ok && expired.ok && refreshed.accessToken !== expired.accessToken).toBe(true);
		expect(usableUntil(3600, 0)).toBe(3600_000 - 60_000);
		expect(usableUntil(60, 0)).toBe(30_000);
	});

	it("says why a refused client cannot get a token, without quoting the secret", async () => {
		const result = await new OAuth2TokenClient(memoryTokenCache()).token("c2", details(), { clientSecret: "not-the-secret" });
		expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/answered 401 \(invalid_client\)/) });
		expect(JSON.stringify(result)).not.toContain("not-the-secret");
	});
});
