import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { FlowObject } from "../../src/delivery/flow-object";
import worker from "../../src/index";
import type { AlertMessage } from "../../src/ops/alerts";
import { ALERT_CRON } from "../../src/ops/crons";
import { api, call, createRunningFlow, eventually, hook, injectFaults, json, resetPetstore, waitForExecution } from "./helpers";

const receiver = env.ALERT_RECEIVER_URL;
const MINUTE = 60_000;

interface Received {
	path: string;
	headers: Record<string, string>;
	body: string;
}

let pathCount = 0;
/** A fresh receiver path per target, so each test reads only its own alerts. */
const newPath = () => `/alerts/${Date.now()}-${pathCount++}`;
const received = async (path: string): Promise<Received[]> => (await fetch(`${receiver}/__control/requests?path=${path}`)).json();
const receiverFaults = (path: string, responses: unknown[]) =>
	fetch(`${receiver}/__control/faults`, { method: "POST", body: JSON.stringify({ path, responses }) });
const send = async (flowId: string, petname: string, petstatus = "sold") =>
	((await (await hook(flowId, json({ petname, petstatus }))).json()) as { requestId: string }).requestId;

/** The minute cron at `at` (the alert checks take the time from the controller). */
const tick = (at: number) => worker.scheduled(createScheduledController({ scheduledTime: at, cron: ALERT_CRON }), env);

async function addTarget(body: Record<string, unknown>) {
	const path = newPath();
	const created = await api<{ alertTarget: { id: string }; secret: string | null }>("POST", "/api/alert-targets", {
		url: `${receiver}${path}`,
		...body,
	});
	return { path, id: created.alertTarget.id, secret: created.secret };
}

/** Verifies like a receiver would, with the standardwebhooks library; returns the event. */
function verified(secret: string, request: Received): { type: string; data: Record<string, any> } {
	return new Webhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, any> };
}

beforeEach(resetPetstore);

describe("alert targets API", () => {
	it("shows the whsec_ secret once, never again, and validates input", async () => {
		const { id, secret } = await addTarget({ format: "standardWebhooks" });
		expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
		const listed = await api<{ alertTargets: Record<string, unknown>[] }>("GET", "/api/alert-targets");
		expect(listed).toMatchObject({
			events: ["execution.failed", "flow.lagging", "flow.auth_failures", "flow.recovered"],
			formats: ["standardWebhooks", "slack"],
			thresholds: { lagSeconds: 300, authFailures: 20 },
		});
		const mine = listed.alertTargets.find((t) => t.id === id);
		expect(mine).toMatchObject({ format: "standardWebhooks", flowId: null, thresholds: { lagSeconds: 300, authFailures: 20 } });
		expect(JSON.stringify(listed)).not.toContain((secret ?? "").slice(6));
		const bad = await call("POST", "/api/alert-targets", { url: "ftp://x", format: "email" });
		expect(bad.status).toBe(400);
		expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/url.*format|format.*url/s);
		expect((await call("DELETE", `/api/alert-targets/${id}`)).status).toBe(204);
		expect((await call("DELETE", `/api/alert-targets/${id}`)).status).toBe(404);
	});

	it("sends a signed test alert and records the last delivery status, in both formats", async () => {
		const signed = await addTarget({ format: "standardWebhooks" });
		const result = await api<{ delivery: { ok: boolean; status: number } }>("POST", `/api/alert-targets/${signed.id}/test`);
		expect(result.delivery).toMatchObject({ ok: true, status: 204 });
		const [request] = await received(signed.path);
		expect(request).toBeDefined();
		expect(verified(signed.secret ?? "", request as Received).type).toBe("test");

		const slack = await addTarget({ format: "slack" });
		expect(slack.secret).toBeNull();
		await receiverFaults(slack.path, [{ status: 500 }]);
		const failed = await api<{ delivery: { ok: boolean; status: number; error: string } }>("POST", `/api/alert-targets/${slack.id}/test`);
		expect(failed.delivery).toMatchObject({ ok: false, status: 500 });
		const [slackRequest] = await received(slack.path);
		expect(JSON.parse(slackRequest?.body ?? "{}")).toEqual({ text: expect.stringContaining("Test alert") });
		const { alertTargets } = await api<{ alertTargets: { id: string; lastDelivery: { ok: boolean; status: number } | null }[] }>(
			"GET",
			"/api/alert-targets",
		);
		expect(alertTargets.find((t) => t.id === slack.id)?.lastDelivery).toMatchObject({ ok: false, status: 500, event: "test" });
	});
});

describe("CREDENTIALS_KEY rotation", () => {
	it("re-seals the signing secrets: alerts stay signed with the same secret under the new key", async () => {
		const target = await addTarget({ format: "standardWebhooks" });
		const keyA = env.CREDENTIALS_KEY;
		const keyB = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
		const withKeys = async (keys: { CREDENTIALS_KEY: string; CREDENTIALS_KEY_PREVIOUS: string }, method: string, path: string) => {
			const ctx = createExecutionContext();
			const request = new Request(`http://hookflow.test${path}`, { method, headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
			const response = await app.fetch(request, { ...env, ...keys }, ctx);
			await waitOnExecutionContext(ctx);
			return response;
		};
		expect((await withKeys({ CREDENTIALS_KEY: keyB, CREDENTIALS_KEY_PREVIOUS: keyA }, "POST", "/api/admin/rotate-key")).status).toBe(200);
		try {
			const test = await withKeys({ CREDENTIALS_KEY: keyB, CREDENTIALS_KEY_PREVIOUS: "" }, "POST", `/api/alert-targets/${target.id}/test`);
			expect(((await test.json()) as { delivery: { ok: boolean } }).delivery.ok).toBe(true);
			const [request] = await received(target.path);
			expect(verified(target.secret ?? "", request as Received).type).toBe("test");
		} finally {
			expect((await withKeys({ CREDENTIALS_KEY: keyA, CREDENTIALS_KEY_PREVIOUS: keyB }, "POST", "/api/admin/rotate-key")).status).toBe(200);
		}
	});
});

describe("alert events", () => {
	it("execution.failed: one signed alert with the execution link, the next failures coalesced into one after 5 minutes", async () => {
		const { flowId } = await createRunningFlow();
		const target = await addTarget({ format: "standardWebhooks", flowId, events: ["execution.failed"] });
		const first = await send(flowId, "Gromit", "Unknown");
		await waitForExecution(first, "failed");
		const now = Date.now();
		await tick(now);
		const [alert] = await eventually("an alert at the receiver", async () => {
			const got = await received(target.path);
			return got.length > 0 ? got : undefined;
		});
		const event = verified(target.secret ?? "", alert as Received);
		expect(event.type).toBe("execution.failed");
		expect(event.data).toMatchObject({ flowId, executionId: first, count: 1, executionUrl: `http://hookflow.test/#/executions/${first}` });
		expect(event.data.error).toContain("status is invalid");

		// Two more failures within the window: nothing now, one alert counting both after it.
		const second = await send(flowId, "a", "Unknown");
		const third = await send(flowId, "b", "Unknown");
		await waitForExecution(second, "failed");
		await waitForExecution(third, "failed");
		await tick(now + MINUTE);
		await tick(now + 2 * MINUTE);
		const next = await cronThenAlerts(now + 5 * MINUTE, target.path, 2);
		const coalesced = verified(target.secret ?? "", next[1] as Received);
		expect(coalesced.data).toMatchObject({ count: 2, executionId: third });
		// Nothing new: no more alerts.
		await tick(now + 11 * MINUTE);
		expect(await received(target.path)).toHaveLength(2);
	});

	it("flow.lagging fires once while the condition holds, then flow.recovered; the 5-minute limit holds the next one back", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 3_600_000, maxAttempts: 3 } });
		const target = await addTarget({ format: "standardWebhooks", flowId, events: ["flow.lagging", "flow.recovered"] });
		await injectFaults([{ status: 503 }]);
		const stuck = await send(flowId, "stuck");
		await waitForExecution(stuck, "retrying");
		const now = Date.now();
		await tick(now + MINUTE); // one minute old: under the 5-minute threshold
		await tick(now + 6 * MINUTE); // lagging
		await tick(now + 7 * MINUTE); // still lagging: no second alert
		const [lagging] = await cronThenAlerts(now + 8 * MINUTE, target.path, 1);
		const event = verified(target.secret ?? "", lagging as Received);
		expect(event.type).toBe("flow.lagging");
		expect(event.data.oldestQueuedSeconds).toBeGreaterThanOrEqual(360);

		// The retry comes due and succeeds, the backlog clears: flow.recovered.
		const stub = env.FLOW.getByName(flowId);
		await runInDurableObject(stub, (_: FlowObject, state) => state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0"));
		await runDurableObjectAlarm(stub);
		await waitForExecution(stuck, "succeeded");
		const alerts = await cronThenAlerts(now + 9 * MINUTE, target.path, 2);
		const recovered = verified(target.secret ?? "", alerts[1] as Received);
		expect(recovered.type).toBe("flow.recovered");
		expect(recovered.data.recovered).toEqual(["flow.lagging"]);
		expect(await received(target.path)).toHaveLength(2);
	});

	it("flow.auth_failures above the threshold in 5 minutes, in Slack format", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "u", password: "right-password" });
		const target = await addTarget({ format: "slack", flowId, events: ["flow.auth_failures"], thresholds: { authFailures: 2 } });
		for (let i = 0; i < 3; i++) {
			const response = await hook(flowId, {
				...json({ petname: "x" }),
				headers: { authorization: `Basic ${btoa("u:wrong")}`, "cf-connecting-ip": `10.0.0.${i}` },
			});
			expect(response.status).toBe(401);
		}
		await eventually("the failed authentication in the minute stats", async () => {
			const row = await env.DB.prepare("SELECT sum(auth_failures) AS n FROM stats_minutes WHERE flow_id = ?")
				.bind(flowId)
				.first<{ n: number }>();
			return row?.n === 3;
		});
		const [alert] = await cronThenAlerts(Date.now(), target.path, 1);
		expect(JSON.parse(alert?.body ?? "{}").text).toContain("refused 3 requests with 401");
		// Ten minutes later the 401s are out of the window: no new alert (no recovered either: not subscribed).
		await tick(Date.now() + 10 * MINUTE);
		expect(await received(target.path)).toHaveLength(1);
	});
});

describe("alert delivery", () => {
	it("is retried with backoff by the alerts queue when the target fails", async () => {
		const target = await addTarget({ format: "standardWebhooks" });
		await receiverFaults(target.path, [{ status: 503 }]);
		const message: AlertMessage = {
			targetId: target.id,
			webhookId: "msg_retry",
			payload: { type: "test", timestamp: new Date().toISOString(), data: { flowId: null, flowName: null, count: 1, summary: "x" } },
		};
		const run = async (attempts: number) => {
			const batch = createMessageBatch("hookflow-alerts", [{ id: `m${attempts}`, timestamp: new Date(), attempts, body: message }]);
			const ctx = createExecutionContext();
			await (worker as ExportedHandler<Env>).queue?.(batch, env, ctx);
			return getQueueResult(batch, ctx);
		};
		const failed = await run(1);
		expect(failed.explicitAcks).toEqual([]);
		expect(failed.retryMessages.map((m) => m.msgId)).toEqual(["m1"]);
		const ok = await run(2);
		expect(ok.explicitAcks).toEqual(["m2"]);
		const requests = await received(target.path);
		expect(requests).toHaveLength(2);
		// The same webhook-id on the retry, so the receiver can tell it is the same alert.
		expect(requests.map((r) => r.headers["webhook-id"])).toEqual(["msg_retry", "msg_retry"]);
	});

	it("a hanging target never delays the flow's deliveries", async () => {
		const { flowId } = await createRunningFlow();
		const target = await addTarget({ format: "standardWebhooks", flowId, events: ["execution.failed"] });
		await receiverFaults(target.path, [{ hang: true }]);
		await waitForExecution(await send(flowId, "bad", "Unknown"), "failed");
		await tick(Date.now());
		// The alert is being delivered to a receiver that never answers…
		await eventually("one alert at the receiver", async () => (await received(target.path)).length === 1);
		// …while the flow keeps delivering.
		await waitForExecution(await send(flowId, "Gromit"), "succeeded");
	});
});

/** Runs the cron at `at` and waits until the receiver has `count` alerts on `path`. */
async function cronThenAlerts(at: number, path: string, count: number): Promise<Received[]> {
	await tick(at);
	return eventually(`${count} alert(s) at ${path}`, async () => {
		const got = await received(path);
		return got.length >= count ? got : undefined;
	});
}
