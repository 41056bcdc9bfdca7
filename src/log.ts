/**
 * @module
 * The one structured log line: a JSON object per event, so `wrangler tail --format json` and
 * Workers Logs can filter on fields. Callers pass ids, statuses and timings only — never
 * secrets or payload bodies.
 *
 * `LOG_LEVEL` (`debug`, `info`, `warn`, `error` or `silent`) drops the lines below it; an unknown
 * value keeps them all, so a typo never hides a problem. The tests run `silent`; a test that reads
 * log lines turns them on with `setLogLevel`.
 */
import { env } from "cloudflare:workers";

export type LogLevel = "debug" | "info" | "warn" | "error";
type Fields = Record<string, string | number | boolean | null | undefined>;

const RANKS: Readonly<Record<string, number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

let threshold: number | undefined;

/** Overrides `LOG_LEVEL` in this isolate (`undefined` goes back to it); for tests that read log lines. */
export function setLogLevel(level: LogLevel | "silent" | undefined): void {
	threshold = level === undefined ? undefined : RANKS[level];
}

export function log(level: LogLevel, event: string, fields: Fields = {}): void {
	threshold ??= RANKS[env.LOG_LEVEL ?? "debug"] ?? 0;
	if ((RANKS[level] ?? 0) < threshold) return;
	const line = JSON.stringify({ level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}

/** What a caught value says, for a log field or an error message (whatever was thrown). */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Whether a caught value is an AbortSignal.timeout() firing. */
export function isTimeout(error: unknown): boolean {
	return error instanceof Error && error.name === "TimeoutError";
}
