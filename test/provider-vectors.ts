import { createHash, createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { sign as signGithub } from "@octokit/webhooks-methods";
import type { TestProject } from "vitest/node";
import type { ProviderVector } from "./provider-vector-type";

/**
 * Signed requests made in Node by the providers' own SDKs (stripe, twilio, svix, standardwebhooks,
 * @octokit/webhooks-methods) or, where a provider publishes no signing helper, by node:crypto as
 * its documentation says, checked with the provider's verifier where there is one (square). The
 * SDKs do not all load in workerd, so test/unit/provider-auth.test.ts checks these vectors there.
 */

// Node's own loader for the CommonJS SDKs, not vite's: they are used as published (and vite warns about stripe's source maps).
const require = createRequire(import.meta.url);
const { WebhooksHelper } = require("square") as typeof import("square");
const { Webhook: StandardWebhook } = require("standardwebhooks") as typeof import("standardwebhooks");
const Stripe = require("stripe") as typeof import("stripe").default;
const { Webhook: SvixWebhook } = require("svix") as typeof import("svix");
const twilio = require("twilio") as typeof import("twilio");

const TS = 1_767_000_000; // seconds
const NOW_MS = TS * 1000 + 2000;
const HOOK = "https://hookflow.example.com/hook/flow_1";
const json = { "content-type": "application/json" };
const hex = (key: string, data: string) => createHmac("sha256", key).update(data).digest("hex");
const b64 = (key: string, data: string) => createHmac("sha256", key).update(data).digest("base64");

export async function providerVectors(): Promise<ProviderVector[]> {
	const vectors: ProviderVector[] = [];

	const githubBody = '{"action":"opened","petname":"Gromit","petstatus":"sold"}';
	vectors.push({
		name: "github",
		auth: { type: "github", secret: "It's a Secret to Everybody" },
		signedBy: "@octokit/webhooks-methods sign",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"x-hub-signature-256": await signGithub("It's a Secret to Everybody", githubBody),
			"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		},
		body: githubBody,
		nowMs: NOW_MS,
	});

	const stripeSecret = "whsec_test_secret_for_hookflow";
	const stripeBody = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"customer.created","data":{"object":{"name":"Gromit"}}}';
	const stripe = new Stripe("sk_test_unused");
	vectors.push({
		name: "stripe",
		auth: { type: "stripe", secret: stripeSecret },
		signedBy: "stripe webhooks.generateTestHeaderString",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: stripeBody, secret: stripeSecret, timestamp: TS }),
		},
		body: stripeBody,
		nowMs: NOW_MS,
	});

	const shopifyBody = '{"id":820982911946154508,"email":"jon@example.com","petname":"Gromit"}';
	vectors.push({
		name: "shopify",
		auth: { type: "shopify", secret: "shpss_hookflow_test" },
		signedBy: "node:crypto, base64 HMAC-SHA256 of the body (Shopify's documentation)",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"x-shopify-hmac-sha256": b64("shpss_hookflow_test", shopifyBody),
			"x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		},
		body: shopifyBody,
		nowMs: NOW_MS,
	});

	// Slack's published example (api.slack.com/authentication/verifying-requests-from-slack).
	vectors.push({
		name: "slack",
		auth: { type: "slack", signingSecret: "8f742231b10e8888abcd99yyyzzz85a5" },
		signedBy: "Slack's published example",
		method: "POST",
		url: HOOK,
		headers: {
			"content-type": "application/x-www-form-urlencoded",
			"x-slack-request-timestamp": "1531420618",
			"x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		},
		body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
		nowMs: 1531420618 * 1000,
	});
	const slackChallenge =
		'{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
	vectors.push({
		name: "slack url_verification",
		auth: { type: "slack", signingSecret: "8f742231b10e8888abcd99yyyzzz85a5" },
		signedBy: "node:crypto, v0:{timestamp}:{body} (Slack's documentation)",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"x-slack-request-timestamp": String(TS),
			"x-slack-signature": `v0=${hex("8f742231b10e8888abcd99yyyzzz85a5", `v0:${TS}:${slackChallenge}`)}`,
		},
		body: slackChallenge,
		nowMs: NOW_MS,
		answer: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
	});

	const twilioToken = "12345";
	const twilioUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
	const twilioParams = { CallSid: "CA1234567890ABCDE", Caller: "+12349013030", Digits: "1234", From: "+12349013030", To: "+18005551212" };
	vectors.push({
		name: "twilio form",
		auth: { type: "twilio", authToken: twilioToken },
		signedBy: "twilio getExpectedTwilioSignature",
		method: "POST",
		url: twilioUrl,
		headers: {
			"content-type": "application/x-www-form-urlencoded",
			"x-twilio-signature": twilio.getExpectedTwilioSignature(twilioToken, twilioUrl, twilioParams),
			"i-twilio-idempotency-token": "8e0c4a4c-6a1e-4a47-9a2d-3d2f2c1c6a11",
		},
		body: new URLSearchParams(twilioParams).toString(),
		nowMs: NOW_MS,
	});
	const twilioJson = '{"ProfileSid":"BU1234","petname":"Gromit"}';
	const twilioJsonUrl = `https://mycompany.com/myapp?bodySHA256=${createHash("sha256").update(twilioJson).digest("hex")}`;
	vectors.push({
		name: "twilio json",
		auth: { type: "twilio", authToken: twilioToken },
		signedBy: "twilio getExpectedTwilioSignature (bodySHA256)",
		method: "POST",
		url: twilioJsonUrl,
		headers: { ...json, "x-twilio-signature": twilio.getExpectedTwilioSignature(twilioToken, twilioJsonUrl, {}) },
		body: twilioJson,
		nowMs: NOW_MS,
	});
	vectors.push(...twilioVerdicts(twilioToken, twilioJson));

	const paddleBody = '{"event_id":"evt_01h8bkrmhdfk7z7j3vkt8f7bsd","event_type":"transaction.completed","data":{"petname":"Gromit"}}';
	vectors.push({
		name: "paddle",
		auth: { type: "paddle", secret: "pdl_ntfset_01h8bkrm_hookflow" },
		signedBy: "node:crypto, ts:{body} (Paddle's documentation)",
		method: "POST",
		url: HOOK,
		headers: { ...json, "paddle-signature": `ts=${TS};h1=${hex("pdl_ntfset_01h8bkrm_hookflow", `${TS}:${paddleBody}`)}` },
		body: paddleBody,
		nowMs: TS * 1000 + 1000,
	});

	const linearBody = JSON.stringify({ action: "create", type: "Issue", data: { title: "Gromit" }, webhookTimestamp: NOW_MS - 1000 });
	vectors.push({
		name: "linear",
		auth: { type: "linear", secret: "lin_wh_hookflow_test" },
		signedBy: "node:crypto, hex HMAC-SHA256 of the body (Linear's documentation)",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"linear-signature": hex("lin_wh_hookflow_test", linearBody),
			"linear-delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72",
		},
		body: linearBody,
		nowMs: NOW_MS,
	});

	const zoomBody = '{"event":"meeting.started","event_ts":1767000000000,"payload":{"object":{"topic":"Gromit"}}}';
	vectors.push({
		name: "zoom",
		auth: { type: "zoom", secretToken: "zoom_secret_token" },
		signedBy: "node:crypto, v0:{timestamp}:{body} (Zoom's documentation)",
		method: "POST",
		url: HOOK,
		headers: { ...json, "x-zm-request-timestamp": String(TS), "x-zm-signature": `v0=${hex("zoom_secret_token", `v0:${TS}:${zoomBody}`)}` },
		body: zoomBody,
		nowMs: NOW_MS,
	});
	const zoomValidation = '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}';
	vectors.push({
		name: "zoom endpoint.url_validation",
		auth: { type: "zoom", secretToken: "zoom_secret_token" },
		signedBy: "node:crypto, v0:{timestamp}:{body} (Zoom's documentation)",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"x-zm-request-timestamp": String(TS),
			"x-zm-signature": `v0=${hex("zoom_secret_token", `v0:${TS}:${zoomValidation}`)}`,
		},
		body: zoomValidation,
		nowMs: NOW_MS,
		answer: JSON.stringify({ plainToken: "qgg8vlvZRS6UYooatFL8Aw", encryptedToken: hex("zoom_secret_token", "qgg8vlvZRS6UYooatFL8Aw") }),
	});

	const metaBody = '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[]}]}';
	vectors.push({
		name: "meta",
		auth: { type: "meta", appSecret: "meta_app_secret", verifyToken: "my-verify-token" },
		signedBy: "@octokit/webhooks-methods sign (the same sha256=<hex> form Meta sends)",
		method: "POST",
		url: HOOK,
		headers: { ...json, "x-hub-signature-256": await signGithub("meta_app_secret", metaBody) },
		body: metaBody,
		nowMs: NOW_MS,
	});

	vectors.push({
		name: "meta subscribe",
		auth: { type: "meta", appSecret: "meta_app_secret", verifyToken: "my-verify-token" },
		signedBy: "Meta's documentation (GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…)",
		method: "GET",
		url: `${HOOK}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token`,
		headers: {},
		body: "",
		nowMs: NOW_MS,
		answer: "1158201444",
	});

	const squareUrl = "https://hookflow.example.com/hook/flow_1";
	const squareBody =
		'{"merchant_id":"6SSW7HV8K2ST5","type":"payment.created","event_id":"13b867cf-db3d-4b16-90ad-6b5d4f0f2d8a","data":{"id":"KkAkhdMs"}}';
	const squareSignature = b64("square_signature_key", squareUrl + squareBody);
	if (
		!(await WebhooksHelper.verifySignature({
			requestBody: squareBody,
			signatureHeader: squareSignature,
			signatureKey: "square_signature_key",
			notificationUrl: squareUrl,
		}))
	)
		throw new Error("square's WebhooksHelper.verifySignature refuses the vector");
	vectors.push({
		name: "square",
		auth: { type: "square", signatureKey: "square_signature_key", notificationUrl: squareUrl },
		signedBy: "node:crypto, accepted by square WebhooksHelper.verifySignature",
		method: "POST",
		url: squareUrl,
		headers: { ...json, "x-square-hmacsha256-signature": squareSignature },
		body: squareBody,
		nowMs: NOW_MS,
	});

	vectors.push({
		name: "gitlab",
		auth: { type: "gitlab", token: "gitlab-secret-token" },
		signedBy: "GitLab's documentation (the token as is)",
		method: "POST",
		url: HOOK,
		headers: { ...json, "x-gitlab-token": "gitlab-secret-token", "idempotency-key": "f7c2a1de-3a8b-4c1d-9e0f-1a2b3c4d5e6f" },
		body: '{"object_kind":"push"}',
		nowMs: NOW_MS,
	});

	const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	const swBody = '{"type":"pet.created","petname":"Gromit"}';
	vectors.push({
		name: "standardWebhooks",
		auth: { type: "standardWebhooks", secret: swSecret },
		signedBy: "standardwebhooks Webhook.sign",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
			"webhook-timestamp": String(TS),
			"webhook-signature": new StandardWebhook(swSecret).sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", new Date(TS * 1000), swBody),
		},
		body: swBody,
		nowMs: NOW_MS,
	});
	vectors.push({
		name: "standardWebhooks svix",
		auth: { type: "standardWebhooks", secret: swSecret },
		signedBy: "svix Webhook.sign",
		method: "POST",
		url: HOOK,
		headers: {
			...json,
			"svix-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4X",
			"svix-timestamp": String(TS),
			"svix-signature": new SvixWebhook(swSecret).sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4X", new Date(TS * 1000), swBody),
		},
		body: swBody,
		nowMs: NOW_MS,
	});
	return vectors;
}

/**
 * Twilio requests, genuine and forged, each with what Twilio's SDK says of it: `validateRequest`
 * over the URL and the POST fields for a form or an empty body, `validateRequestWithBody` (the
 * URL's bodySHA256 must match) for any other body. The hook must agree on every one.
 */
function twilioVerdicts(token: string, jsonBody: string): ProviderVector[] {
	const auth = { type: "twilio", authToken: token };
	const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
	const sdkAccepts = (signature: string, url: string, contentType: string | undefined, body: string) =>
		contentType === "application/x-www-form-urlencoded"
			? twilio.validateRequest(token, signature, url, Object.fromEntries(new URLSearchParams(body)))
			: body === ""
				? twilio.validateRequest(token, signature, url, {})
				: twilio.validateRequestWithBody(token, signature, url, body);
	const variant = (
		name: string,
		method: "GET" | "POST",
		url: string,
		signature: string,
		contentType: string | undefined,
		body: string,
	) => ({
		name,
		auth,
		signedBy: "twilio getExpectedTwilioSignature; verdict by validateRequest / validateRequestWithBody",
		method,
		url,
		headers: { ...(contentType ? { "content-type": contentType } : {}), "x-twilio-signature": signature },
		body,
		nowMs: NOW_MS,
		sdkAccepts: sdkAccepts(signature, url, contentType, body),
	});
	const plainUrl = "https://mycompany.com/myapp?foo=1";
	const urlSignature = twilio.getExpectedTwilioSignature(token, plainUrl, {});
	const hashedUrl = `https://mycompany.com/myapp?bodySHA256=${sha256(jsonBody)}`;
	const form = { CallSid: "CA1", From: "+12349013030" };
	const formSignature = twilio.getExpectedTwilioSignature(token, plainUrl, form);
	const upperUrl = `https://mycompany.com/myapp?bodySHA256=${sha256(jsonBody).toUpperCase()}`;
	return [
		variant(
			"twilio json, signed",
			"POST",
			hashedUrl,
			twilio.getExpectedTwilioSignature(token, hashedUrl, {}),
			"application/json",
			jsonBody,
		),
		// The attack: the URL's signature alone, any JSON.
		variant("twilio json without bodySHA256", "POST", plainUrl, urlSignature, "application/json", jsonBody),
		variant(
			"twilio json under another body's bodySHA256",
			"POST",
			hashedUrl,
			twilio.getExpectedTwilioSignature(token, hashedUrl, {}),
			"application/json",
			'{"petname":"Mallory"}',
		),
		variant(
			"twilio bodySHA256 in upper-case hex",
			"POST",
			upperUrl,
			twilio.getExpectedTwilioSignature(token, upperUrl, {}),
			"application/json",
			jsonBody,
		),
		variant("twilio text body without bodySHA256", "POST", plainUrl, urlSignature, "text/plain", "petname=Mallory"),
		variant(
			"twilio form, signed",
			"POST",
			plainUrl,
			formSignature,
			"application/x-www-form-urlencoded",
			new URLSearchParams(form).toString(),
		),
		variant(
			"twilio form with a field changed",
			"POST",
			plainUrl,
			formSignature,
			"application/x-www-form-urlencoded",
			new URLSearchParams({ ...form, From: "+10000000000" }).toString(),
		),
		variant("twilio GET, its URL signed", "GET", plainUrl, urlSignature, undefined, ""),
		variant("twilio empty POST, its URL signed", "POST", plainUrl, urlSignature, undefined, ""),
	];
}

export default async function ({ provide }: TestProject) {
	provide("providerVectors", await providerVectors());
}
