// The retention purge at its edges (issue 21, promise 8): more than one run's worth of rows, a
// setting that is not a number of days, and what a purged payload means for retries. Its own file:
// the counts below are exact only in a D1 no other test writes to.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { RETENTION_BATCH_ROWS } from "../../src/ops/retention";
import { api, call, captureLogs, createRunningFlow, eventually } from "./helpers";

const DAY_MS = 86_400_000;
const HOURLY = "17 * * * *";
/** Statements per kind in one run (src/ops/retention.ts): one run deletes at most this many rows. */
const ONE_RUN = 20 * RETENTION_BATCH_ROWS;

/** `count` finished executions received `ageDays` ago, with bodies, made by one statement. */
async function seed(prefix: string, count: number, ageDays: number, flowId = "retention-flow", status = "succeeded") {
	const body = JSON.stringify({ petname: "Gromit", petstatus: "sold" });
	await env.DB.prepare(
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
		INSERT INTO executions (id, flow_id, version, status, received_at, finished_at, attempt_count, input, request, response)
		SELECT ?2 || printf('%0' || (32 - length(?2)) || 'd', i), ?3, 1, ?4, ?5, ?5, 1, ?6, ?6, ?6 FROM n`,
	)
		.bind(count, prefix, flowId, status, Date.now() - ageDays * DAY_MS, body)
		.run();
	return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(32 - prefix.length, "0")}`);
}

const countWhere = (where: string, ...values: unknown[]) =>
	env.DB.prepare(`SELECT count(*) AS n FROM executions WHERE ${where}`)
		.bind(...values)
		.first<number>("n");

async function purge(overrides: Partial<Env> = {}) {
	const logs = captureLogs();
	await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: HOURLY }), { ...env, ...overrides });
	return logs.lines();
}

describe("retention edges", () => {
	it("more expired rows than one run takes: the run says complete:false and the next run finishes the job", async () => {
		await seed("e1", ONE_RUN + 50, 40);
		await seed("e2", 10, 10);

		const first = (await purge()).find((l) => l.event === "retention");
		// The 50 expired rows left over still had their bodies: the payload purge cleared them with the 10.
		expect(first).toMatchObject({ level: "warn", executionsDeleted: ONE_RUN, payloadsCleared: 60, complete: false });
		expect(await countWhere("id LIKE 'e1%'")).toBe(50);
		expect(await countWhere("id LIKE 'e2%' AND input IS NULL AND request IS NULL AND response IS NULL")).toBe(10);

		const second = (await purge()).find((l) => l.event === "retention");
		expect(second).toMatchObject({ level: "info", executionsDeleted: 50, payloadsCleared: 0, complete: true });
		expect(await countWhere("id LIKE 'e1%'")).toBe(0);
		expect(await countWhere("id LIKE 'e2%'")).toBe(10);

		const third = (await purge()).find((l) => l.event === "retention");
		expect(third).toMatchObject({ executionsDeleted: 0, payloadsCleared: 0, complete: true });
	});

	it("an invalid setting skips that purge and says so; the other purge still runs", async () => {
		const old = await seed("i1", 3, 40);
		for (const value of ["thirty", "0", "-5", ""]) {
			const lines = await purge({ RETENTION_DAYS: value });
			expect(
				lines.find((l) => l.event === "retention.invalid_setting"),
				value,
			).toMatchObject({
				level: "error",
				name: "RETENTION_DAYS",
				value,
			});
			expect(lines.find((l) => l.event === "retention")).toMatchObject({ executionsDeleted: 0 });
			// Nothing deleted on a guess; the payload purge (PAYLOAD_RETENTION_DAYS = 7) still cleared the bodies.
			expect(await countWhere("id LIKE 'i1%'")).toBe(old.length);
			expect(await countWhere("id LIKE 'i1%' AND input IS NOT NULL")).toBe(0);
		}
		const lines = await purge({ PAYLOAD_RETENTION_DAYS: "a week" });
		expect(lines.find((l) => l.event === "retention.invalid_setting")).toMatchObject({ name: "PAYLOAD_RETENTION_DAYS", value: "a week" });
		expect(lines.find((l) => l.event === "retention")).toMatchObject({ executionsDeleted: 3, payloadsCleared: 0, complete: true });
		expect(await countWhere("id LIKE 'i1%'")).toBe(0);
	});

	it("a failed execution whose payload was purged answers 409 to a retry, and bulk retries skip it", async () => {
		const flow = await createRunningFlow();
		const [purged] = await seed("p1", 1, 10, flow.flowId, "failed");
		await purge();
		const { execution } = await api("GET", `/api/executions/${purged}`);
		expect(execution).toMatchObject({ status: "failed", input: null, request: null, response: null });

		const retry = await call("POST", `/api/executions/${purged}/retry`);
		expect(retry.status).toBe(409);
		expect(((await retry.json()) as { error: { message: string } }).error.message).toBe(
			"This execution's payload was purged by the retention policy, so it cannot be retried",
		);
		expect(await api("POST", `/api/flows/${flow.flowId}/retry-failed`)).toEqual({ retried: 0 });
		const { jobId } = await api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "retryFailed", filters: {} });
		const job = await eventually("the retryFailed job to finish", async () => {
			const current = await api<{ state: string; done: number; skipped: number }>("GET", `/api/jobs/${jobId}`);
			return current.state !== "running" ? current : undefined;
		});
		expect(job).toMatchObject({ state: "done", done: 1, skipped: 1 });
		expect((await api("GET", `/api/executions/${purged}`)).execution).toMatchObject({ status: "failed", attempts: [] });
	});
});
