import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { sign as signGithub } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient } from "../support/api-client";
import { eventually } from "../support/eventually";
import { type App, startApp } from "./designer/harness";

/**
 * Providers' webhooks through `npm start`: a Stripe-signed request (signed by the stripe SDK) and a
 * Slack-signed one (signed by the designer's own try-it command, run in bash with openssl) each
 * create a pet; Slack's url_verification challenge is echoed; a GitHub delivery repeated with the
 * same X-GitHub-Delivery runs once.
 */

const run = promisify(execFile);
const Stripe = createRequire(import.meta.url)("stripe") as typeof import("stripe").default;
let app: App;
let petstore: string;
let petstoreCredentialId: string;

let call: ReturnType<typeof apiClient>["call"];
let api: ReturnType<typeof apiClient>["api"];

/** A running flow whose webhook credential has `auth`, mapping petname/petstatus to a pet. */
async function runningFlow(auth: Record<string, string>): Promise<{ flowId: string; credential: any }> {
	const { credential } = await api("POST", "/api/credentials", { component: "webhook", name: `e2e ${auth.type}`, auth });
	const { flow } = await api("POST", "/api/flows", { name: `Provider ${auth.type}` });
	await api("PUT", `/api/flows/${flow.id}/draft`, {
		trigger: { component: "webhook", credentialId: credential.id },
		steps: [
			{ component: "petstore", action: "createPet", credentialId: petstoreCredentialId, mapping: { name: "petname", status: "petstatus" } },
		],
	});
	await api("POST", `/api/flows/${flow.id}/publish`);
	await api("POST", `/api/flows/${flow.id}/start`);
	return { flowId: flow.id, credential };
}

async function petOf(requestId: string): Promise<{ name: string; status: string }> {
	const execution = await eventually(
		`execution ${requestId} to succeed`,
		async () => {
			// 404 until the flow object has written the execution to the run log.
			const response = await call("GET", `/api/executions/${requestId}`);
			if (response.status === 404) return undefined;
			const { execution } = await response.json();
			return execution.status === "succeeded" ? execution : undefined;
		},
		30_000,
	);
	return (await fetch(`${petstore}/pet/${execution.response.body.id}`, { headers: { "api-key": "secret" } })).json();
}

beforeAll(async () => {
	app = await startApp();
	({ call, api } = apiClient({ origin: app.origin, token: app.token }));
	petstore = /Petstore\s+(http:\/\/127\.0\.0\.1:\d+\/v2)/.exec(app.output())?.[1] ?? "";
	expect(petstore).not.toBe("");
	const { credentials } = await api("GET", "/api/credentials?component=petstore");
	petstoreCredentialId = credentials.find((c) => c.name === "Local Petstore")?.id ?? "";
});
afterAll(async () => app?.stop());

describe("provider presets through npm start", () => {
	it("a Stripe-signed event creates a pet", async () => {
		const secret = "whsec_e2e_stripe_secret";
		const { flowId } = await runningFlow({ type: "stripe", secret });
		const body = JSON.stringify({ id: "evt_e2e_1", type: "customer.created", petname: "Stripey", petstatus: "available" });
		const signature = new Stripe("sk_test_unused").webhooks.generateTestHeaderString({ payload: body, secret });
		const response = await fetch(`${app.origin}/hook/${flowId}`, {
			method: "POST",
			headers: { "content-type": "application/json", "stripe-signature": signature },
			body,
		});
		expect(response.status).toBe(200);
		const { requestId } = (await response.json()) as { requestId: string };
		expect(await petOf(requestId)).toMatchObject({ name: "Stripey", status: "available" });

		const forged = await fetch(`${app.origin}/hook/${flowId}`, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				"stripe-signature": signature.replace(/v1=(.)/, (_, first: string) => `v1=${first === "0" ? "1" : "0"}`),
			},
			body,
		});
		expect(forged.status).toBe(401);
		expect(await forged.json()).toEqual({ error: expect.stringMatching(/^Signature mismatch in stripe-signature/) });
	});

	it("Slack: the url_verification challenge is echoed, and a request signed by the designer's try-it command creates a pet", async () => {
		const signingSecret = "e2e-slack-signing-secret";
		const { flowId, credential } = await runningFlow({ type: "slack", signingSecret });
		const hookUrl = `${app.origin}/hook/${flowId}`;
		// The command the designer shows, with the URL, a body and the secret filled in as a user would.
		const fill = (body: string) =>
			(credential.tryIt.command as string)
				.replace("{url}", `'${hookUrl}'`)
				.replace("{body}", `'${body}'`)
				.replace("'<signing secret>'", `'${signingSecret}'`);
		expect(credential.tryIt.command).toContain("'<signing secret>'");

		const challenge = await run("bash", [
			"-c",
			`${fill(JSON.stringify({ token: "x", challenge: "e2e-challenge-42", type: "url_verification" }))} -sS -i`,
		]);
		expect(challenge.stdout).toMatch(/^HTTP\/1\.1 200/);
		expect(challenge.stdout.toLowerCase()).toContain("content-type: text/plain");
		expect(challenge.stdout.endsWith("\r\n\r\ne2e-challenge-42")).toBe(true);

		const event = JSON.stringify({ type: "event_callback", event_id: "Ev_E2E_1", petname: "Slacky", petstatus: "pending" });
		const { stdout } = await run("bash", ["-c", `${fill(event)} -sS`]);
		const { requestId } = JSON.parse(stdout) as { requestId: string };
		expect(await petOf(requestId)).toMatchObject({ name: "Slacky", status: "pending" });

		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters).toMatchObject({ received: 1, succeeded: 1, handshakes: 1, authFailures: 0 });
	});

	it("a GitHub delivery repeated with the same X-GitHub-Delivery runs once", async () => {
		const secret = "e2e-github-secret";
		const { flowId } = await runningFlow({ type: "github", secret });
		const body = JSON.stringify({ action: "opened", petname: "Octo", petstatus: "sold" });
		const deliver = async () =>
			fetch(`${app.origin}/hook/${flowId}`, {
				method: "POST",
				headers: {
					"content-type": "application/json",
					"x-github-event": "issues",
					"x-github-delivery": "6f1b0a2e-e2e0-11ef-9b0c-1d2c3b4a5f6e",
					"x-hub-signature-256": await signGithub(secret, body),
				},
				body,
			});
		const first = await deliver();
		expect(first.status).toBe(200);
		const { requestId } = (await first.json()) as { requestId: string };
		expect(await petOf(requestId)).toMatchObject({ name: "Octo", status: "sold" });
		const again = await deliver();
		expect(((await again.json()) as { requestId: string }).requestId).toBe(requestId);
		const log = await api("GET", `/api/flows/${flowId}/executions`);
		expect(log.executions.map((e: { id: string }) => e.id)).toEqual([requestId]);
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters).toMatchObject({ received: 1, succeeded: 1 });
	});
});
