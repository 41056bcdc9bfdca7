import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

/** Integration tests talk to the Worker exactly as users do: HTTP through its fetch handler. */

export const ORIGIN = "http://hookflow.test";

export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
	return exports.default.fetch(
		new Request(`${ORIGIN}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${env.ADMIN_TOKEN}`,
				...(body === undefined ? {} : { "content-type": "application/json" }),
				...headers,
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
	);
}

/** An admin API call that must succeed; returns its JSON. */
export async function api<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<T> {
	const response = await call(method, path, body);
	const text = await response.text();
	expect(response.status, `${method} ${path} → ${text}`).toBeLessThan(300);
	return (text ? JSON.parse(text) : {}) as T;
}

export function hook(flowId: string, init: RequestInit & { path?: string } = {}): Promise<Response> {
	return exports.default.fetch(new Request(`${ORIGIN}/hook/${flowId}${init.path ?? ""}`, { method: "POST", ...init }));
}

export const petstoreUrl = () => env.PETSTORE_BASE_URL;
export const controlUrl = (path: string) => `${new URL(env.PETSTORE_BASE_URL).origin}/__control/${path}`;

export async function resetPetstore(): Promise<void> {
	await fetch(controlUrl("reset"), { method: "POST" });
}

export async function petstoreRequests(): Promise<{
	requests: Array<{ method: string; host: string | null; path: string; body: any; idempotencyKey: string | null; responseStatus: number }>;
	maxConcurrent: number;
}> {
	return (await fetch(controlUrl("requests"))).json();
}

export async function createPetstoreCredential(apiKey = "secret"): Promise<string> {
	const { credential } = await api("POST", "/api/credentials", { component: "petstore", name: "Local Petstore", apiKey });
	return credential.id;
}

export interface RunningFlow {
	flowId: string;
	webhookCredentialId: string;
	petstoreCredentialId: string;
}

/** The tutorial's flow: a webhook with `auth` → Create a Pet mapping petname/petstatus, published and started. */
export async function createRunningFlow(
	auth: Record<string, unknown> = { type: "none" },
	extras: Record<string, unknown> = {},
): Promise<RunningFlow> {
	const webhook = await api("POST", "/api/credentials", { component: "webhook", name: `hook ${auth.type}`, auth });
	const petstoreCredentialId = await createPetstoreCredential();
	const { flow } = await api("POST", "/api/flows", { name: "Tutorial flow" });
	const running = { flowId: flow.id, webhookCredentialId: webhook.credential.id, petstoreCredentialId };
	await putDraft(running, { name: "petname", status: "petstatus" }, extras);
	await api("POST", `/api/flows/${flow.id}/publish`);
	await api("POST", `/api/flows/${flow.id}/start`);
	return running;
}

/** Saves the tutorial's draft for `flow` with another mapping (publish it to make it a version). */
export async function putDraft(flow: RunningFlow, mapping: Record<string, string>, extras: Record<string, unknown> = {}): Promise<void> {
	await api("PUT", `/api/flows/${flow.flowId}/draft`, {
		trigger: { component: "webhook", credentialId: flow.webhookCredentialId },
		steps: [{ component: "petstore", action: "createPet", credentialId: flow.petstoreCredentialId, mapping }],
		...extras,
	});
}

/** A flow's counters after exactly one execution that succeeded. */
export const ONE_SUCCEEDED = {
	received: 1,
	succeeded: 1,
	failed: 0,
	inFlight: 0,
	authFailures: 0,
	handshakes: 0,
	queued: 0,
	oldestQueuedAt: null,
	paused: false,
};

/** Polls until `check` returns a value (queue batches and alarms are asynchronous). */
export async function eventually<T>(
	check: () => Promise<T | undefined | null | false>,
	timeoutMs = 15_000,
	what = "condition",
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

export async function waitForExecution(executionId: string, status: string, timeoutMs = 15_000) {
	return eventually(
		async () => {
			const response = await call("GET", `/api/executions/${executionId}`);
			if (response.status !== 200) return undefined;
			const { execution } = (await response.json()) as { execution: any };
			return execution.status === status ? execution : undefined;
		},
		timeoutMs,
		`execution ${executionId} to be ${status}`,
	);
}
