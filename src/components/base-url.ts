/**
 * @module
 * Where a credential's secret may go: URLs under its base URL (same origin, path under its path).
 * A step's URL without a scheme is appended to the base URL the way HTTP clients' base URLs work
 * (`/pets/1` under `https://h/crm` is `https://h/crm/pets/1`). Pure, shared by publishing (literal
 * URLs) and the step runner (computed ones).
 */
import * as z from "zod";

/**
 * An http(s) URL with no credentials, query or fragment, so paths appended to it are always paths
 * under it and never a query or fragment that turns the rest into data.
 */
export const baseUrlSchema = z
	.url({ protocol: /^https?$/, error: "Base URL must be an http(s) URL" })
	.max(2048)
	.refine((value) => !/[?#]/.test(value), "Base URL must not contain a query (?) or fragment (#)")
	.refine((value) => {
		const url = new URL(value);
		return url.username === "" && url.password === "";
	}, "Base URL must not contain a user name or password; the credential holds the secret");

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export type ResolvedUrl = { ok: true; url: URL } | { ok: false; error: string };

/** The URL a step calls: absolute as written, or relative to the credential's base URL. */
export function resolveStepUrl(url: string, baseUrl: string | null): ResolvedUrl {
	const trimmed = url.trim();
	if (trimmed === "") return { ok: false, error: "The URL is empty" };
	let resolved: string;
	if (HAS_SCHEME.test(trimmed)) resolved = trimmed;
	else if (baseUrl === null)
		return {
			ok: false,
			error: `The URL ${JSON.stringify(trimmed.slice(0, 200))} has no scheme: write a whole http(s) URL or choose a credential with a base URL`,
		};
	else {
		const base = baseUrl.replace(/\/+$/, "");
		resolved = /^[?#]/.test(trimmed) ? `${base}${trimmed}` : `${base}/${trimmed.replace(/^\/+/, "")}`;
	}
	let parsed: URL;
	try {
		parsed = new URL(resolved);
	} catch {
		return { ok: false, error: `${JSON.stringify(resolved.slice(0, 200))} is not a valid URL` };
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
		return { ok: false, error: `Only http(s) URLs can be called, not ${parsed.protocol}` };
	if (parsed.username !== "" || parsed.password !== "")
		return { ok: false, error: "The URL must not contain a user name or password: use a credential" };
	return { ok: true, url: parsed };
}

/** Whether `url` is under `baseUrl`: the same origin, and its path the base path or below it. */
export function isUnderBaseUrl(url: URL, baseUrl: string): boolean {
	const base = new URL(baseUrl);
	if (url.origin !== base.origin) return false;
	const basePath = base.pathname.replace(/\/+$/, "");
	return basePath === "" || url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
}

/** Why `url` may not be called with the credential based at `baseUrl`, or null when it may. */
export function outsideCredential(url: URL, baseUrl: string): string | null {
	if (isUnderBaseUrl(url, baseUrl)) return null;
	const where = url.origin === new URL(baseUrl).origin ? `${url.origin}${url.pathname}` : url.origin;
	return `The URL goes to ${where}, outside the credential's base URL ${baseUrl}: its secret is only ever sent there, so nothing was sent`;
}
