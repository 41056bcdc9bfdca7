/**
 * @module
 * Run-log search conditions, shared by the executions list and bulk replay. Time, status
 * and version use the (flow, status|version, received_at) indexes; a field, id or text filter is
 * evaluated on the rows those leave, newest first, until a page is full.
 */
import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { D1_MAX_LIKE_PATTERN_BYTES } from "../limits";
import { type ExecutionStatus, executions } from "../schema";

export interface RunLogFilters {
	/** Epoch ms, inclusive. */
	from?: number;
	/** Epoch ms, exclusive. */
	to?: number;
	status?: ExecutionStatus;
	version?: number;
	/** The execution id, or the request id / webhook-id / idempotency-key the sender gave. */
	id?: string;
	/** A dotted path into the input (`petname`, `customer.address.city`, `items.0.sku`); needs `value`. */
	field?: string;
	value?: string;
	/** Contained in the input's JSON text, ignoring ASCII case. */
	text?: string;
}

/** `customer.items.0` → `$."customer"."items"[0]`: each name quoted, so any key works. */
export function jsonPath(field: string): string {
	return `$${field
		.split(".")
		.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `."${part.replaceAll('"', '\\"')}"`))
		.join("")}`;
}

/** Whether JSON writes the string as it is (nothing in it needs escaping). */
const writtenAsIs = (value: string) => value.length > 0 && JSON.stringify(value) === `"${value}"`;

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

/**
 * The input's JSON text contains `text`, ignoring ASCII case. LIKE does that without copying the
 * row, but D1 refuses a pattern over 50 bytes (escapes and the two `%` included): a longer text is
 * matched by LIKE on its longest prefix that fits, which skips most rows cheaply, and then in full
 * by instr() on lower() (which, like LIKE, folds ASCII only).
 */
function containsText(input: typeof executions.input, text: string): SQL {
	let pattern = "%";
	let bytes = 2; // both `%`
	let whole = true;
	for (const char of text) {
		const escaped = likeEscape(char);
		bytes += utf8Bytes(escaped);
		if (bytes > D1_MAX_LIKE_PATTERN_BYTES) {
			whole = false;
			break;
		}
		pattern += escaped;
	}
	const like = sql`${input} LIKE ${`${pattern}%`} ESCAPE '\\'`;
	return whole ? like : sql`(${like} AND instr(lower(${input}), lower(${text})) > 0)`;
}

export function runLogConditions(flowId: string, filters: RunLogFilters): SQL | undefined {
	const input = executions.input;
	const conditions: (SQL | undefined)[] = [eq(executions.flowId, flowId)];
	if (filters.from !== undefined) conditions.push(gte(executions.receivedAt, filters.from));
	if (filters.to !== undefined) conditions.push(lt(executions.receivedAt, filters.to));
	if (filters.status !== undefined) conditions.push(eq(executions.status, filters.status));
	if (filters.version !== undefined) conditions.push(eq(executions.version, filters.version));
	if (filters.id !== undefined) {
		const id = filters.id;
		conditions.push(sql`(${executions.id} = ${id.toLowerCase()}
			OR json_extract(${input}, '$._headers."x-request-id"') = ${id}
			OR json_extract(${input}, '$._headers."webhook-id"') = ${id}
			OR json_extract(${input}, '$._headers."idempotency-key"') = ${id})`);
	}
	if (filters.field !== undefined && filters.value !== undefined) {
		const path = jsonPath(filters.field);
		// One JSON lookup per row: -> gives the value as JSON text, so a string matches quoted ("Gromit")
		// and a number, boolean or null as written (42, true, null).
		const matches = sql`${input} -> ${path} IN (json_quote(${filters.value}), ${filters.value})`;
		// A value JSON writes as it is must appear in the stored text: a plain substring check first skips
		// most rows without parsing them (about twice as fast over a large run log).
		conditions.push(writtenAsIs(filters.value) ? sql`(instr(${input}, ${filters.value}) > 0 AND ${matches})` : matches);
	}
	if (filters.text !== undefined) conditions.push(containsText(input, filters.text));
	return and(...conditions);
}

declare module "../schema" {
	interface JsonColumns {
		/** jobs.filters: the run-log search a bulk replay acts on. */
		runLogFilters: RunLogFilters;
	}
}
