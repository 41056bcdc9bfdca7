/**
 * @module
 * D1's per-statement limits, and the arithmetic that keeps a multi-row statement inside them.
 * Local workerd enforces the same ones, so a statement that breaks one fails in the tests too.
 */
import { getTableColumns, type Table } from "drizzle-orm";

/** D1 refuses a statement with more bound parameters than this ("too many SQL variables"). */
export const D1_MAX_BOUND_PARAMETERS = 100;

/** D1's longest LIKE/GLOB pattern, in UTF-8 bytes ("LIKE or GLOB pattern too complex" past it). */
export const D1_MAX_LIKE_PATTERN_BYTES = 50;

/**
 * How many rows one INSERT into `table` may carry: every column counts as a bound parameter
 * (drizzle binds each value given), and `reserved` are taken by the rest of the statement.
 */
export function rowsPerInsert(table: Table, reserved = 0): number {
	const columns = Object.keys(getTableColumns(table)).length;
	const rows = Math.floor((D1_MAX_BOUND_PARAMETERS - reserved) / columns);
	if (rows < 1) throw new Error(`One row of ${columns} columns and ${reserved} more parameters cannot fit one D1 statement`);
	return rows;
}

/** `rows` in runs of at most `size`, in order. */
export function chunked<T>(rows: readonly T[], size: number): T[][] {
	const chunks: T[][] = [];
	for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
	return chunks;
}
