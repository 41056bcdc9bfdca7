/**
 * @module
 * The designer's one-time sample URL carries `<token>.<mac>`: the flow object's random token and
 * an HMAC-SHA256 of (flow id, token) under a key derived from CREDENTIALS_KEY with HKDF. The
 * sample ingress checks the format and the MAC before it touches a Durable Object, so a stranger
 * calling made-up sample URLs creates no object and no storage; the object then checks that the
 * token is open and unused. A URL signed under a key rotated away stops working, like its 10 min TTL.
 */
import { hkdfHmacKey, importCredentialsKey, type KeyRing } from "./credentials-key";
import { fromBase64, toBase64Url, utf8 } from "./encoding";

const PURPOSE = "sample-url";
/** 24 random bytes and a 32-byte MAC, both base64url without padding. */
const SIGNED_TOKEN = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/;

const deriveMacKey = hkdfHmacKey("hookflow sample-url v1");

const macInput = (flowId: string, token: string) => utf8.encode(`${flowId}\n${token}`);

/** `<token>.<mac>` for the URL the designer shows. */
export async function signSampleToken(flowId: string, token: string, keys: KeyRing): Promise<string> {
	const { key } = await importCredentialsKey(keys.CREDENTIALS_KEY, PURPOSE, deriveMacKey);
	return `${token}.${toBase64Url(await crypto.subtle.sign("HMAC", key, macInput(flowId, token)))}`;
}

/** The flow object's token when `signed` was made by signSampleToken for this flow, else null (compared in constant time by crypto.subtle.verify). */
export async function openSampleToken(flowId: string, signed: string, keys: KeyRing): Promise<string | null> {
	const [, token, mac] = SIGNED_TOKEN.exec(signed) ?? [];
	const macBytes = mac ? fromBase64(mac) : null;
	if (!token || macBytes?.length !== 32) return null;
	const { key } = await importCredentialsKey(keys.CREDENTIALS_KEY, PURPOSE, deriveMacKey);
	return (await crypto.subtle.verify("HMAC", key, macBytes, macInput(flowId, token))) ? token : null;
}
