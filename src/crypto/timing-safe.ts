import { utf8 } from "./encoding";

/**
 * Constant-time string equality. Both sides are hashed first so that neither the content nor
 * the length of the secret leaks through timing.
 */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
	const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", utf8.encode(a)), crypto.subtle.digest("SHA-256", utf8.encode(b))]);
	return crypto.subtle.timingSafeEqual(da, db);
}
