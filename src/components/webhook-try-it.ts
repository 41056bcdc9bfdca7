/**
 * @module
 * The "try it" of a webhook credential: a shell command that sends a correctly signed test
 * request, or, where signing by hand makes no sense, the provider whose dashboard sends a test.
 * `{url}` and `{body}` are left for the designer, which knows the hook URL and the sample, to fill
 * in shell-quoted. Secrets are write-only, so they appear as <placeholders>.
 */
import type { CredentialDetails } from "../db/schema";
import {
	DEFAULT_API_KEY_HEADER,
	DEFAULT_HMAC_HEADER,
	DEFAULT_SIGNED_CONTENT,
	type WebhookAuthType,
	webhookTypeSpec,
} from "./webhook-types";

export type TryIt = { command: string; hint: string } | { testFrom: string };

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** Text safe inside a double-quoted shell string. */
const inDoubleQuotes = (s: string) => s.replace(/[\\"$`]/g, (c) => `\\${c}`);

const JSON_HEADER = "-H 'content-type: application/json'";

function curl(headers: string[]): string[] {
	return ['curl "$url" \\', ...headers.map((h) => `  ${h} \\`), `  ${JSON_HEADER} \\`, '  -d "$body"'];
}

/** `sig=…`: the HMAC of `data` (a double-quoted shell string) with "$secret", hex or base64. */
function sign(algorithm: string, encoding: "hex" | "base64", data: string): string {
	const tail = encoding === "hex" ? "| sed 's/^.*= //'" : "-binary | base64";
	return `sig=$(printf '%s' "${data}" | openssl dgst -${algorithm} -hmac "$secret" ${tail})`;
}

function command(secretPlaceholder: string | null, lines: string[], hint: string): TryIt {
	const head = ["url={url}", "body={body}", ...(secretPlaceholder ? [`secret=${quote(secretPlaceholder)}`] : [])];
	return { command: [...head, ...lines].join("\n"), hint };
}

const SECRET_HINT = (what: string) =>
	`Replace <${what}> with the value saved in the credential (secrets are write-only and never shown again).`;
const NOW = "ts=$(date +%s)";

function genericHmac(details: CredentialDetails): TryIt {
	const algorithm = details.algorithm ?? "sha256";
	const encoding = details.encoding ?? "hex";
	const template = details.signedContent ?? DEFAULT_SIGNED_CONTENT;
	const data = template
		.split(/(\{body\}|\{timestamp\}|\{url\})/)
		.map((part) => (part === "{body}" ? "$body" : part === "{timestamp}" ? "$ts" : part === "{url}" ? "$url" : inDoubleQuotes(part)))
		.join("");
	const prefix = inDoubleQuotes(details.prefix ?? (encoding === "hex" ? `${algorithm}=` : ""));
	const headers = [`-H "${details.headerName ?? DEFAULT_HMAC_HEADER}: ${prefix}$sig"`];
	if (details.timestampHeader) headers.push(`-H "${details.timestampHeader}: $ts"`);
	return command(
		"<secret>",
		[...(template.includes("{timestamp}") ? [NOW] : []), sign(algorithm, encoding, data), ...curl(headers)],
		`${SECRET_HINT("secret")} The signature is the HMAC-${algorithm.toUpperCase()} of ${template === DEFAULT_SIGNED_CONTENT ? "the raw body bytes" : template}.`,
	);
}

export function webhookTryIt(type: WebhookAuthType, details: CredentialDetails): TryIt {
	const spec = webhookTypeSpec(type);
	if (spec.testFrom) return { testFrom: spec.testFrom };
	switch (type) {
		case "none":
			return command(null, curl([]), "Anyone with the URL can call it: the URL is the secret.");
		case "basic":
			return command(null, curl([`-u ${quote(`${details.username ?? ""}:<password>`)}`]), SECRET_HINT("password"));
		case "apiKey":
			return command(null, curl([`-H ${quote(`${details.headerName ?? DEFAULT_API_KEY_HEADER}: <key>`)}`]), SECRET_HINT("key"));
		case "gitlab":
			return command(null, curl(["-H 'X-Gitlab-Token: <token>'", "-H 'X-Gitlab-Event: Push Hook'"]), SECRET_HINT("token"));
		case "hmac":
			return genericHmac(details);
		case "standardWebhooks":
			return command(
				"<whsec_…>",
				[
					'id="msg_$(openssl rand -hex 12)"; ts=$(date +%s)',
					"# HMAC-SHA256 of id.timestamp.body with the base64 key after whsec_",
					`key=$(printf '%s' "\${secret#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \\n')`,
					`sig=$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)`,
					...curl(['-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig"']),
				],
				`${SECRET_HINT("whsec_…")} Each request needs a fresh id and a timestamp within ±5 minutes.`,
			);
		case "github":
			return command(
				"<webhook secret>",
				[
					sign("sha256", "hex", "$body"),
					...curl([
						'-H "X-Hub-Signature-256: sha256=$sig"',
						"-H 'X-GitHub-Event: ping'",
						'-H "X-GitHub-Delivery: $(openssl rand -hex 16)"',
					]),
				],
				`${SECRET_HINT("webhook secret")} Or use "Redeliver" in the webhook's Recent Deliveries on GitHub.`,
			);
		case "stripe":
			return command(
				"<whsec_…>",
				[NOW, sign("sha256", "hex", "$ts.$body"), ...curl(['-H "Stripe-Signature: t=$ts,v1=$sig"'])],
				`${SECRET_HINT("whsec_…")} Stripe's event "id" in the body is the delivery id; or run \`stripe trigger customer.created\`.`,
			);
		case "shopify":
			return command(
				"<signing secret>",
				[
					sign("sha256", "base64", "$body"),
					...curl(['-H "X-Shopify-Hmac-Sha256: $sig"', '-H "X-Shopify-Webhook-Id: $(openssl rand -hex 16)"']),
				],
				SECRET_HINT("signing secret"),
			);
		case "slack":
			return command(
				"<signing secret>",
				[NOW, sign("sha256", "hex", "v0:$ts:$body"), ...curl(['-H "X-Slack-Request-Timestamp: $ts"', '-H "X-Slack-Signature: v0=$sig"'])],
				SECRET_HINT("signing secret"),
			);
		case "paddle":
			return command(
				"<secret key>",
				[NOW, sign("sha256", "hex", "$ts:$body"), ...curl(['-H "Paddle-Signature: ts=$ts;h1=$sig"'])],
				`${SECRET_HINT("secret key")} Paddle allows only 5 s of clock skew: send it at once.`,
			);
		case "zoom":
			return command(
				"<secret token>",
				[NOW, sign("sha256", "hex", "v0:$ts:$body"), ...curl(['-H "x-zm-request-timestamp: $ts"', '-H "x-zm-signature: v0=$sig"'])],
				SECRET_HINT("secret token"),
			);
		case "meta":
			return command(
				"<app secret>",
				[sign("sha256", "hex", "$body"), ...curl(['-H "X-Hub-Signature-256: sha256=$sig"'])],
				`${SECRET_HINT("app secret")} Meta's subscribe check: curl "$url?hub.mode=subscribe&hub.verify_token=<verify token>&hub.challenge=42" answers 42.`,
			);
		case "square":
			return command(
				"<signature key>",
				[
					`notification_url=${quote(details.notificationUrl ?? "")}`,
					sign("sha256", "base64", "$notification_url$body"),
					...curl(['-H "x-square-hmacsha256-signature: $sig"']),
				],
				`${SECRET_HINT("signature key")} Square signs the notification URL with the body: it must be this hook URL exactly.`,
			);
		default:
			return { testFrom: spec.title };
	}
}
