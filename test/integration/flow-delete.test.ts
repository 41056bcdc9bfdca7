import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import worker from "../../src/index";
import {
	consume,
	createDeliveryFlow,
	type DeliveryFlow,
	injectFaults,
	objectNames,
	pet,
	queueMessage,
	send,
	stub,
	waitForCounters,
} from "./delivery-support";
import { call, createRunningFlow, eventually, resetPetstore } from "./helpers";

beforeEach(resetPetstore);

/** What D1 still holds about a flow, table by table. */
async function d1Rows(flowId: string, executionIds: readonly string[]): Promise<Record<string, number>> {
	const count = async (query: string, ...params: unknown[]) =>
		Number(
			(
				await env.DB.prepare(query)
					.bind(...params)
					.first<{ n: number }>()
			)?.n ?? 0,
		);
	const ids = JSON.stringify(executionIds);
	return {
		executions: await count(
			"SELECT count(*) AS n FROM executions WHERE flow_id = ? OR id IN (SELECT value FROM json_each(?))",
			flowId,
			ids,
		),
		attempts: await count("SELECT count(*) AS n FROM attempts WHERE execution_id IN (SELECT value FROM json_each(?))", ids),
		replays: await count(
			"SELECT count(*) AS n FROM replays WHERE execution_id IN (SELECT value FROM json_each(?1)) OR replay_of IN (SELECT value FROM json_each(?1))",
			ids,
		),
		statsMinutes: await count("SELECT count(*) AS n FROM stats_minutes WHERE flow_id = ?", flowId),
		statsLatency: await count("SELECT count(*) AS n FROM stats_latency WHERE flow_id = ?", flowId),
		flowTotals: await count("SELECT count(*) AS n FROM flow_totals WHERE flow_id = ?", flowId),
		failureEvents: await count("SELECT count(*) AS n FROM failure_events WHERE flow_id = ?", flowId),
		alertState: await count("SELECT count(*) AS n FROM alert_state WHERE flow_id = ?", flowId),
		versions: await count("SELECT count(*) AS n FROM flow_versions WHERE flow_id = ?", flowId),
	};
}

const NOTHING_LEFT = {
	executions: 0,
	attempts: 0,
	replays: 0,
	statsMinutes: 0,
	statsLatency: 0,
	flowTotals: 0,
	failureEvents: 0,
	alertState: 0,
	versions: 0,
};

/** Executions still held in the flow's objects (inbox, outbox, staged payloads). */
async function objectRows(flow: DeliveryFlow): Promise<number> {
	let rows = 0;
	for (const name of objectNames(flow))
		rows += await runInDurableObject(stub(name), (_: FlowObject, state) =>
			["inbox", "outbox", "staged", "seen"].reduce(
				(sum, table) => sum + Number(state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n),
				0,
			),
		);
	return rows;
}

/** An alert target watching the flow, with alert state for it (what the alert cron would have left). */
async function addAlertState(flowId: string): Promise<void> {
	const targetId = crypto.randomUUID();
	await env.DB.batch([
		env.DB.prepare(
			"INSERT INTO alert_targets (id, url, format, thresholds, origin, created_at, updated_at) VALUES (?, 'https://alerts.example/hook', 'slack', '{\"lagSeconds\":60,\"authFailures\":10}', 'http://hookflow.test', 0, 0)",
		).bind(targetId),
		env.DB.prepare(
			"INSERT INTO alert_state (target_id, flow_id, kind, active, pending, cursor) VALUES (?, ?, 'execution.failed', 1, 2, 3)",
		).bind(targetId, flowId),
	]);
}

describe("deleting a flow", () => {
	it("leaves no run log, attempts, replay links, stats or alert state, and the queue's backlog does not bring it back", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 4 });
		// Some history: failed executions (attempts, failure events, stats), a replay link, alert state.
		await injectFaults(Array.from({ length: 4 }, () => ({ status: 400 })));
		const done = await Promise.all(["ann", "bob", "cy", "dee"].map((owner) => send(flow.flowId, pet(`${owner}-1`, owner))));
		await waitForCounters(flow.flowId, { failed: 4, queued: 0 });
		await env.DB.prepare("INSERT INTO replays (execution_id, replay_of, job_id) VALUES (?, ?, 'job')").bind("f".repeat(32), done[0]).run();
		await addAlertState(flow.flowId);
		// Pending executions in every shard, held by a pause.
		expect((await call("POST", `/api/flows/${flow.flowId}/pause`)).status).toBe(200);
		const pending = await Promise.all(Array.from({ length: 20 }, (_, i) => send(flow.flowId, pet(`p-${i}`, `owner${i % 8}`))));
		await waitForCounters(flow.flowId, { queued: 20 });
		const before = await d1Rows(flow.flowId, [...done, ...pending]);
		expect(before.executions).toBe(24);
		expect(before.alertState).toBe(1);

		expect((await call("DELETE", `/api/flows/${flow.flowId}`)).status).toBe(204);
		// Still in the queue when the flow went: handed over afterwards, acked, recorded nowhere.
		const late = Array.from({ length: 6 }, (_, i) => queueMessage(flow.flowId, Date.now(), pet(`late-${i}`, `owner${i}`)));
		const result = await consume(late);
		expect(result.explicitAcks).toHaveLength(6);
		expect(result.retryMessages).toEqual([]);

		// And what exhausted its queue retries meanwhile: not recorded as failed executions either.
		const dead = Array.from({ length: 3 }, (_, i) => queueMessage(flow.flowId, Date.now(), pet(`dead-${i}`, `owner${i}`)));
		const deadBatch = createMessageBatch("hookflow-executions-dlq", dead);
		const ctx = createExecutionContext();
		await (worker as ExportedHandler<Env>).queue?.(deadBatch, env, ctx);
		expect((await getQueueResult(deadBatch, ctx)).explicitAcks).toHaveLength(3);

		const ids = [...done, ...pending, ...late.map((m) => m.body.id), ...dead.map((m) => m.body.id)];
		expect(await d1Rows(flow.flowId, ids)).toEqual(NOTHING_LEFT);
		for (const id of ids) expect((await call("GET", `/api/executions/${id}`)).status).toBe(404);
		expect((await call("GET", `/api/flows/${flow.flowId}`)).status).toBe(404);
		expect(await objectRows(flow)).toBe(0);
	});

	it("60 hooks, then DELETE at once: none of them reappears as an execution", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 3 });
		const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => send(flow.flowId, pet(`n-${i}`, `o${i % 7}`))));
		expect((await call("DELETE", `/api/flows/${flow.flowId}`)).status).toBe(204);
		// The queue hands the hooks over after the delete; a hook sent after them to another flow marks when it has.
		const marker = await createRunningFlow();
		const markerId = await send(marker.flowId, { petname: "marker", petstatus: "sold" });
		await eventually("the marker to be delivered", async () => {
			const response = await call("GET", `/api/executions/${markerId}`);
			return response.status === 200 && ((await response.json()) as { execution: { status: string } }).execution.status === "succeeded";
		});
		await eventually("the deleted flow's objects to be idle", async () => (await objectRows(flow)) === 0);
		expect(await d1Rows(flow.flowId, ids)).toEqual(NOTHING_LEFT);
		for (const id of ids.slice(0, 10)) expect((await call("GET", `/api/executions/${id}`)).status).toBe(404);
	});
});
