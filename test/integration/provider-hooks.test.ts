import { describe, expect, it } from "vitest";
import {
	api,
	createRunningFlow,
	eventually,
	hook,
	ONE_SUCCEEDED,
	ORIGIN,
	petstoreRequests,
	resetPetstore,
	waitForExecution,
} from "./helpers";

/** Provider presets through the Worker's ingress: handshakes answered at the edge, a provider's retry run once. */

const encoder = new TextEncoder();

async function hmacHex(secret: string, data: string): Promise<string> {
	const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)))]
		.map((b) => b.toString(16).padStart(2, "0"))
		.join("");
}

const now = () => Math.floor(Date.now() / 1000);
const counters = async (flowId: string) => (await api("GET", `/api/flows/${flowId}`)).flow.counters;

describe("handshakes at the edge", () => {
	it("Slack url_verification is verified, echoed as text/plain, counted, and creates no execution", async () => {
		const { flowId } = await createRunningFlow({ type: "slack", signingSecret: "slack-signing-secret" });
		const body = JSON.stringify({
			token: "t",
			challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
			type: "url_verification",
		});
		const ts = String(now());
		const signed = (signature: string) =>
			hook(flowId, {
				body,
				headers: { "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": signature },
			});
		const forged = await signed(`v0=${"0".repeat(64)}`);
		expect(forged.status).toBe(401);
		expect(await forged.json()).toEqual({ error: expect.stringMatching(/^Signature mismatch in x-slack-signature/) });

		const response = await signed(`v0=${await hmacHex("slack-signing-secret", `v0:${ts}:${body}`)}`);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
		expect(await response.text()).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
		expect(response.headers.get("x-request-id")).toBeNull();
		const after = await eventually("one handshake and one failed authentication to be counted", async () => {
			const c = await counters(flowId);
			return c.handshakes === 1 && c.authFailures === 1 && c;
		});
		expect(after).toMatchObject({ received: 0, inFlight: 0, handshakes: 1, authFailures: 1 });
	});

	it("Zoom endpoint.url_validation is answered with plainToken and its HMAC-SHA256 hex", async () => {
		const { flowId } = await createRunningFlow({ type: "zoom", secretToken: "zoom-secret-token" });
		const body = JSON.stringify({
			payload: { plainToken: "qgg8vlvZRS6UYooatFL8Aw" },
			event_ts: Date.now(),
			event: "endpoint.url_validation",
		});
		const ts = String(now());
		const response = await hook(flowId, {
			body,
			headers: {
				"content-type": "application/json",
				"x-zm-request-timestamp": ts,
				"x-zm-signature": `v0=${await hmacHex("zoom-secret-token", `v0:${ts}:${body}`)}`,
			},
		});
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("application/json");
		expect(await response.json()).toEqual({
			plainToken: "qgg8vlvZRS6UYooatFL8Aw",
			encryptedToken: await hmacHex("zoom-secret-token", "qgg8vlvZRS6UYooatFL8Aw"),
		});
		expect(await eventually("the handshake to be counted", async () => (await counters(flowId)).handshakes === 1)).toBe(true);
		expect((await counters(flowId)).received).toBe(0);
	});

	it("attack: during a rotation, a Zoom validation signed with the old secret gets the old secret's HMAC, never the new one's", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "zoom", secretToken: "zoom-old-token" });
		await api("PATCH", `/api/credentials/${webhookCredentialId}`, { auth: { type: "zoom", secretToken: "zoom-new-token" } });
		const validate = async (secret: string, plainToken: string) => {
			const body = JSON.stringify({ payload: { plainToken }, event_ts: Date.now(), event: "endpoint.url_validation" });
			const ts = String(now());
			const response = await hook(flowId, {
				body,
				headers: {
					"content-type": "application/json",
					"x-zm-request-timestamp": ts,
					"x-zm-signature": `v0=${await hmacHex(secret, `v0:${ts}:${body}`)}`,
				},
			});
			expect(response.status).toBe(200);
			return ((await response.json()) as { encryptedToken: string }).encryptedToken;
		};
		// A holder of the old secret could otherwise ask for the new secret's HMAC of any text.
		expect(await validate("zoom-old-token", "any text")).toBe(await hmacHex("zoom-old-token", "any text"));
		expect(await validate("zoom-new-token", "any text")).toBe(await hmacHex("zoom-new-token", "any text"));
	});

	it("Meta's subscribe GET echoes hub.challenge for the right verify token and is a 401 otherwise", async () => {
		const { flowId } = await createRunningFlow({ type: "meta", appSecret: "meta-app-secret", verifyToken: "my-verify-token" });
		const subscribe = (token: string) =>
			hook(flowId, { method: "GET", path: `?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${token}` });
		const wrong = await subscribe("guess");
		expect(wrong.status).toBe(401);
		expect(await wrong.json()).toEqual({ error: expect.stringMatching(/^Wrong hub\.verify_token/) });
		const right = await subscribe("my-verify-token");
		expect(right.status).toBe(200);
		expect(await right.text()).toBe("1158201444");
		const after = await eventually("one handshake and one failed authentication to be counted", async () => {
			const c = await counters(flowId);
			return c.handshakes === 1 && c.authFailures === 1 && c;
		});
		expect(after.received).toBe(0);
	});
});

describe("provider delivery ids", () => {
	it("a Stripe event sent twice (re-signed, as Stripe retries) answers the first requestId and creates one pet", async () => {
		await resetPetstore();
		const secret = "whsec_integration";
		const { flowId } = await createRunningFlow({ type: "stripe", secret });
		const body = JSON.stringify({ id: "evt_retry_1", type: "customer.created", petname: "Gromit", petstatus: "sold" });
		const send = async (ts: number) =>
			hook(flowId, {
				body,
				headers: {
					"content-type": "application/json",
					"stripe-signature": `t=${ts},v1=${await hmacHex(secret, `${ts}.${body}`)}`,
				},
			});
		const first = await send(now());
		expect(first.status).toBe(200);
		const { requestId } = (await first.json()) as { requestId: string };
		await waitForExecution(requestId, "succeeded");
		const retry = await send(now() - 1);
		expect(retry.status).toBe(200);
		expect(((await retry.json()) as { requestId: string }).requestId).toBe(requestId);
		expect(await counters(flowId)).toEqual(ONE_SUCCEEDED);
		expect((await petstoreRequests()).requests.filter((r) => r.method === "POST")).toHaveLength(1);
	});
});

describe("Twilio bodies", () => {
	it("attack: a JSON body under the URL's signature alone (no bodySHA256) is refused; with bodySHA256 of that body it runs", async () => {
		const { flowId } = await createRunningFlow({ type: "twilio", authToken: "twilio-token" });
		const sign = async (url: string) => {
			const key = await crypto.subtle.importKey("raw", encoder.encode("twilio-token"), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
			return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(url)))));
		};
		const body = JSON.stringify({ petname: "Mallory", petstatus: "sold" });
		const plain = `${ORIGIN}/hook/${flowId}`;
		const forged = await hook(flowId, { body, headers: { "content-type": "application/json", "x-twilio-signature": await sign(plain) } });
		expect(forged.status).toBe(401);
		expect(await forged.json()).toEqual({
			error: expect.stringMatching(/^Unsigned body: Twilio signs a JSON \(non-form\) body only through bodySHA256/),
		});

		const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)))]
			.map((b) => b.toString(16).padStart(2, "0"))
			.join("");
		const path = `?bodySHA256=${digest}`;
		const signed = await hook(flowId, {
			path,
			body,
			headers: { "content-type": "application/json", "x-twilio-signature": await sign(plain + path) },
		});
		expect(signed.status).toBe(200);
		const other = await hook(flowId, {
			path,
			body: body.replace("Mallory", "Eve"),
			headers: { "content-type": "application/json", "x-twilio-signature": await sign(plain + path) },
		});
		expect(other.status).toBe(401);
	});
});
