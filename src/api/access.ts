/**
 * @module
 * Cloudflare Access in front of /api: a request Access let through carries its signed JWT in
 * `cf-access-jwt-assertion`. When ACCESS_TEAM_DOMAIN and ACCESS_AUD are set, that JWT is accepted
 * instead of the bearer token if it is RS256-signed by one of the team's keys (from
 * `${ACCESS_TEAM_DOMAIN}/cdn-cgi/access/certs`), issued by the team domain, meant for this
 * application (aud) and within its validity.
 */
import { fromBase64 } from "../crypto/encoding";
import { errorMessage } from "../log";
import { ApiError } from "./errors";

const CERTS_TTL_MS = 10 * 60_000;
/** An unknown kid refetches the certs at most this often, so forged tokens cannot hammer the certs URL. */
const MIN_REFETCH_MS = 30_000;
const CLOCK_SKEW_SECONDS = 60;
const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

export interface AccessConfig {
	teamDomain: string;
	audience: string;
}

export function accessConfig(env: Env): AccessConfig | null {
	const teamDomain = env.ACCESS_TEAM_DOMAIN.trim().replace(/\/+$/, "");
	const audience = env.ACCESS_AUD.trim();
	return teamDomain && audience ? { teamDomain, audience } : null;
}

const certs = new Map<string, { keys: Promise<Map<string, CryptoKey>>; fetchedAt: number }>();

async function fetchSigningKeys(teamDomain: string): Promise<Map<string, CryptoKey>> {
	const response = await fetch(`${teamDomain}/cdn-cgi/access/certs`);
	if (!response.ok) throw new Error(`${teamDomain}/cdn-cgi/access/certs answered ${response.status}`);
	const { keys = [] } = (await response.json()) as { keys?: Array<JsonWebKey & { kid?: string }> };
	const imported = new Map<string, CryptoKey>();
	for (const { kid, kty, n, e } of keys) {
		if (kid && kty === "RSA" && n && e) imported.set(kid, await crypto.subtle.importKey("jwk", { kty, n, e }, RS256, false, ["verify"]));
	}
	return imported;
}

async function signingKey(teamDomain: string, kid: string, nowMs: number): Promise<CryptoKey | undefined> {
	let entry = certs.get(teamDomain);
	if (entry && nowMs - entry.fetchedAt > MIN_REFETCH_MS) {
		// Past the TTL, or a kid the cached set lacks (Access rotated its keys): fetch again.
		const known = await entry.keys.then(
			(keys) => keys.has(kid),
			() => false,
		);
		if (!known || nowMs - entry.fetchedAt > CERTS_TTL_MS) entry = undefined;
	}
	if (!entry) {
		const fresh = { keys: fetchSigningKeys(teamDomain), fetchedAt: nowMs };
		// A failed fetch is not kept: the next request tries again.
		fresh.keys.catch(() => certs.get(teamDomain) === fresh && certs.delete(teamDomain));
		certs.set(teamDomain, fresh);
		entry = fresh;
	}
	try {
		return (await entry.keys).get(kid);
	} catch (error) {
		throw new ApiError(503, `Cannot read the Cloudflare Access signing keys: ${errorMessage(error)}`);
	}
}

function decodeJson(part: string | undefined): Record<string, unknown> | null {
	const bytes = part ? fromBase64(part) : null;
	if (!bytes) return null;
	try {
		const value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)) as unknown;
		return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
	} catch {
		return null;
	}
}

export type AccessVerdict = { ok: true } | { ok: false; reason: string };

export async function verifyAccessJwt(token: string, config: AccessConfig, nowMs: number): Promise<AccessVerdict> {
	const parts = token.split(".");
	const header = decodeJson(parts[0]);
	const claims = decodeJson(parts[1]);
	const signature = parts[2] ? fromBase64(parts[2]) : null;
	if (parts.length !== 3 || !header || !claims || !signature) return { ok: false, reason: "not a JWT" };
	// Only RS256: a token naming another algorithm (none, HS256) is never tried.
	if (header.alg !== "RS256" || typeof header.kid !== "string") return { ok: false, reason: "expected an RS256 token with a kid" };
	const key = await signingKey(config.teamDomain, header.kid, nowMs);
	if (!key) return { ok: false, reason: "signed by a key the team does not publish" };
	const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
	if (!(await crypto.subtle.verify(RS256, key, signature, signed))) return { ok: false, reason: "bad signature" };
	if (claims.iss !== config.teamDomain) return { ok: false, reason: "issued by another team" };
	const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
	if (!audiences.includes(config.audience)) return { ok: false, reason: "meant for another application" };
	const now = nowMs / 1000;
	if (typeof claims.exp !== "number" || claims.exp < now - CLOCK_SKEW_SECONDS) return { ok: false, reason: "expired" };
	if (typeof claims.nbf === "number" && claims.nbf > now + CLOCK_SKEW_SECONDS) return { ok: false, reason: "not valid yet" };
	return { ok: true };
}
