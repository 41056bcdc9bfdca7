/**
 * @module
 * "Send sample request": one open one-time URL per flow, kept in the flow's main object. The
 * token is stored hashed; the designer long-polls for the sample.
 */
import { randomBase64Url, toHex, utf8 } from "../crypto/encoding";
import type { Message } from "../flows/message";

const SAMPLE_REQUEST_TTL_MS = 10 * 60_000;

const sha256Hex = async (text: string) => toHex(await crypto.subtle.digest("SHA-256", utf8.encode(text)));

export class SampleRequests {
	readonly #sql: SqlStorage;
	readonly #waiters = new Set<() => void>();

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	static readonly schema =
		"CREATE TABLE IF NOT EXISTS sample_requests (token_hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, sample TEXT);";

	/** Opens a new request; the previous one, if any, is closed. */
	async create(): Promise<{ token: string; expiresAt: number }> {
		const token = randomBase64Url(24);
		const expiresAt = Date.now() + SAMPLE_REQUEST_TTL_MS;
		this.#sql.exec("DELETE FROM sample_requests");
		this.#sql.exec("INSERT INTO sample_requests (token_hash, expires_at) VALUES (?, ?)", await sha256Hex(token), expiresAt);
		return { token, expiresAt };
	}

	/** One use: only an open, unexpired request takes a sample. */
	async deliver(token: string, message: Message): Promise<boolean> {
		const hash = await sha256Hex(token);
		const updated = this.#sql.exec(
			"UPDATE sample_requests SET sample = ? WHERE token_hash = ? AND sample IS NULL AND expires_at > ?",
			JSON.stringify(message),
			hash,
			Date.now(),
		).rowsWritten;
		if (updated === 0) return false;
		for (const wake of this.#waiters) wake();
		return true;
	}

	/** Long-poll: the sample once it has arrived, or null after `waitMs`. */
	async await(waitMs: number): Promise<{ sample: Message | null; expiresAt: number | null }> {
		const read = () =>
			this.#sql.exec<{ sample: string | null; expires_at: number }>("SELECT sample, expires_at FROM sample_requests").toArray()[0];
		let row = read();
		if (row && row.sample === null && row.expires_at > Date.now() && waitMs > 0) {
			await new Promise<void>((resolve) => {
				const wake = () => {
					clearTimeout(timer);
					this.#waiters.delete(wake);
					resolve();
				};
				const timer = setTimeout(wake, Math.min(waitMs, row ? row.expires_at - Date.now() : 0));
				this.#waiters.add(wake);
			});
			row = read();
		}
		return { sample: row?.sample ? (JSON.parse(row.sample as string) as Message) : null, expiresAt: row ? Number(row.expires_at) : null };
	}
}
