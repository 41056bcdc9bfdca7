// Alert targets as an attacker with the admin API (or a careless operator) would use them against
// the network the Worker sits in (issue 19, defect 9): private and own-host URLs, redirects, and
// /test as a port scanner. The tests run in local mode (ALLOW_PRIVATE_ALERT_TARGETS=true, like
// npm start: the receiver listens on 127.0.0.1); "deployed" is the same Worker with it false.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { AlertMessage } from "../../src/ops/alerts";
import { apiClient } from "../support/api-client";
import { api, call, captureLogs } from "./helpers";

const receiver = env.ALERT_RECEIVER_URL;
const deployedEnv = { ...env, ALLOW_PRIVATE_ALERT_TARGETS: "false" } as Env;
const deployed = apiClient({
	origin: "https://hookflow.example.workers.dev",
	token: env.ADMIN_TOKEN,
	fetch: async (request) => {
		const ctx = createExecutionContext();
		const response = await worker.fetch(request, deployedEnv, ctx);
		await waitOnExecutionContext(ctx);
		return response;
	},
});

let pathCount = 0;
const newPath = () => `/alert-urls/${Date.now()}-${pathCount++}`;
const received = async (path: string): Promise<unknown[]> => (await fetch(`${receiver}/__control/requests?path=${path}`)).json();
const receiverFaults = (path: string, responses: unknown[]) =>
	fetch(`${receiver}/__control/faults`, { method: "POST", body: JSON.stringify({ path, responses }) });

interface Delivery {
	ok: boolean;
	status: number | null;
	error: string | null;
}
const testAlert = async (client: Pick<typeof deployed, "api">, id: string) =>
	(await client.api<{ delivery: Delivery }>("POST", `/api/alert-targets/${id}/test`)).delivery;

async function consumeAlert(queueEnv: Env, body: unknown) {
	const batch = createMessageBatch("hookflow-alerts", [{ id: "alert-msg", timestamp: new Date(), attempts: 1, body }]);
	const ctx = createExecutionContext();
	await (worker as ExportedHandler<Env>).queue?.(batch, queueEnv, ctx);
	return getQueueResult(batch, ctx);
}

describe("alert target URLs, deployed", () => {
	it("attack: loopback, private, link-local and the Worker's own host are refused with 422, and nothing is stored", async () => {
		const before = (await api<{ alertTargets: unknown[] }>("GET", "/api/alert-targets")).alertTargets.length;
		for (const [url, why] of [
			[`${receiver}/alerts`, "127.0.0.1, a loopback address"],
			["http://169.254.169.254/latest/meta-data/", "a link-local address"],
			["http://10.0.0.7:8080/", "a private address"],
			["http://[::1]:8787/", "a loopback address"],
			["http://localhost:8787/hook/x", "a local-only name"],
			["https://hookflow.example.workers.dev/hook/abc", "points at this Worker"],
		]) {
			const response = await deployed.call("POST", "/api/alert-targets", { url, format: "slack" });
			expect(response.status, url).toBe(422);
			const { error } = (await response.json()) as { error: { message: string; issues: { path: string }[] } };
			expect(error.message, url).toContain(why);
			expect(error.issues).toEqual([{ path: "url", message: error.message }]);
		}
		expect((await api<{ alertTargets: unknown[] }>("GET", "/api/alert-targets")).alertTargets).toHaveLength(before);
		// A public host is fine.
		const ok = await deployed.call("POST", "/api/alert-targets", { url: "https://alerts.example.com/hookflow", format: "slack" });
		expect(ok.status).toBe(201);
	});

	it("attack: a target stored in local mode is not posted to when deployed, by /test or by the alerts queue (acked, not retried)", async () => {
		const path = newPath();
		const { alertTarget } = await api("POST", "/api/alert-targets", { url: `${receiver}${path}`, format: "standardWebhooks" });
		const refused = await testAlert(deployed, alertTarget.id);
		expect(refused).toMatchObject({ ok: false, status: null });
		expect(refused.error).toMatch(/^Not sent: url points at 127\.0\.0\.1, a loopback address/);
		const message: AlertMessage = {
			targetId: alertTarget.id,
			webhookId: "msg_refused",
			payload: { type: "test", timestamp: new Date().toISOString(), data: { flowId: null, flowName: null, count: 1, summary: "x" } },
		};
		const result = await consumeAlert(deployedEnv, message);
		expect(result.explicitAcks).toEqual(["alert-msg"]);
		expect(result.retryMessages).toEqual([]);
		expect(await received(path)).toEqual([]);
		// The same target in local mode is delivered: the refusal above was the rule, not a broken target.
		expect(await testAlert({ api }, alertTarget.id)).toMatchObject({ ok: true, status: 204 });
		expect(await received(path)).toHaveLength(1);
	});
});

describe("alert delivery", () => {
	it("attack: a redirect is not followed; the 3xx is the answer", async () => {
		const path = newPath();
		const elsewhere = newPath();
		const { alertTarget } = await api("POST", "/api/alert-targets", { url: `${receiver}${path}`, format: "standardWebhooks" });
		await receiverFaults(path, [{ status: 307, location: `${receiver}${elsewhere}` }]);
		const delivery = await testAlert({ api }, alertTarget.id);
		expect(delivery).toMatchObject({ ok: false, status: 307 });
		expect(delivery.error).toContain("a redirect; alerts are not redirected");
		expect(await received(path)).toHaveLength(1);
		expect(await received(elsewhere)).toEqual([]);
	});

	it("attack: /test against a closed port says only that the receiver could not be reached (no port-scan oracle)", async () => {
		const logs = captureLogs();
		const { alertTarget } = await api("POST", "/api/alert-targets", { url: "http://127.0.0.1:1/alerts", format: "slack" });
		const response = await call("POST", `/api/alert-targets/${alertTarget.id}/test`);
		expect(response.status).toBe(200);
		const { delivery } = (await response.json()) as { delivery: Delivery };
		expect(delivery).toMatchObject({ ok: false, status: null, error: "Could not reach the receiver" });
		const { alertTargets } = await api<{ alertTargets: { id: string; lastDelivery: Delivery }[] }>("GET", "/api/alert-targets");
		expect(alertTargets.find((t) => t.id === alertTarget.id)?.lastDelivery.error).toBe("Could not reach the receiver");
		// The operator still finds the cause in the Worker's log.
		const line = logs.lines().find((l) => l.event === "alert.unreachable");
		expect(line).toMatchObject({ level: "warn", targetId: alertTarget.id });
		expect(line?.error).toEqual(expect.any(String));
		expect(line?.error).not.toBe("");
	});

	it("acks and logs a malformed alerts-queue message instead of retrying it", async () => {
		const logs = captureLogs();
		for (const body of [
			{ nonsense: true },
			{ targetId: "t", webhookId: "msg_x", payload: { type: "flow.exploded", timestamp: new Date().toISOString(), data: {} } },
			"text",
		]) {
			const result = await consumeAlert(env, body);
			expect(result.explicitAcks).toEqual(["alert-msg"]);
			expect(result.retryMessages).toEqual([]);
		}
		expect(logs.lines().filter((l) => l.event === "queue.invalid_message" && l.queue === "hookflow-alerts")).toHaveLength(3);
	});
});
