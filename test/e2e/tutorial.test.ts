import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient } from "../support/api-client";
import { eventually } from "../support/eventually";
import { type App, startApp } from "./designer/harness";

/** The README's promise: `npm start`, then the tutorial's curl line creates a pet at the local Petstore. */

const run = promisify(execFile);
let app: App;
let petstore: string;
let call: ReturnType<typeof apiClient>["call"];
let api: ReturnType<typeof apiClient>["api"];

beforeAll(async () => {
	app = await startApp();
	({ call, api } = apiClient({ origin: app.origin, token: app.token }));
	petstore = /Petstore\s+(http:\/\/127\.0\.0\.1:\d+\/v2)/.exec(app.output())?.[1] ?? "";
	expect(petstore).not.toBe("");
});
afterAll(async () => app?.stop());

describe("npm start + the tutorial's curl line", () => {
	it("creates the pet, logs a succeeded execution and counts it", async () => {
		const { credentials } = await api("GET", "/api/credentials?component=petstore");
		const localPetstore = credentials.find((c: { name: string }) => c.name === "Local Petstore");
		expect(localPetstore).toBeDefined();
		const { credential } = await api("POST", "/api/credentials", {
			component: "webhook",
			name: "Tutorial basic",
			auth: { type: "basic", username: "user", password: "pass" },
		});
		const { flow } = await api("POST", "/api/flows", { name: "Tutorial" });
		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: credential.id },
			steps: [
				{ component: "petstore", action: "createPet", credentialId: localPetstore?.id, mapping: { name: "petname", status: "petstatus" } },
			],
		});
		await api("POST", `/api/flows/${flow.id}/publish`);
		const started = await api("POST", `/api/flows/${flow.id}/start`);
		expect(started.flow.hookUrl).toBe(`${app.origin}/hook/${flow.id}`);

		const { stdout } = await run("curl", [
			"-sS",
			"-i",
			"-X",
			"POST",
			`${app.origin}/hook/${flow.id}`,
			"-u",
			"user:pass",
			"-H",
			"Content-Type: application/json",
			"-d",
			'{"petname":"Gromit","petstatus":"Sold"}',
		]);
		expect(stdout).toMatch(/^HTTP\/1\.1 200/);
		const reply = JSON.parse(stdout.slice(stdout.indexOf("\r\n\r\n") + 4)) as { requestId: string; message: string };
		expect(reply.message).toBe("thank you");
		expect(stdout.toLowerCase()).toContain(`x-request-id: ${reply.requestId}`);

		const execution = await eventually(
			"the tutorial's execution to succeed",
			async () => {
				// 404 until the flow object has written the execution to the run log.
				const response = await call("GET", `/api/executions/${reply.requestId}`);
				if (response.status === 404) return undefined;
				const { execution } = await response.json();
				return execution.status === "succeeded" ? execution : undefined;
			},
			30_000,
		);
		const pet = await (await fetch(`${petstore}/pet/${execution.response.body.id}`, { headers: { "api-key": "secret" } })).json();
		expect(pet).toMatchObject({ name: "Gromit", status: "sold" });

		const log = await api("GET", `/api/flows/${flow.id}/executions`);
		expect(log.executions[0]).toMatchObject({ id: reply.requestId, status: "succeeded" });
		const after = await api("GET", `/api/flows/${flow.id}`);
		expect(after.flow.counters).toEqual({
			received: 1,
			succeeded: 1,
			failed: 0,
			inFlight: 0,
			authFailures: 0,
			handshakes: 0,
			queued: 0,
			oldestQueuedAt: null,
			paused: false,
		});
	});

	// Only the real asset router (wrangler dev) can show this: the bare path must reach the Worker, not the SPA fallback.
	it("answers GET /api (no slash) with the API's 401 JSON, not the designer's HTML", async () => {
		const response = await fetch(`${app.origin}/api`);
		expect(response.status).toBe(401);
		expect(response.headers.get("content-type")).toMatch(/^application\/json/);
		expect(response.headers.get("x-content-type-options")).toBe("nosniff");
		expect(await response.text()).not.toContain("<html");
	});
});
