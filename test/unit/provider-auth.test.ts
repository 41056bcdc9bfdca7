import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { splitWebhookAuth, type WebhookAuth, webhookAuthSchema } from "../../src/components/webhook";
import { type WebhookAuthType, webhookTypeSpec } from "../../src/components/webhook-types";
import { createWebhookVerifier } from "../../src/hook/auth/create-verifier";
import type { AuthResult, Verifier } from "../../src/hook/auth/types";
import { providerDeliveryId } from "../../src/hook/delivery-id";
import { buildMessage } from "../../src/hook/message";
import type { ProviderVector } from "../provider-vector-type";

/**
 * Every provider preset against requests signed in Node by the provider's own SDK, or its published
 * example (test/provider-vectors.ts): accepted as sent; refused with the right reason for a wrong
 * secret, a tampered body, a stale timestamp and a missing header; handshakes answered as documented.
 */

const vectors = inject("providerVectors");
const encoder = new TextEncoder();

function vector(name: string): ProviderVector {
	const found = vectors.find((v) => v.name === name);
	if (!found) throw new Error(`no vector ${name}`);
	return found;
}

async function verifierFor(auth: Record<string, string>): Promise<Verifier> {
	const parsed = webhookAuthSchema.parse(auth) as WebhookAuth;
	const { details, secret } = await splitWebhookAuth(parsed, env);
	return createWebhookVerifier(parsed.type, details, [secret], env);
}

interface Changes {
	headers?: Record<string, string | null>;
	body?: string;
	nowMs?: number;
}

function send(verifier: Verifier, v: ProviderVector, changes: Changes = {}): Promise<AuthResult> {
	const headers = new Headers();
	for (const [name, value] of Object.entries({ ...v.headers, ...changes.headers })) if (value !== null) headers.set(name, value);
	return verifier.verify({
		method: v.method,
		url: new URL(v.url),
		headers,
		rawBody: encoder.encode(changes.body ?? v.body),
		nowMs: changes.nowMs ?? v.nowMs,
	});
}

function expectRefused(result: AuthResult, reason: RegExp): void {
	expect(result.ok, JSON.stringify(result)).toBe(false);
	if (!result.ok) expect(result.reason).toMatch(reason);
}

/** The same auth with every secret field changed (a whsec_ secret stays well-formed). */
function withWrongSecret(auth: Record<string, string>): Record<string, string> {
	const spec = webhookTypeSpec(auth.type as WebhookAuthType);
	const wrong = { ...auth };
	for (const field of spec.fields.filter((f) => f.secret)) {
		const value = auth[field.name] ?? "";
		wrong[field.name] = auth.type === "standardWebhooks" ? "whsec_d3JvbmctYnV0LXdlbGwtZm9ybWVk" : `${value}-wrong`;
	}
	return wrong;
}

const signatureHeader = (type: string) => (webhookTypeSpec(type as WebhookAuthType).header ?? "").split(" ")[0]?.toLowerCase() ?? "";

/** name → the header whose absence is reported, and the tolerance when the scheme has a timestamp. */
const cases: Array<{ name: string; missing: string; stale?: boolean; tamper?: RegExp }> = [
	{ name: "github", missing: "x-hub-signature-256" },
	{ name: "stripe", missing: "stripe-signature", stale: true },
	{ name: "shopify", missing: "x-shopify-hmac-sha256" },
	{ name: "slack", missing: "x-slack-signature", stale: true },
	{ name: "twilio form", missing: "x-twilio-signature" },
	{ name: "twilio json", missing: "x-twilio-signature", tamper: /^Body mismatch: the body's SHA-256 differs from the bodySHA256/ },
	{ name: "paddle", missing: "paddle-signature", stale: true },
	{ name: "linear", missing: "linear-signature", stale: true },
	{ name: "zoom", missing: "x-zm-signature", stale: true },
	{ name: "meta", missing: "x-hub-signature-256" },
	{ name: "square", missing: "x-square-hmacsha256-signature" },
	{ name: "gitlab", missing: "x-gitlab-token" },
	{ name: "standardWebhooks", missing: "webhook-signature", stale: true },
	{ name: "standardWebhooks svix", missing: "svix-signature", stale: true },
];

describe.each(cases)("$name", ({ name, missing, stale, tamper }) => {
	const v = vector(name);

	it(`accepts the request as signed (${v.signedBy})`, async () => {
		expect(await send(await verifierFor(v.auth), v)).toEqual({ ok: true });
	});

	it("refuses it under a wrong secret", async () => {
		const result = await send(await verifierFor(withWrongSecret(v.auth)), v);
		expectRefused(result, v.auth.type === "gitlab" ? /^Wrong token in x-gitlab-token header$/ : /^Signature mismatch in /);
	});

	// A GitLab token signs nothing; schemes without a timestamp cannot be stale.
	if (v.auth.type !== "gitlab")
		it("refuses a tampered body", async () => {
			expectRefused(await send(await verifierFor(v.auth), v, { body: `${v.body} ` }), tamper ?? /^Signature mismatch in /);
		});

	if (stale)
		it("refuses a stale timestamp, naming the tolerance", async () => {
			const tolerance = webhookTypeSpec(v.auth.type as WebhookAuthType).toleranceSeconds ?? 0;
			expect(tolerance).toBeGreaterThan(0);
			const late = await send(await verifierFor(v.auth), v, { nowMs: v.nowMs + (tolerance + 5) * 1000 });
			expectRefused(late, new RegExp(`^Stale timestamp: .* outside the ±${tolerance} s tolerance`));
		});

	it("refuses a missing header, naming it", async () => {
		expectRefused(await send(await verifierFor(v.auth), v, { headers: { [missing]: null } }), new RegExp(`^Missing ${missing} header$`));
	});

	it("hides the header that carries the signature or secret from the message", async () => {
		const verifier = await verifierFor(v.auth);
		expect(verifier.secretHeaders).toContain(missing);
		expect(signatureHeader(v.auth.type ?? "")).not.toBe("");
	});
});

describe("the providers' timestamp headers", () => {
	it.each([
		["slack", "x-slack-request-timestamp"],
		["zoom", "x-zm-request-timestamp"],
	])("%s: a missing %s is named", async (name, header) => {
		const v = vector(name);
		expectRefused(await send(await verifierFor(v.auth), v, { headers: { [header]: null } }), new RegExp(`^Missing ${header} header$`));
	});

	it("stripe: a header without t= or v1= is malformed, and any of several v1 signatures may match", async () => {
		const v = vector("stripe");
		const verifier = await verifierFor(v.auth);
		const given = v.headers["stripe-signature"] ?? "";
		expectRefused(
			await send(verifier, v, { headers: { "stripe-signature": given.replace(/t=\d+,/, "") } }),
			/^Malformed stripe-signature header/,
		);
		const extra = `${given},v1=${"0".repeat(64)},v0=${"1".repeat(64)}`;
		expect(await send(verifier, v, { headers: { "stripe-signature": extra } })).toEqual({ ok: true });
	});

	it("linear: webhookTimestamp missing from the body is named", async () => {
		const v = vector("linear");
		const body = JSON.stringify({ action: "create" });
		const signed = await crypto.subtle.importKey("raw", encoder.encode(v.auth.secret ?? ""), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
		]);
		const signature = [...new Uint8Array(await crypto.subtle.sign("HMAC", signed, encoder.encode(body)))]
			.map((b) => b.toString(16).padStart(2, "0"))
			.join("");
		expectRefused(
			await send(await verifierFor(v.auth), v, { body, headers: { "linear-signature": signature } }),
			/^Missing webhookTimestamp/,
		);
	});

	it("square: a request at another URL than notificationUrl is refused and the URL is named as the cause", async () => {
		const v = vector("square");
		const verifier = await verifierFor({ ...v.auth, notificationUrl: "https://hookflow.example.com/hook/other" });
		expectRefused(await send(verifier, v), /^Signature mismatch in x-square-hmacsha256-signature: .*wrong URL/);
	});

	it("twilio: a URL changed on the way (another path) is refused, saying the URL is signed", async () => {
		const v = vector("twilio form");
		const verifier = await verifierFor(v.auth);
		const result = await verifier.verify({
			method: "POST",
			url: new URL(v.url.replace("myapp.php", "other.php")),
			headers: new Headers(v.headers),
			rawBody: encoder.encode(v.body),
			nowMs: v.nowMs,
		});
		expectRefused(result, /^Signature mismatch in x-twilio-signature: Twilio signs the exact URL/);
	});
});

describe("twilio agrees with Twilio's SDK (validateRequest, validateRequestWithBody) on genuine and forged requests", () => {
	const verdicts = vectors.filter((v) => v.sdkAccepts !== undefined);

	it("has forged requests the SDK refuses and genuine ones it accepts", () => {
		expect(verdicts.filter((v) => v.sdkAccepts).length).toBeGreaterThanOrEqual(3);
		expect(verdicts.filter((v) => !v.sdkAccepts).length).toBeGreaterThanOrEqual(4);
	});

	it.each(verdicts.map((v) => [v.name, v] as const))("%s", async (_, v) => {
		const result = await send(await verifierFor(v.auth), v);
		expect(result.ok, JSON.stringify(result)).toBe(v.sdkAccepts);
	});

	it("attack: a JSON body under the URL's signature alone is refused as unsigned, naming bodySHA256", async () => {
		const result = await send(await verifierFor(vector("twilio json").auth), vector("twilio json without bodySHA256"));
		expectRefused(result, /^Unsigned body: Twilio signs a JSON \(non-form\) body only through bodySHA256/);
	});
});

/** The message the ingress would build, for handshake detection and delivery ids. */
function messageOf(v: ProviderVector): Record<string, unknown> {
	const parsed = buildMessage({
		method: v.method,
		url: new URL(v.url),
		headers: new Headers(v.headers),
		rawBody: encoder.encode(v.body),
		additionalPath: "",
		secretHeaders: [],
	});
	if (!parsed.ok) throw new Error(parsed.error);
	return parsed.message;
}

describe("handshakes", () => {
	it("slack url_verification: verified, then answered with the challenge as text/plain", async () => {
		const v = vector("slack url_verification");
		const verifier = await verifierFor(v.auth);
		expect(await send(verifier, v)).toEqual({ ok: true });
		expect(await verifier.handshake?.(messageOf(v), 0)).toEqual({
			kind: "slack.url_verification",
			contentType: "text/plain; charset=utf-8",
			body: v.answer,
		});
		// Unsigned, it never gets that far.
		expectRefused(await send(verifier, v, { headers: { "x-slack-signature": `v0=${"0".repeat(64)}` } }), /^Signature mismatch/);
		// An ordinary event is not a handshake.
		expect(await verifier.handshake?.(messageOf(vector("slack")), 0)).toBeNull();
	});

	it("zoom endpoint.url_validation: verified, then answered with plainToken and its HMAC-SHA256 hex", async () => {
		const v = vector("zoom endpoint.url_validation");
		const verifier = await verifierFor(v.auth);
		expect(await send(verifier, v)).toEqual({ ok: true });
		const answer = await verifier.handshake?.(messageOf(v), 0);
		expect(answer).toMatchObject({ kind: "zoom.endpoint.url_validation", contentType: "application/json" });
		expect(JSON.parse(answer?.body ?? "")).toEqual(JSON.parse(v.answer ?? ""));
		expect(await verifier.handshake?.(messageOf(vector("zoom")), 0)).toBeNull();
	});

	it("attack: zoom endpoint.url_validation during a rotation is answered under the secret that signed it, not the new one", async () => {
		const v = vector("zoom endpoint.url_validation");
		// The vector is signed with the secret now rotated out; Node computed its answer under that secret.
		const rotated = await createWebhookVerifier("zoom", {}, [{ value: "zoom_new_secret_token" }, { value: v.auth.secretToken }], env);
		const byOld = await send(rotated, v);
		expect(byOld).toEqual({ ok: true, secretIndex: 1 });
		const oldAnswer = await rotated.handshake?.(messageOf(v), byOld.ok ? (byOld.secretIndex ?? 0) : -1);
		expect(JSON.parse(oldAnswer?.body ?? "")).toEqual(JSON.parse(v.answer ?? ""));

		// Signed with the new secret: answered under the new one.
		const key = await crypto.subtle.importKey("raw", encoder.encode("zoom_new_secret_token"), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
		]);
		const hexOf = async (text: string) =>
			[...new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");
		const ts = v.headers["x-zm-request-timestamp"];
		const byNew = await send(rotated, v, { headers: { "x-zm-signature": `v0=${await hexOf(`v0:${ts}:${v.body}`)}` } });
		expect(byNew).toEqual({ ok: true });
		const newAnswer = await rotated.handshake?.(messageOf(v), 0);
		expect(JSON.parse(newAnswer?.body ?? "")).toEqual({
			plainToken: "qgg8vlvZRS6UYooatFL8Aw",
			encryptedToken: await hexOf("qgg8vlvZRS6UYooatFL8Aw"),
		});
	});

	it("meta subscribe GET: the verify token is checked, then hub.challenge echoed as text/plain", async () => {
		const v = vector("meta subscribe");
		const verifier = await verifierFor(v.auth);
		expect(await send(verifier, v)).toEqual({
			ok: true,
			handshake: { kind: "meta.subscribe", contentType: "text/plain; charset=utf-8", body: v.answer },
		});
		const wrong = { ...v, url: v.url.replace("my-verify-token", "guess") };
		expectRefused(await send(verifier, wrong), /^Wrong hub\.verify_token/);
		const noToken = { ...v, url: v.url.replace("&hub.verify_token=my-verify-token", "") };
		expectRefused(await send(verifier, noToken), /^Missing hub\.verify_token/);
		// Any other GET is not the handshake (the ingress refuses it with 405: Meta signs only a POST's body).
		expect(verifier.isHandshakeRequest?.("GET", new URL(v.url))).toBe(true);
		expect(verifier.isHandshakeRequest?.("GET", new URL("https://hookflow.example.com/hook/flow_1?x=1"))).toBe(false);
		expect(verifier.isHandshakeRequest?.("POST", new URL(v.url))).toBe(false);
		expectRefused(
			await send(verifier, { ...v, url: "https://hookflow.example.com/hook/flow_1?x=1" }),
			/^Missing x-hub-signature-256 header$/,
		);
	});
});

describe("provider delivery ids", () => {
	it.each([
		["github", "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
		["stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy"],
		["shopify", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"],
		["twilio form", "8e0c4a4c-6a1e-4a47-9a2d-3d2f2c1c6a11"],
		["paddle", "evt_01h8bkrmhdfk7z7j3vkt8f7bsd"],
		["linear", "234d1a4e-b617-4388-90fe-adc3633d6b72"],
		["square", "13b867cf-db3d-4b16-90ad-6b5d4f0f2d8a"],
		["gitlab", "f7c2a1de-3a8b-4c1d-9e0f-1a2b3c4d5e6f"],
		["standardWebhooks", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"],
		["standardWebhooks svix", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4X"],
	])("%s: %s", async (name, id) => {
		const v = vector(name);
		const verifier = await verifierFor(v.auth);
		expect(providerDeliveryId(verifier.deliveryId, new Headers(v.headers), messageOf(v))).toBe(id);
	});

	it("slack: the event_id of an Events API delivery, the same on its retries", async () => {
		const verifier = await verifierFor(vector("slack").auth);
		const message = { type: "event_callback", event_id: "Ev08MFMKH6", event: { type: "message" } };
		expect(providerDeliveryId(verifier.deliveryId, new Headers({ "x-slack-retry-num": "1" }), message)).toBe("Ev08MFMKH6");
		expect(providerDeliveryId(verifier.deliveryId, new Headers(), { command: "/pet" })).toBeNull();
	});
});

describe("the component's description and the API schema", () => {
	it("name the same fields for every type; every provider says where its secret is", async () => {
		const { webhookTypeSpecs } = await import("../../src/components/webhook-types");
		const options = webhookAuthSchema.options.map((o) => Object.keys(o.shape).sort());
		expect(options).toEqual(webhookTypeSpecs.map((spec) => ["type", ...spec.fields.map((f) => f.name)].sort()));
		for (const spec of webhookTypeSpecs) {
			// Secret fields are required; the description promises where to find the secret of every signing provider.
			for (const field of spec.fields.filter((f) => f.secret)) expect(field.required, `${spec.type}.${field.name}`).toBe(true);
			if (spec.group === "providers") expect(spec.secretLocation, spec.type).toBeTruthy();
		}
	});

	it("say per type which methods become executions: POST only where the signature covers only the body", async () => {
		const { acceptedMethods, webhookTypeSpecs } = await import("../../src/components/webhook-types");
		const methods = Object.fromEntries(webhookTypeSpecs.map((spec) => [spec.type, acceptedMethods(spec.type, {}).join(",")]));
		expect(methods).toEqual({
			none: "GET,POST",
			basic: "GET,POST",
			apiKey: "GET,POST",
			hmac: "POST",
			standardWebhooks: "POST",
			github: "POST",
			stripe: "POST",
			shopify: "POST",
			slack: "POST",
			twilio: "GET,POST",
			paddle: "POST",
			linear: "POST",
			zoom: "POST",
			meta: "POST",
			square: "POST",
			gitlab: "GET,POST",
		});
		// The generic HMAC signs the query, and so accepts GET, only when its signedContent has {url}.
		expect(acceptedMethods("hmac", { signedContent: "{url}{body}" })).toEqual(["GET", "POST"]);
		expect(acceptedMethods("hmac", { signedContent: "{timestamp}.{body}" })).toEqual(["POST"]);
		for (const spec of webhookTypeSpecs) expect(spec.methodsHint, spec.type).toMatch(/\w{3}/);
	});
});
