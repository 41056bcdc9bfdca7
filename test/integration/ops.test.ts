import { createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiApp } from "../../src/api/app";
import worker from "../../src/index";
import { RETENTION_BATCH_ROWS } from "../../src/ops/retention";
import { api, call, captureLogs, createPetstoreCredential, ORIGIN } from "./helpers";

const DAY_MS = 86_400_000;

describe("GET /healthz", () => {
	it("answers without auth with the version and the binding checks", async () => {
		const response = await exports.default.fetch(new Request(`${ORIGIN}/healthz`));
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ ok: true, version: env.BUILD_SHA, d1: "ok", queue: "bound" });
		expect(env.BUILD_SHA).toBe("dev");
	});
});

describe("retention", () => {
	const now = Date.now();
	const body = JSON.stringify({ petname: "Gromit" });

	/** `count` finished executions received `ageDays` ago, each with one attempt. */
	async function seed(prefix: string, ageDays: number, status = "succeeded", count = 1): Promise<string[]> {
		const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(32 - prefix.length, "0")}`);
		const receivedAt = now - ageDays * DAY_MS;
		const statements = ids.flatMap((id) => [
			env.DB.prepare(
				"INSERT INTO executions (id, flow_id, version, status, received_at, attempt_count, input, request, response) VALUES (?, 'retention-flow', 1, ?, ?, 1, ?, ?, ?)",
			).bind(id, status, receivedAt, body, body, body),
			env.DB.prepare(
				"INSERT INTO attempts (execution_id, n, started_at, duration_ms, status, outcome) VALUES (?, 1, ?, 5, 200, 'succeeded')",
			).bind(id, receivedAt),
		]);
		for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
		return ids;
	}

	const rows = (ids: string[]) =>
		env.DB.prepare(`SELECT id, status, input, request, response FROM executions WHERE id IN (${ids.map(() => "?").join(",")})`)
			.bind(...ids)
			.all()
			.then((r) => r.results);
	const attemptCount = (ids: string[]) =>
		env.DB.prepare(`SELECT count(*) AS n FROM attempts WHERE execution_id IN (${ids.map(() => "?").join(",")})`)
			.bind(...ids)
			.first<number>("n");

	it("deletes old executions with their attempts, nulls old bodies, keeps recent and unfinished ones", async () => {
		const old = await seed("a1", 31, "succeeded");
		const oldFailed = await seed("a2", 45, "failed");
		const oldRetrying = await seed("a3", 31, "retrying");
		const middle = await seed("a4", 8, "failed");
		const recent = await seed("a5", 6, "succeeded");

		const logs = captureLogs();
		await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 * * * *" }), env);

		const line = logs.lines().find((l) => l.event === "retention");
		expect(line).toMatchObject({ level: "info", event: "retention", complete: true });
		expect(line?.executionsDeleted).toBeGreaterThanOrEqual(2);
		expect(await rows([...old, ...oldFailed])).toEqual([]);
		// D1 enforces foreign keys: ON DELETE CASCADE removed the attempts too.
		expect(await attemptCount([...old, ...oldFailed])).toBe(0);
		expect(await rows(oldRetrying)).toEqual([{ id: oldRetrying[0], status: "retrying", input: body, request: body, response: body }]);
		expect(await rows(middle)).toEqual([{ id: middle[0], status: "failed", input: null, request: null, response: null }]);
		expect(await attemptCount(middle)).toBe(1);
		expect(await rows(recent)).toEqual([{ id: recent[0], status: "succeeded", input: body, request: body, response: body }]);
	});

	it("works through more rows than one batch holds", async () => {
		const count = RETENTION_BATCH_ROWS * 2 + 7;
		const old = await seed("b1", 40, "succeeded", count);
		const middle = await seed("b2", 10, "succeeded", count);

		await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 * * * *" }), env);

		const left = await env.DB.prepare("SELECT count(*) AS n FROM executions WHERE id LIKE 'b1%'").first<number>("n");
		expect(left).toBe(0);
		expect(await attemptCount(old.slice(0, 90))).toBe(0);
		const withBodies = await env.DB.prepare("SELECT count(*) AS n FROM executions WHERE id LIKE 'b2%' AND input IS NOT NULL").first<number>(
			"n",
		);
		expect(withBodies).toBe(0);
		expect(await env.DB.prepare("SELECT count(*) AS n FROM executions WHERE id LIKE 'b2%'").first<number>("n")).toBe(middle.length);
	});
});

describe("export and import", () => {
	it("round-trips flows, remaps credentials by component and name, and never exports a secret", async () => {
		const webhook = await api("POST", "/api/credentials", {
			component: "webhook",
			name: "Export hook",
			auth: { type: "basic", username: "exporter", password: "pa55-export-secret" },
		});
		const petstoreId = await createPetstoreCredential();
		const definition = {
			trigger: { component: "webhook", credentialId: webhook.credential.id },
			steps: [{ component: "petstore", action: "createPet", credentialId: petstoreId, mapping: { name: "petname", status: "petstatus" } }],
		};
		const { flow: running } = await api("POST", "/api/flows", { name: "Export running" });
		await api("PUT", `/api/flows/${running.id}/draft`, definition);
		await api("POST", `/api/flows/${running.id}/publish`);
		await api("POST", `/api/flows/${running.id}/start`);
		const { flow: drafted } = await api("POST", "/api/flows", { name: "Export draft" });
		await api("PUT", `/api/flows/${drafted.id}/draft`, { trigger: { component: "webhook" }, steps: [] });

		const exported = await api("GET", "/api/export");
		const text = JSON.stringify(exported);
		expect(text).not.toContain("pa55-export-secret");
		expect(text).not.toMatch(/"(sealedSecrets|sealedPrevious|secret|password|key|apiKey)":/);
		expect(exported.version).toBe(1);
		expect(exported.credentials).toContainEqual({
			id: webhook.credential.id,
			component: "webhook",
			name: "Export hook",
			type: "basic",
			details: { username: "exporter" },
		});
		const mine = exported.flows.filter((f: { name: string }) => f.name.startsWith("Export "));
		expect(mine).toContainEqual({ name: "Export running", status: "running", draft: expect.any(Object), live: expect.any(Object) });
		expect(mine).toContainEqual({ name: "Export draft", status: "draft", draft: expect.any(Object), live: null });

		// The target has the Petstore credential under the same name (a new id), but no "Export hook".
		await api("DELETE", `/api/flows/${running.id}`);
		await api("DELETE", `/api/credentials/${webhook.credential.id}`);
		const document = { ...exported, flows: mine };

		const asDrafts = await call("POST", "/api/import", document);
		expect(asDrafts.status).toBe(201);
		const drafts = (await asDrafts.json()) as { flows: Array<{ id: string; name: string; status: string }>; warnings: string[] };
		expect(drafts.flows.map((f) => [f.name, f.status])).toEqual([
			["Export running", "draft"],
			["Export draft", "draft"],
		]);
		expect(drafts.warnings).toContain(
			'Flow "Export running": there is no webhook credential named "Export hook" here; create it and choose it in the flow',
		);
		const importedId = drafts.flows[0]?.id;
		const { flow: imported } = await api("GET", `/api/flows/${importedId}`);
		expect(imported.version).toBeNull();
		expect(imported.draft.trigger.credentialId).toBeNull();
		// Some "Local Petstore" of the target: the oldest one when several share the name.
		expect(imported.draft.steps[0]?.credentialId).toEqual(expect.any(String));

		// With the credential recreated under its name, ?publish=true publishes and restarts the running flow.
		const recreated = await api("POST", "/api/credentials", {
			component: "webhook",
			name: "Export hook",
			auth: { type: "none" },
		});
		const published = await call("POST", "/api/import?publish=true", { ...document, flows: mine.slice(0, 1) });
		expect(published.status).toBe(201);
		const result = (await published.json()) as { flows: Array<{ id: string; status: string; version: number }>; warnings: string[] };
		expect(result.flows).toEqual([{ id: expect.any(String), name: "Export running", status: "running", version: 1 }]);
		expect(result.warnings).toContain('Flow "Export running": webhook credential "Export hook" is none here but was basic');
		const { flow: live } = await api("GET", `/api/flows/${result.flows[0]?.id}`);
		expect(live).toMatchObject({ status: "running", version: 1 });
		expect(live.draft.trigger.credentialId).toBe(recreated.credential.id);
		const hooked = await exports.default.fetch(
			new Request(`${ORIGIN}/hook/${live.id}`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ petname: "Imported", petstatus: "sold" }),
			}),
		);
		expect(hooked.status).toBe(200);
	});

	it("rejects a document that is not an export, and needs the admin token", async () => {
		const wrong = await call("POST", "/api/import", { version: 2, flows: [] });
		expect(wrong.status).toBe(400);
		expect(await call("GET", "/api/export", undefined, { authorization: "Bearer nope" })).toHaveProperty("status", 401);
	});
});

describe("GET /api/openapi.json", () => {
	it("is an OpenAPI 3.1 document behind the admin token", async () => {
		expect((await call("GET", "/api/openapi.json", undefined, { authorization: "" })).status).toBe(401);
		const doc = await api("GET", "/api/openapi.json");
		expect(doc.openapi).toBe("3.1.0");
		expect(doc.info.version).toBe(env.BUILD_SHA);
		expect(doc.servers).toEqual([{ url: ORIGIN }]);
		expect(doc.paths["/api/flows/{id}/draft"].put.requestBody.content["application/json"].schema).toEqual({
			$ref: "#/components/schemas/FlowDraft",
		});
		expect(doc.components.schemas.CreateCredential.oneOf ?? doc.components.schemas.CreateCredential.anyOf).toHaveLength(2);
	});

	it("lists every route of the app under /api, and nothing else", async () => {
		const doc = await api("GET", "/api/openapi.json");
		const served = new Set(
			apiApp.routes
				.filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
				.map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
		);
		const documented = new Set(
			Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
				Object.keys(ops).map((method) => `${method} ${path}`),
			),
		);
		expect(served.size).toBeGreaterThan(20);
		expect([...served].filter((route) => !documented.has(route))).toEqual([]);
		expect([...documented].filter((route) => !served.has(route))).toEqual([]);
	});

	it("documents every path parameter", async () => {
		const doc = await api("GET", "/api/openapi.json");
		for (const [path, ops] of Object.entries(
			doc.paths as Record<string, Record<string, { parameters: Array<{ name: string; in: string }> }>>,
		)) {
			const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
			for (const op of Object.values(ops)) expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(names);
		}
	});
});
