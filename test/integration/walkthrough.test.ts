import { beforeEach, describe, expect, it } from "vitest";
import { api, call, createRunningFlow, hook, ONE_SUCCEEDED, petstoreRequests, resetPetstore, waitForExecution } from "./helpers";

beforeEach(resetPetstore);

describe("hook → queue → flow object → Petstore", () => {
	it("creates the pet for the tutorial's request and logs a succeeded execution", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "user", password: "pass" });
		const response = await hook(flowId, {
			headers: { "content-type": "application/json", authorization: `Basic ${btoa("user:pass")}` },
			body: JSON.stringify({ petname: "Gromit", petstatus: "Sold" }),
		});
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toContain("application/json");
		const reply = (await response.json()) as { requestId: string; message: string };
		expect(reply.message).toBe("thank you");
		expect(reply.requestId).toMatch(/^[0-9a-f]{32}$/);
		expect(response.headers.get("x-request-id")).toBe(reply.requestId);

		const execution = await waitForExecution(reply.requestId, "succeeded");
		expect(execution.request).toMatchObject({ method: "POST", body: { name: "Gromit", status: "sold" } });
		expect(execution.response.status).toBe(200);
		expect(execution.attempts).toHaveLength(1);
		expect(execution.input).toMatchObject({ petname: "Gromit", petstatus: "Sold", _method: "POST" });
		expect(execution.input._headers.authorization).toBeUndefined();

		const { requests } = await petstoreRequests();
		const creates = requests.filter((r) => r.method === "POST" && r.path === "/v2/pet");
		expect(creates).toHaveLength(1);
		expect(creates[0]?.body).toEqual({ name: "Gromit", status: "sold" });
		expect(creates[0]?.idempotencyKey).toBe(reply.requestId);

		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters).toEqual(ONE_SUCCEEDED);
		const log = await api("GET", `/api/flows/${flowId}/executions`);
		expect(log.executions.map((e: { id: string }) => e.id)).toEqual([reply.requestId]);
		expect((await call("GET", `/api/flows/${flowId}`, undefined, { authorization: "Bearer wrong" })).status).toBe(401);
	});
});
