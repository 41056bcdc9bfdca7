import { beforeEach, describe, expect, it } from "vitest";
import { api, createRunningFlow, eventually, hook, ORIGIN, petstoreRequests, resetPetstore, waitForExecution } from "./helpers";

/**
 * What a signature covers decides what the hook trusts (issue 19, defects 3 and 4): a scheme that
 * signs only a POST's body takes no GET, whose query would be the unsigned message; and a replay of
 * a signed request with a query or path appended is the same delivery, not a new execution.
 */

beforeEach(resetPetstore);

const utf8 = new TextEncoder();
const JSON_TYPE = { "content-type": "application/json" };
const now = () => Math.floor(Date.now() / 1000);

async function hmac(secret: string | Uint8Array, data: string, encoding: "hex" | "base64"): Promise<string> {
	const raw = typeof secret === "string" ? utf8.encode(secret) : secret;
	const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const bytes = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(data)));
	return encoding === "hex" ? [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") : btoa(String.fromCharCode(...bytes));
}

async function executionIds(flowId: string): Promise<string[]> {
	const { executions } = await api("GET", `/api/flows/${flowId}/executions?limit=100`);
	return executions.map((e: { id: string }) => e.id);
}

/** A body-signing preset: its auth, and the headers that sign `body` as the provider would. */
interface Preset {
	auth: Record<string, string>;
	title: string;
	sign(body: string, flowId: string): Promise<Record<string, string>>;
}

const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const swKey = Uint8Array.from(atob(SW_SECRET.slice("whsec_".length)), (c) => c.charCodeAt(0));

const presets: Record<string, Preset> = {
	github: {
		auth: { type: "github", secret: "gh-secret" },
		title: "GitHub",
		sign: async (body) => ({
			"x-hub-signature-256": `sha256=${await hmac("gh-secret", body, "hex")}`,
			"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		}),
	},
	shopify: {
		auth: { type: "shopify", secret: "shpss-secret" },
		title: "Shopify",
		sign: async (body) => ({ "x-shopify-hmac-sha256": await hmac("shpss-secret", body, "base64") }),
	},
	meta: {
		auth: { type: "meta", appSecret: "meta-secret", verifyToken: "verify" },
		title: "Meta",
		sign: async (body) => ({ "x-hub-signature-256": `sha256=${await hmac("meta-secret", body, "hex")}` }),
	},
	hmac: {
		auth: { type: "hmac", secret: "generic-secret" },
		title: "The HMAC",
		sign: async (body) => ({ "x-hookflow-signature": await hmac("generic-secret", body, "hex") }),
	},
	stripe: {
		auth: { type: "stripe", secret: "whsec_stripe" },
		title: "Stripe",
		sign: async (body) => {
			const ts = now();
			return { "stripe-signature": `t=${ts},v1=${await hmac("whsec_stripe", `${ts}.${body}`, "hex")}` };
		},
	},
	standardWebhooks: {
		auth: { type: "standardWebhooks", secret: SW_SECRET },
		title: "Standard Webhooks",
		sign: async (body) => {
			const [id, ts] = ["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now()];
			return {
				"webhook-id": id,
				"webhook-timestamp": String(ts),
				"webhook-signature": `v1,${await hmac(swKey, `${id}.${ts}.${body}`, "base64")}`,
			};
		},
	},
	square: {
		auth: { type: "square", signatureKey: "square-key", notificationUrl: "https://placeholder.example/hook" },
		title: "Square",
		sign: async (body, flowId) => ({
			"x-square-hmacsha256-signature": await hmac("square-key", `${ORIGIN}/hook/${flowId}${body}`, "base64"),
		}),
	},
	slack: {
		auth: { type: "slack", signingSecret: "slack-secret" },
		title: "Slack",
		sign: async (body) => {
			const ts = now();
			return {
				"x-slack-request-timestamp": String(ts),
				"x-slack-signature": `v0=${await hmac("slack-secret", `v0:${ts}:${body}`, "hex")}`,
			};
		},
	},
};

/** A running flow under `preset`; Square's credential names the flow's own URL, which it signs. */
async function runningFlow(preset: Preset): Promise<string> {
	const { flowId, webhookCredentialId } = await createRunningFlow(preset.auth);
	if (preset.auth.type === "square")
		await api("PATCH", `/api/credentials/${webhookCredentialId}`, {
			auth: { ...preset.auth, notificationUrl: `${ORIGIN}/hook/${flowId}` },
			previousValidForSeconds: 0,
		});
	return flowId;
}

describe("attack: a GET whose unsigned query would become the message", () => {
	it.each(["github", "shopify", "meta", "hmac"])(
		"%s: the HMAC of the empty body is a constant that signs an empty POST, and a GET carrying it is 405, creating nothing",
		async (name) => {
			const preset = presets[name] as Preset;
			const flowId = await runningFlow(preset);
			const constant = await preset.sign("", flowId);

			const get = await hook(flowId, { method: "GET", path: "?petname=Mallory&petstatus=sold", headers: constant });
			expect(get.status).toBe(405);
			expect(get.headers.get("allow")).toBe("HEAD, POST");
			expect(await get.json()).toEqual({
				error: expect.stringMatching(new RegExp(`^Method GET is not allowed for this flow: ${preset.title} .*unsigned.*Send POST$`)),
			});

			// The same constant is a valid signature: an empty POST carrying it is accepted (and its message is empty).
			const post = await hook(flowId, { headers: constant });
			expect(post.status).toBe(200);
			const { requestId } = (await post.json()) as { requestId: string };
			await eventually("the POST's execution to be recorded", async () => (await executionIds(flowId)).includes(requestId));
			expect(await executionIds(flowId)).toEqual([requestId]);
			expect((await petstoreRequests()).requests.filter((r) => r.body?.name === "Mallory")).toEqual([]);
		},
	);

	it.each(["stripe", "standardWebhooks", "square", "slack"])("%s: a GET is 405, naming the provider and POST", async (name) => {
		const preset = presets[name] as Preset;
		const flowId = await runningFlow(preset);
		const response = await hook(flowId, { method: "GET", path: "?petname=Mallory", headers: await preset.sign("", flowId) });
		expect(response.status).toBe(405);
		expect(((await response.json()) as { error: string }).error).toMatch(
			new RegExp(`for this flow: ${preset.title} signs only a POST's body`),
		);
	});

	it("a GET is still accepted where its query is signed (HMAC over {url}) or nothing is signed (API key)", async () => {
		const signedUrl = await createRunningFlow({ type: "hmac", secret: "url-secret", signedContent: "{url}{body}" });
		const url = `${ORIGIN}/hook/${signedUrl.flowId}?petname=Wallace&petstatus=sold`;
		const accepted = await hook(signedUrl.flowId, {
			method: "GET",
			path: "?petname=Wallace&petstatus=sold",
			headers: { "x-hookflow-signature": await hmac("url-secret", url, "hex") },
		});
		expect(accepted.status).toBe(200);
		const tampered = await hook(signedUrl.flowId, {
			method: "GET",
			path: "?petname=Mallory&petstatus=sold",
			headers: { "x-hookflow-signature": await hmac("url-secret", url, "hex") },
		});
		expect(tampered.status).toBe(401);

		const apiKey = await createRunningFlow({ type: "apiKey", key: "the-key" });
		expect((await hook(apiKey.flowId, { method: "GET", path: "?petname=Gromit", headers: { "x-api-key": "the-key" } })).status).toBe(200);
	});
});

describe("attack: an unsigned URL suffix does not make a replayed delivery new", () => {
	it.each(["standardWebhooks", "stripe", "square", "github"])(
		"%s: the signed request replayed with ?x=1, an extra path segment, or both answers the first requestId and runs once",
		async (name) => {
			const preset = presets[name] as Preset;
			const flowId = await runningFlow(preset);
			const body = JSON.stringify({ id: `evt_${name}`, event_id: `evt_${name}`, petname: `Once-${name}`, petstatus: "sold" });
			const headers = { ...JSON_TYPE, ...(await preset.sign(body, flowId)) };
			const first = await hook(flowId, { headers, body });
			expect(first.status).toBe(200);
			const { requestId } = (await first.json()) as { requestId: string };

			for (const path of ["?x=1", "/extra", "/extra/deeper?x=1&y=2"]) {
				const replay = await hook(flowId, { path, headers, body });
				expect(replay.status, path).toBe(200);
				expect(((await replay.json()) as { requestId: string }).requestId, path).toBe(requestId);
			}
			await waitForExecution(requestId, "succeeded");
			expect(await executionIds(flowId)).toEqual([requestId]);
			const creates = (await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.body?.name === `Once-${name}`);
			expect(creates).toHaveLength(1);
		},
	);

	it("where nothing is signed (No Auth), the whole request is the content: another query under the same idempotency-key is a new execution", async () => {
		const { flowId } = await createRunningFlow();
		const send = (path: string) =>
			hook(flowId, {
				path,
				headers: { ...JSON_TYPE, "idempotency-key": "order-1" },
				body: JSON.stringify({ petname: "Q", petstatus: "sold" }),
			});
		const a = ((await (await send("?source=a")).json()) as { requestId: string }).requestId;
		const again = ((await (await send("?source=a")).json()) as { requestId: string }).requestId;
		const b = ((await (await send("?source=b")).json()) as { requestId: string }).requestId;
		expect(again).toBe(a);
		expect(b).not.toBe(a);
	});
});
