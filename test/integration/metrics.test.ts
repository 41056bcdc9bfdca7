import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { api, call, createRunningFlow, eventually, hook, injectFaults, json, resetPetstore, waitForExecution } from "./helpers";

beforeEach(resetPetstore);

const send = async (flowId: string, petname: string, petstatus = "sold") =>
	((await (await hook(flowId, json({ petname, petstatus }))).json()) as { requestId: string }).requestId;

async function metrics(): Promise<string> {
	const response = await call("GET", "/api/metrics");
	expect(response.status).toBe(200);
	expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
	return response.text();
}

/** The samples of one metric: `{labels or "" → value}`. */
function samples(text: string, name: string): Map<string, number> {
	const out = new Map<string, number>();
	for (const line of text.split("\n")) {
		const match = /^([a-z_]+)(\{.*\})? (\d+)$/.exec(line);
		if (match?.[1] === name) out.set(match[2] ?? "", Number(match[3]));
	}
	return out;
}

describe("GET /api/metrics", () => {
	it("is behind the admin token", async () => {
		expect((await call("GET", "/api/metrics", undefined, { authorization: "" })).status).toBe(401);
	});

	it("serves the exact per-flow text, and totals that add up over all flows", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "u", password: "right-password" });
		await api("PATCH", `/api/flows/${flowId}`, { name: 'Orders "EU"' });
		const auth = { authorization: `Basic ${btoa("u:right-password")}` };
		const sendAuthed = async (petname: string, petstatus: string) =>
			(
				(await (await hook(flowId, { ...json({ petname, petstatus }), headers: { ...json({}).headers, ...auth } })).json()) as {
					requestId: string;
				}
			).requestId;
		await waitForExecution(await sendAuthed("a", "sold"), "succeeded");
		await waitForExecution(await sendAuthed("b", "sold"), "succeeded");
		await waitForExecution(await sendAuthed("c", "Unknown"), "failed");
		expect((await hook(flowId, { ...json({ petname: "x" }), headers: { authorization: `Basic ${btoa("u:wrong")}` } })).status).toBe(401);
		await eventually("the failed authentication in the metrics", async () =>
			(await metrics()).includes(`hookflow_flow_auth_failures_total{flow_id="${flowId}",flow_name="Orders \\"EU\\""} 1`),
		);

		const text = await metrics();
		const labels = `{flow_id="${flowId}",flow_name="Orders \\"EU\\""}`;
		expect(text.split("\n").filter((line) => line.includes(`flow_id="${flowId}"`))).toEqual([
			`hookflow_flow_executions_received_total${labels} 3`,
			`hookflow_flow_executions_succeeded_total${labels} 2`,
			`hookflow_flow_executions_failed_total${labels} 1`,
			`hookflow_flow_executions_queued${labels} 0`,
			`hookflow_flow_oldest_queued_age_seconds${labels} 0`,
			`hookflow_flow_auth_failures_total${labels} 1`,
		]);
		expect(text).toContain(
			"# HELP hookflow_executions_received_total Executions accepted, all flows.\n# TYPE hookflow_executions_received_total counter\n",
		);
		for (const name of ["executions_received_total", "executions_failed_total", "auth_failures_total"]) {
			const total = samples(text, `hookflow_${name}`).get("");
			const perFlow = [...samples(text, `hookflow_flow_${name}`).values()].reduce((a, b) => a + b, 0);
			expect(total).toBe(perFlow);
		}
	});

	it("shows a waiting execution as queued with its age", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 3_600_000, maxAttempts: 2 } });
		await injectFaults([{ status: 503 }]);
		const stuck = await send(flowId, "stuck");
		const { receivedAt } = await waitForExecution(stuck, "retrying");
		const askedAt = Date.now();
		const text = await metrics();
		const answeredAt = Date.now();
		const queued = [...samples(text, "hookflow_flow_executions_queued")].find(([labels]) => labels.includes(flowId));
		expect(queued?.[1]).toBe(1);
		// Whole seconds since the waiting execution was received, as of the moment the text was made.
		const ages = samples(text, "hookflow_flow_oldest_queued_age_seconds");
		const age = [...ages].find(([labels]) => labels.includes(flowId))?.[1];
		const secondsSince = (now: number) => Math.floor((now - Date.parse(receivedAt)) / 1000);
		expect(age).toBeGreaterThanOrEqual(secondsSince(askedAt));
		expect(age).toBeLessThanOrEqual(secondsSince(answeredAt));
		// The total is the oldest over every flow.
		expect(samples(text, "hookflow_oldest_queued_age_seconds").get("")).toBe(Math.max(...ages.values()));
		// Let the retry through so no alarm is left for later tests.
		const stub = env.FLOW.getByName(flowId);
		await runInDurableObject(stub, (_: FlowObject, state) => state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0"));
		await runDurableObjectAlarm(stub);
		await waitForExecution(stuck, "succeeded");
		const after = [...samples(await metrics(), "hookflow_flow_executions_queued")].find(([labels]) => labels.includes(flowId));
		expect(after?.[1]).toBe(0);
	});
});
