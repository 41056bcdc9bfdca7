/**
 * The one structured log line: a JSON object per event, so `wrangler tail --format json` and
 * Workers Logs can filter on fields. Callers pass ids, statuses and timings only — never
 * secrets or payload bodies.
 */

type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, string | number | boolean | null | undefined>;

export function log(level: Level, event: string, fields: Fields = {}): void {
	const line = JSON.stringify({ level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
