/**
 * @module
 * What an execution keeps of a request or response body. Storage rows (Durable Object SQLite and
 * D1) hold at most 2 MB and an execution row already holds its input (up to the stored-message
 * limit), so a body is recorded up to MAX_RECORDED_BODY_BYTES of JSON: the head is kept, with its
 * real size and `truncated: true`. The call itself always sends and reads the whole body.
 */

/** Bytes of JSON one recorded request or response body may take in the run log. */
export const MAX_RECORDED_BODY_BYTES = 32 * 1024;

/** How a body is recorded: as is when it fits, else the head of its text with the real size. */
export type RecordedBody = { body: unknown } | { body: string; bodyBytes: number; truncated: true };

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

/** The longest prefix of `text` whose JSON string form fits in `limit` bytes (escapes can grow it up to 6×). */
function headThatFits(text: string, limit: number): string {
	let head = text;
	for (let size = byteLength(JSON.stringify(head)); size > limit; size = byteLength(JSON.stringify(head))) {
		head = head.slice(0, Math.floor((head.length * limit) / size) - 1);
		// A cut between the halves of a surrogate pair leaves half a character.
		if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
	}
	return head;
}

/** A value that will be sent (already in memory), recorded within the cap. */
export function recordedValue(value: unknown, limit = MAX_RECORDED_BODY_BYTES): RecordedBody {
	if (value === undefined) return { body: value };
	const json = JSON.stringify(value);
	const bytes = byteLength(json);
	if (bytes <= limit) return { body: value };
	return { body: headThatFits(json, limit), bodyBytes: bytes, truncated: true };
}

/**
 * Reads a response body keeping at most `limit` bytes in memory, counting the rest: a 30 MB
 * answer costs a Worker 32 KiB, not 30 MB plus its parse. JSON is parsed when it was read whole.
 */
export async function readRecordedBody(response: Response, limit = MAX_RECORDED_BODY_BYTES): Promise<RecordedBody> {
	const head = new Uint8Array(limit);
	let kept = 0;
	let total = 0;
	if (response.body) {
		for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
			if (kept < limit) {
				const take = chunk.subarray(0, limit - kept);
				head.set(take, kept);
				kept += take.length;
			}
			total += chunk.length;
		}
	}
	// stream: true leaves out a character cut at the end instead of turning it into U+FFFD.
	const text = new TextDecoder().decode(head.subarray(0, kept), { stream: total > kept });
	if (total <= limit) {
		try {
			return recordedValue(JSON.parse(text), limit);
		} catch {
			return recordedValue(text, limit);
		}
	}
	return { body: headThatFits(text, limit), bodyBytes: total, truncated: true };
}
