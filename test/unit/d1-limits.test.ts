import { env } from "cloudflare:workers";
import { getTableColumns, is, Table } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { chunked, D1_MAX_BOUND_PARAMETERS, rowsPerInsert } from "../../src/db/limits";
import * as schema from "../../src/db/schema";
import { linkInserts, REPLAY_CHUNK } from "../../src/ops/replay-jobs";

const tables: Table[] = (Object.values(schema) as unknown[]).filter((value): value is Table => is(value, Table));
const columnsOf = (table: Table) => Object.keys(getTableColumns(table)).length;

describe("D1 statement limits", () => {
	it("rowsPerInsert: as many rows as fit in 100 bound parameters, from the table's column count", () => {
		// replays: execution_id, replay_of, job_id → 33 rows (99 parameters), where a 50-row chunk needed 150.
		expect(columnsOf(schema.replays)).toBe(3);
		expect(rowsPerInsert(schema.replays)).toBe(33);
		expect(rowsPerInsert(schema.replays, 2)).toBe(32);
		expect(tables.length).toBeGreaterThan(5);
		for (const table of tables) {
			const rows = rowsPerInsert(table);
			expect(rows * columnsOf(table)).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
			expect((rows + 1) * columnsOf(table)).toBeGreaterThan(D1_MAX_BOUND_PARAMETERS);
		}
		expect(() => rowsPerInsert(schema.replays, 98)).toThrow("cannot fit one D1 statement");
	});

	it("chunked keeps every row, in order, in runs of at most the size", () => {
		const rows = Array.from({ length: 101 }, (_, i) => i);
		const chunks = chunked(rows, 33);
		expect(chunks.map((c) => c.length)).toEqual([33, 33, 33, 2]);
		expect(chunks.flat()).toEqual(rows);
		expect(chunked([], 33)).toEqual([]);
	});

	it("a bulk-replay chunk's link inserts each bind at most 100 parameters and carry every link", () => {
		const links = Array.from({ length: REPLAY_CHUNK }, (_, i) => ({
			executionId: `r${i}`.padEnd(32, "0"),
			replayOf: `o${i}`.padEnd(32, "0"),
			jobId: "j".repeat(32),
		}));
		const statements = linkInserts(getDb(env.DB), links).map((statement) => statement.toSQL());
		expect(statements.length).toBe(Math.ceil(REPLAY_CHUNK / 33));
		for (const { params } of statements) expect(params.length).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
		expect(statements.flatMap(({ params }) => params)).toEqual(links.flatMap((l) => [l.executionId, l.replayOf, l.jobId]));
	});
});
