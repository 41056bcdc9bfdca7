/**
 * @module
 * The one way a test waits for something asynchronous (a queue batch, an alarm, a restarted
 * stack): poll `check` until it returns a value other than `undefined`, `null` or `false`.
 * Runs in workerd and in Node alike.
 */

/**
 * Resolves with the first truthy-enough value `check` returns; rejects after `timeoutMs` with
 * `what` in the message. An error thrown by `check` fails at once: a broken check must not look
 * like a slow one.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined && value !== null && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}
