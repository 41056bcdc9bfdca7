import { createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import worker from "../../src/index";
import { ALERT_CRON } from "../../src/ops/crons";
import { api, call, createRunningFlow, eventually, hook, injectFaults, json, resetPetstore, waitForExecution } from "./helpers";

beforeEach(resetPetstore);

const send = async (flowId: string, petname: string) =>
	((await (await hook(flowId, json({ petname, petstatus: "sold" }))).json()) as { requestId: string }).requestId;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface Stats {
	from: number;
	to: number;
	step: number;
	series: Record<"t" | "received" | "succeeded" | "failed" | "queued", number[]> & Record<"p50Ms" | "p95Ms", (number | null)[]>;
}
const stats = (query: string) => api<Stats>("GET", `/api/stats?${query}`);

describe("per-minute stats kept by the run-log writer", () => {
	it("counts receipts, successes after retries, failures and manual retries; tracks the backlog and latency", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 3 } });
		const since = Date.now() - 60_000;
		await injectFaults([{ status: 503 }]);
		const retried = await send(flowId, "first");
		await waitForExecution(retried, "retrying");
		// While the head is retrying, the backlog is 1.
		const during = await stats(`flowId=${flowId}&from=${since}`);
		expect(Math.max(...during.series.queued)).toBe(1);
		expect(sum(during.series.received)).toBe(1);
		expect(sum(during.series.succeeded) + sum(during.series.failed)).toBe(0);

		const stub = env.FLOW.getByName(flowId);
		await runInDurableObject(stub, (_: FlowObject, state) => state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0"));
		await runDurableObjectAlarm(stub);
		await waitForExecution(retried, "succeeded");
		await injectFaults([{ status: 400 }]);
		const failed = await send(flowId, "second");
		await waitForExecution(failed, "failed");
		await waitForExecution(await send(flowId, "third"), "succeeded");

		const after = await stats(`flowId=${flowId}&from=${since}`);
		expect(after.step).toBe(60_000);
		expect(after.series.t.length).toBe(after.series.received.length);
		expect(after.series.t.every((t, i) => i === 0 || t - (after.series.t[i - 1] ?? 0) === 60_000)).toBe(true);
		expect({ received: sum(after.series.received), succeeded: sum(after.series.succeeded), failed: sum(after.series.failed) }).toEqual({
			received: 3,
			succeeded: 2,
			failed: 1,
		});
		expect(after.series.queued.at(-1)).toBe(0);
		// A latency point for every minute in which an execution finished, p95 at least p50, none longer than the test so far.
		const finishedMinutes = after.series.t.filter((_, i) => (after.series.succeeded[i] ?? 0) + (after.series.failed[i] ?? 0) > 0);
		expect(after.series.t.filter((_, i) => after.series.p50Ms[i] !== null)).toEqual(finishedMinutes);
		expect(after.series.t.filter((_, i) => after.series.p95Ms[i] !== null)).toEqual(finishedMinutes);
		after.series.p50Ms.forEach((p50, i) => {
			if (p50 === null) return;
			expect(p50).toBeGreaterThanOrEqual(0);
			expect(after.series.p95Ms[i]).toBeGreaterThanOrEqual(p50);
			expect(after.series.p95Ms[i]).toBeLessThanOrEqual(Date.now() - since);
		});

		// A manual retry of the failed one that succeeds: one more success, the failure stays counted.
		await api("POST", `/api/executions/${failed}/retry`);
		await waitForExecution(failed, "succeeded");
		const retriedStats = await stats(`flowId=${flowId}&from=${since}`);
		expect([sum(retriedStats.series.received), sum(retriedStats.series.succeeded), sum(retriedStats.series.failed)]).toEqual([3, 3, 1]);

		// The same buckets at an hourly step: one or two points with the same totals.
		const hourly = await stats(`flowId=${flowId}&from=${since}&step=3600000`);
		expect(hourly.series.t.every((t) => t % 3_600_000 === 0)).toBe(true);
		expect([sum(hourly.series.received), sum(hourly.series.succeeded), sum(hourly.series.failed)]).toEqual([3, 3, 1]);

		// All flows together are the sum of every flow.
		const all = await stats(`from=${since}`);
		const { flows } = await api("GET", "/api/flows");
		let perFlow = 0;
		for (const flow of flows) perFlow += sum((await stats(`flowId=${flow.id}&from=${since}`)).series.received);
		expect(sum(all.series.received)).toBe(perFlow);
		expect(perFlow).toBeGreaterThanOrEqual(3);
	});

	it("counts 401s per minute", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "u", password: "right-password" });
		const response = await hook(flowId, {
			...json({ petname: "x", petstatus: "sold" }),
			headers: { authorization: `Basic ${btoa("u:wrong")}` },
		});
		expect(response.status).toBe(401);
		await eventually("the failed authentication in the minute stats", async () => {
			const row = await env.DB.prepare("SELECT sum(auth_failures) AS n FROM stats_minutes WHERE flow_id = ?")
				.bind(flowId)
				.first<{ n: number }>();
			return row?.n === 1;
		});
	});

	it("keeps a week and a day of minutes: the minute cron drops older ones", async () => {
		const now = Date.now();
		const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
		const insert = (at: number) =>
			env.DB.prepare("INSERT INTO stats_minutes (flow_id, minute, received) VALUES ('purge-test', ?, 1)").bind(minute(at)).run();
		await insert(now - 9 * 86_400_000);
		await insert(now - 7 * 86_400_000);
		await worker.scheduled(createScheduledController({ scheduledTime: now, cron: ALERT_CRON }), env);
		const { results } = await env.DB.prepare("SELECT minute FROM stats_minutes WHERE flow_id = 'purge-test'").all<{ minute: number }>();
		expect(results.map((r) => r.minute)).toEqual([minute(now - 7 * 86_400_000)]);
	});

	it("refuses a step that is not whole minutes, too many points and an unknown flow", async () => {
		expect((await call("GET", "/api/stats?step=90000")).status).toBe(400);
		const tooMany = await call("GET", `/api/stats?from=0&to=${7 * 86_400_000}&step=60000`);
		expect(tooMany.status).toBe(400);
		expect(((await tooMany.json()) as { error: { message: string } }).error.message).toContain("larger step");
		expect((await call("GET", "/api/stats?flowId=nope")).status).toBe(404);
	});
});
