// Run-log search: 100k executions of one flow written straight into D1 (shaped like the hook's
// messages), then the admin API's search (GET /api/flows/:id/executions with a field filter)
// timed end to end over HTTP on the built bundle. Part of `npm run bench`.
import { ADMIN_TOKEN, applyMigrations, createHmacFlow, hookflowWorker, type WranglerConfig } from "./hookflow.ts";
import { type D1Like, startRuntime } from "./runtime.ts";

export const SEARCH_ROWS = 100_000;
const INSERT_ROWS_PER_STATEMENT = 2_000;
/** One execution in this many is Gromit: a page of 20 matches sits among the newest 20 000 rows. */
const GROMIT_EVERY = 1_000;
const RUNS = 15;

export interface SearchResult {
	rows: number;
	/** Median ms of the field search `petname = Gromit`, first page of 20. */
	fieldMs: number;
	/** Median ms of a field search that matches nothing: every row of the flow is looked at. */
	noMatchMs: number;
	/** Median ms of a text search (contained in the input), first page. */
	textMs: number;
	/** Median ms of the first page with status + time range only (indexed). */
	statusRangeMs: number;
}

export interface SearchOptions {
	config: WranglerConfig;
	bundleDir: string;
	migrationsDir: string;
	petstoreUrl: string;
	onStarted?: (dispose: () => Promise<void>) => void;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function input(i: number): string {
	const petname = i % GROMIT_EVERY === 0 ? "Gromit" : `pet-${i}`;
	return JSON.stringify({
		petname,
		petstatus: i % 3 === 0 ? "sold" : "available",
		note: `order ${i} from the bench`,
		_method: "POST",
		_url: "https://hookflow.example/hook/bench",
		_headers: { "content-type": "application/json", "user-agent": "bench/1", "x-request-id": i.toString(16).padStart(32, "0") },
	});
}

async function fill(db: D1Like, flowId: string, now: number): Promise<void> {
	const statements: unknown[] = [];
	for (let start = 0; start < SEARCH_ROWS; start += INSERT_ROWS_PER_STATEMENT) {
		const rows = Array.from({ length: Math.min(INSERT_ROWS_PER_STATEMENT, SEARCH_ROWS - start) }, (_, k) => {
			const i = start + k;
			const at = now - (SEARCH_ROWS - i) * 1_000;
			return { id: i.toString(16).padStart(32, "0"), at, status: i % 50 === 0 ? "failed" : "succeeded", input: input(i) };
		});
		const statement = db.prepare(
			`INSERT INTO executions (id, flow_id, version, status, received_at, finished_at, attempt_count, duration_ms, input)
			SELECT json_extract(value, '$.id'), ?1, 1, json_extract(value, '$.status'), json_extract(value, '$.at'),
				json_extract(value, '$.at') + 40, 1, 40, json_extract(value, '$.input')
			FROM json_each(?2)`,
		) as { bind(...values: unknown[]): unknown };
		statements.push(statement.bind(flowId, JSON.stringify(rows)));
	}
	for (let i = 0; i < statements.length; i += 10) await db.batch(statements.slice(i, i + 10));
}

export async function measureSearch(o: SearchOptions): Promise<SearchResult> {
	const rt = await startRuntime([hookflowWorker(o.config, { bundleDir: o.bundleDir, petstoreUrl: o.petstoreUrl, deliver: false })]);
	o.onStarted?.(() => rt.dispose());
	try {
		await applyMigrations(rt.mf, o.migrationsDir);
		const origin = await rt.url("hookflow");
		const flowId = await createHmacFlow(origin, "bench search");
		const now = Date.now();
		await fill(await rt.mf.getD1Database("DB", "hookflow"), flowId, now);
		const timed = async (query: string, expectRows: number): Promise<number> => {
			const times: number[] = [];
			for (let run = 0; run < RUNS + 2; run++) {
				const startedAt = performance.now();
				const response = await fetch(`${origin}/api/flows/${flowId}/executions?${query}`, {
					headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
				});
				const body = (await response.json()) as { executions?: unknown[] };
				const ms = performance.now() - startedAt;
				if (!response.ok || body.executions?.length !== expectRows)
					throw new Error(`search ${query} answered ${response.status} with ${body.executions?.length} rows, expected ${expectRows}`);
				// The first two warm the isolate and SQLite's page cache.
				if (run >= 2) times.push(ms);
			}
			return median(times);
		};
		return {
			rows: SEARCH_ROWS,
			fieldMs: await timed("field=petname&value=Gromit&limit=20", 20),
			noMatchMs: await timed("field=petname&value=Nobody&limit=20", 0),
			textMs: await timed("text=order%2099999%20&limit=20", 1),
			statusRangeMs: await timed(`status=failed&from=${now - 3_600_000}&to=${now}&limit=20`, 20),
		};
	} finally {
		await rt.dispose();
	}
}
