/**
 * @module
 * HMAC signatures: one engine for the generic HMAC credential and every provider that
 * signs with an HMAC (hmac-presets.ts). A scheme says which header holds the signature, how to read
 * it, what was signed and how fresh its timestamp must be. Keys are imported once per config load;
 * crypto.subtle.verify compares in constant time.
 */
import {
	DEFAULT_HMAC_HEADER,
	DEFAULT_HMAC_TOLERANCE_SECONDS,
	DEFAULT_SIGNED_CONTENT,
	type HmacAlgorithm,
	type SignatureEncoding,
} from "../../components/webhook-types";
import { fromBase64, fromHex, utf8 } from "../../crypto/encoding";
import type { CredentialDetails } from "../../db/schema";
import { AUTH_OK, type AuthResult, type HookRequestForAuth, refuse, type Verifier } from "./types";

const HASH: Record<HmacAlgorithm, string> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };

export function importHmacKey(secret: Uint8Array, algorithm: HmacAlgorithm): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: HASH[algorithm] }, false, ["sign", "verify"]);
}

export function importHmacKeys(secrets: readonly string[], algorithm: HmacAlgorithm): Promise<CryptoKey[]> {
	return Promise.all(secrets.map((s) => importHmacKey(utf8.encode(s), algorithm)));
}

/** Encoded signatures read from the header, and the timestamp when the same header carries it (Stripe, Paddle). */
export interface SignatureHeader {
	signatures: string[];
	timestamp?: string;
}

export interface HmacScheme {
	/** Lower-case. */
	header: string;
	algorithm: HmacAlgorithm;
	encoding: SignatureEncoding;
	/** The header's value to its signatures; a string says what is malformed. */
	read(value: string): SignatureHeader | string;
	/** `{body}`, `{timestamp}`, `{url}` and literal text. */
	signedContent: string;
	/** Lower-case; the header carrying `{timestamp}` when `read` does not find one. */
	timestampHeader?: string;
	toleranceSeconds?: number;
	/** Signed instead of the request's URL (Square signs the notification URL it was given). */
	signedUrl?: string;
	/** What a valid signature is, for "Malformed …: expected …". */
	describe: string;
	/** How to sign, for "Signature mismatch in …: …". */
	hint: string;
	/** A check after the signature matched (Linear's timestamp in the body). */
	afterSignature?(request: HookRequestForAuth): AuthResult;
}

type Piece = Uint8Array | "body" | "timestamp" | "url";

/** The template as literal bytes and placeholders, split once per config load. */
export function compileSignedContent(template: string): Piece[] {
	const pieces: Piece[] = [];
	for (const part of template.split(/(\{body\}|\{timestamp\}|\{url\})/)) {
		if (part === "{body}") pieces.push("body");
		else if (part === "{timestamp}") pieces.push("timestamp");
		else if (part === "{url}") pieces.push("url");
		else if (part) pieces.push(utf8.encode(part));
	}
	return pieces;
}

function buildSignedContent(pieces: readonly Piece[], body: Uint8Array, timestamp: string, url: string): Uint8Array {
	const bytes = pieces.map((p) => (p === "body" ? body : p === "timestamp" ? utf8.encode(timestamp) : p === "url" ? utf8.encode(url) : p));
	const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
	let offset = 0;
	for (const b of bytes) {
		out.set(b, offset);
		offset += b.length;
	}
	return out;
}

/** null when fresh; otherwise why not. Timestamps are integer seconds since the epoch. */
export function timestampProblem(name: string, timestamp: string, nowMs: number, toleranceSeconds: number): string | null {
	if (!/^\d{1,12}$/.test(timestamp)) return `Malformed ${name} header: expected integer seconds since the epoch`;
	const skew = Math.round(nowMs / 1000) - Number(timestamp);
	return Math.abs(skew) > toleranceSeconds
		? `Stale timestamp: ${name} outside the ±${toleranceSeconds} s tolerance (skew ${skew} s)`
		: null;
}

/** The index of the first key (current, then previous) under which any signature verifies; -1 when none does. */
export async function verifyingKey(keys: readonly CryptoKey[], signatures: readonly Uint8Array[], data: Uint8Array): Promise<number> {
	for (const [index, key] of keys.entries()) {
		for (const signature of signatures) {
			if (await crypto.subtle.verify("HMAC", key, signature, data)) return index;
		}
	}
	return -1;
}

export async function anyKeyVerifies(keys: readonly CryptoKey[], signatures: readonly Uint8Array[], data: Uint8Array): Promise<boolean> {
	return (await verifyingKey(keys, signatures, data)) >= 0;
}

export async function createHmacSchemeVerifier(scheme: HmacScheme, secrets: readonly string[]): Promise<Verifier> {
	const keys = await importHmacKeys(secrets, scheme.algorithm);
	const pieces = compileSignedContent(scheme.signedContent);
	const bodyOnly = pieces.length === 1 && pieces[0] === "body";
	const needsTimestamp = pieces.includes("timestamp");
	const decode = scheme.encoding === "hex" ? fromHex : fromBase64;
	const tolerance = scheme.toleranceSeconds ?? DEFAULT_HMAC_TOLERANCE_SECONDS;
	return {
		secretHeaders: [scheme.header],
		async verify(request) {
			const { headers, rawBody, nowMs } = request;
			const given = headers.get(scheme.header);
			if (given === null) return refuse(`Missing ${scheme.header} header`);
			const read = scheme.read(given);
			if (typeof read === "string") return refuse(`Malformed ${scheme.header} header: ${read}`);
			let timestamp = read.timestamp ?? "";
			if (needsTimestamp) {
				const name = read.timestamp === undefined ? (scheme.timestampHeader ?? "timestamp") : `${scheme.header} timestamp`;
				if (read.timestamp === undefined) {
					const header = scheme.timestampHeader ? headers.get(scheme.timestampHeader) : null;
					if (header === null) return refuse(`Missing ${scheme.timestampHeader} header`);
					timestamp = header.trim();
				}
				const problem = timestampProblem(name, timestamp, nowMs, tolerance);
				if (problem) return refuse(problem);
			}
			const signatures: Uint8Array[] = [];
			for (const encoded of read.signatures) {
				const signature = decode(encoded);
				if (signature) signatures.push(signature);
			}
			if (signatures.length === 0) return refuse(`Malformed ${scheme.header} header: expected ${scheme.describe}`);
			const url = scheme.signedUrl ?? request.url.href;
			const data = bodyOnly ? rawBody : buildSignedContent(pieces, rawBody, timestamp, url);
			const secretIndex = await verifyingKey(keys, signatures, data);
			if (secretIndex < 0) {
				// A URL-signing provider's usual mistake is a URL that differs from the one it signed.
				const wrongUrl = scheme.signedUrl !== undefined && scheme.signedUrl !== request.url.href;
				return refuse(
					`Signature mismatch in ${scheme.header}: ${scheme.hint}${wrongUrl ? " (wrong URL: this request's URL differs from the credential's notificationUrl, which is what is signed)" : ""}`,
				);
			}
			const result = scheme.afterSignature ? scheme.afterSignature(request) : AUTH_OK;
			return result.ok && secretIndex > 0 ? { ...result, secretIndex } : result;
		},
	};
}

/** Reads `<prefix><signature>`; the prefix compares case-insensitively. */
export function prefixed(prefix: string, encoding: SignatureEncoding): (value: string) => SignatureHeader | string {
	const lower = prefix.toLowerCase();
	return (value) => {
		const trimmed = value.trim();
		if (trimmed.slice(0, prefix.length).toLowerCase() !== lower) return `expected ${prefix}<${encoding} signature>`;
		return { signatures: [trimmed.slice(prefix.length)] };
	};
}

/**
 * The generic HMAC credential. Without the options added later (encoding, prefix, signedContent,
 * timestampHeader) it is today's: the HMAC of the raw body, hex, an optional `<algorithm>=` prefix.
 */
export function createHmacVerifier(details: CredentialDetails, secrets: readonly string[]): Promise<Verifier> {
	const algorithm = details.algorithm ?? "sha256";
	const encoding = details.encoding ?? "hex";
	const signedContent = details.signedContent ?? DEFAULT_SIGNED_CONTENT;
	const optionalPrefix = new RegExp(`^${algorithm}=`, "i");
	const what = signedContent === DEFAULT_SIGNED_CONTENT ? "the raw body" : `\`${signedContent}\``;
	return createHmacSchemeVerifier(
		{
			header: (details.headerName ?? DEFAULT_HMAC_HEADER).toLowerCase(),
			algorithm,
			encoding,
			read: details.prefix ? prefixed(details.prefix, encoding) : (value) => ({ signatures: [value.trim().replace(optionalPrefix, "")] }),
			signedContent,
			timestampHeader: details.timestampHeader,
			toleranceSeconds: details.toleranceSeconds,
			describe: `the ${algorithm} HMAC of ${what} as ${encoding}`,
			hint:
				signedContent === DEFAULT_SIGNED_CONTENT
					? `sign the exact raw body bytes with HMAC-${algorithm.toUpperCase()}`
					: `sign ${what} (exact raw body bytes) with HMAC-${algorithm.toUpperCase()}`,
		},
		secrets,
	);
}
