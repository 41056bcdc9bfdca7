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

function enabled(level: LogLevel): boolean {
	threshold ??= RANKS[env.LOG_LEVEL ?? "debug"] ?? 0;
	return (RANKS[level] ?? 0) >= threshold;
}

function write(level: LogLevel, line: string): void {
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}

export function log(level: LogLevel, event: string, fields: Fields = {}): void {
	if (enabled(level)) write(level, JSON.stringify({ level, event, ...fields }));
}

/** The fields of the one `hook` line per hook request, in the order they are written. */
export interface HookLine {
	flowId: string;
	requestId: string | null;
	method: string;
	status: number;
	auth: string | null;
	reason?: string;
	handshake?: string;
	bytes: number | null;
	ms: number;
}

const jsonOrNull = (value: string | null) => (value === null ? "null" : JSON.stringify(value));
/** As JSON.stringify writes a number (NaN and ±Infinity as null). */
const jsonNumber = (value: number | null) => (value !== null && Number.isFinite(value) ? String(value) : "null");

/**
 * The `hook` event's line, the same bytes as `log(level, "hook", fields)` writes, built as one string:
 * it is written for every hook request, where the object spread and the generic stringify were a
 * measurable share of the edge Worker's CPU (BENCHMARKS.md).
 */
export function hookLine(level: LogLevel, f: HookLine): string {
	return (
		`{"level":"${level}","event":"hook","flowId":${JSON.stringify(f.flowId)},"requestId":${jsonOrNull(f.requestId)},` +
		`"method":${JSON.stringify(f.method)},"status":${jsonNumber(f.status)},"auth":${jsonOrNull(f.auth)}` +
		(f.reason === undefined ? "" : `,"reason":${JSON.stringify(f.reason)}`) +
		(f.handshake === undefined ? "" : `,"handshake":${JSON.stringify(f.handshake)}`) +
		`,"bytes":${jsonNumber(f.bytes)},"ms":${jsonNumber(f.ms)}}`
	);
}

export function logHook(level: LogLevel, fields: HookLine): void {
	if (enabled(level)) write(level, hookLine(level, fields));
}

/** What a caught value says, for a log field or an error message (whatever was thrown). */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Whether a caught value is an AbortSignal.timeout() firing. */
export function isTimeout(error: unknown): boolean {
	return error instanceof Error && error.name === "TimeoutError";
}
