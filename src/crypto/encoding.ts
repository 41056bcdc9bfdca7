/**
 * @module
 * Byte/text encodings used by auth checks and secret sealing.
 */

export const utf8 = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
	return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lowercase or uppercase hex of even, non-zero length to bytes; null when it is not hex. */
export function fromHex(hex: string): Uint8Array | null {
	if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return out;
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
	let binary = "";
	for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
	return btoa(binary);
}

/** Standard or URL-safe base64, padded or not; null when malformed. */
export function fromBase64(text: string): Uint8Array | null {
	const normalized = text.replaceAll("-", "+").replaceAll("_", "/");
	try {
		const binary = atob(normalized + "=".repeat((4 - (normalized.length % 4)) % 4));
		return Uint8Array.from(binary, (c) => c.charCodeAt(0));
	} catch {
		return null;
	}
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
	return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function randomBase64Url(byteCount: number): string {
	return toBase64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

/** 32 lowercase hex characters from 128 random bits. */
export function randomHexId(): string {
	return crypto.randomUUID().replaceAll("-", "");
}
