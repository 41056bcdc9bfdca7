import { env, exports } from "cloudflare:workers";
import { onTestFinished, vi } from "vitest";
import { setLogLevel } from "../../src/log";
import { apiClient } from "../support/api-client";
import { eventually } from "../support/eventually";

/** Integration tests talk to the Worker exactly as users do: HTTP through its fetch handler. */

export const ORIGIN = "http://hookflow.test";

export const { call, api } = apiClient({ origin: ORIGIN, token: env.ADMIN_TOKEN, fetch: (request) => exports.default.fetch(request) });

export { eventually };

export function hook(flowId: string, init: RequestInit & { path?: string } = {}): Promise<Response> {
	return exports.default.fetch(new Request(`${ORIGIN}/hook/${flowId}${init.path ?? ""}`, { method: "POST", ...init }));
}

/** This file's own Petstore: a tenant of the local one (see vitest.config.ts), `<origin>/t/<id>/v2`. */
export const petstoreUrl = () => env.PETSTORE_BASE_URL;
export const controlUrl = (path: string) => `${env.PETSTORE_BASE_URL.replace(/\/v2$/, "")}/__control/${path}`;

/** A JSON request's init (for `hook`), with any extra headers. */
export const json = (body: unknown, headers: Record<string, string> = {}) => ({
	headers: { "content-type": "application/json", ...headers },
	body: JSON.stringify(body),
});

/** The local Petstore answers this file's next pet POSTs with these (status, retryAfter, hangMs, bodyBytes, …). */
export const injectFaults = (responses: unknown[]) =>
	fetch(controlUrl("faults"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ responses }) });

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

export async function waitForExecution(executionId: string, status: string, timeoutMs = 15_000) {
	return eventually(
		`execution ${executionId} to be ${status}`,
		async () => {
			const response = await call("GET", `/api/executions/${executionId}`);
			if (response.status !== 200) return undefined;
			const { execution } = (await response.json()) as { execution: any };
			return execution.status === status ? execution : undefined;
		},
		timeoutMs,
	);
}

/**
 * Turns log lines on for the rest of the running test (the tests run with LOG_LEVEL=silent) and
 * collects them instead of printing them: `raw` holds every console call's arguments, `lines()`
 * the structured lines, parsed.
 */
export function captureLogs(): { raw: unknown[][]; lines: () => Array<Record<string, any>> } {
	const raw: unknown[][] = [];
	const spies = (["debug", "info", "log", "warn", "error"] as const).map((level) =>
		vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void raw.push(args)),
	);
	setLogLevel("debug");
	onTestFinished(() => {
		setLogLevel(undefined);
		for (const spy of spies) spy.mockRestore();
	});
	const lines = () =>
		raw.flatMap(([line]) => {
			try {
				return [JSON.parse(String(line)) as Record<string, any>];
			} catch {
				return [];
			}
		});
	return { raw, lines };
}
