import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createRunningFlow, hook } from "./helpers";

/**
 * A rotated credential keeps the previous secret only for its window (issue 21, promise 4): 24 h by
 * default or `previousValidForSeconds`, and not a moment after `previousSecretExpiresAt`, even in an
 * isolate that cached the flow's configuration just before. The clock is moved (only `Date`, which the
 * Worker reads in this isolate), not waited for.
 */

afterEach(() => {
	vi.useRealTimers();
});

const utf8 = new TextEncoder();
const BODY = JSON.stringify({ petname: "Rotated", petstatus: "sold" });

async function hmacHex(secret: string, body: string): Promise<string> {
	const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const sendSigned = async (flowId: string, secret: string) =>
	(await hook(flowId, { headers: { "content-type": "application/json", "x-hookflow-signature": await hmacHex(secret, BODY) }, body: BODY }))
		.status;
const sendBasic = async (flowId: string, password: string) =>
	(
		await hook(flowId, {
			headers: { "content-type": "application/json", authorization: `Basic ${btoa(`user:${password}`)}` },
			body: BODY,
		})
	).status;

/** Moves the clock of this isolate (the tests' and the Worker's `Date`) to `ms`. */
function setClock(ms: number): void {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(ms);
}

describe("the previous secret's window closes", () => {
	it("by default 24 h after the rotation: accepted a second before previousSecretExpiresAt, refused a second after", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "hmac", secret: "secret-old" });
		const rotatedAt = Date.now();
		const { credential } = await api("PATCH", `/api/credentials/${webhookCredentialId}`, { auth: { type: "hmac", secret: "secret-new" } });
		const expiresAt = Date.parse(credential.previousSecretExpiresAt);
		expect(Math.abs(expiresAt - rotatedAt - 24 * 3600_000)).toBeLessThan(60_000);

		setClock(expiresAt - 1000);
		expect(await sendSigned(flowId, "secret-old")).toBe(200);
		expect(await sendSigned(flowId, "secret-new")).toBe(200);

		// Two seconds later, well inside the 5 s the isolate trusts a cached configuration.
		setClock(expiresAt + 1000);
		expect(await sendSigned(flowId, "secret-old")).toBe(401);
		expect(await sendSigned(flowId, "secret-new")).toBe(200);
	});

	it("after previousValidForSeconds when given: 90 s", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "basic", username: "user", password: "pw-old" });
		const { credential } = await api("PATCH", `/api/credentials/${webhookCredentialId}`, {
			auth: { type: "basic", username: "user", password: "pw-new" },
			previousValidForSeconds: 90,
		});
		const expiresAt = Date.parse(credential.previousSecretExpiresAt);
		expect(Math.abs(expiresAt - Date.now() - 90_000)).toBeLessThan(5_000);

		setClock(expiresAt - 1000);
		expect(await sendBasic(flowId, "pw-old")).toBe(200);
		setClock(expiresAt + 1000);
		expect(await sendBasic(flowId, "pw-old")).toBe(401);
		expect(await sendBasic(flowId, "pw-new")).toBe(200);
		// And it stays closed.
		setClock(expiresAt + 48 * 3600_000);
		expect(await sendBasic(flowId, "pw-old")).toBe(401);
		expect(await sendBasic(flowId, "pw-new")).toBe(200);
	});
});
