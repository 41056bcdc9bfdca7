import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import edge from "../../src/edge/index";
import { createRunningFlow, ORIGIN, resetPetstore, waitForExecution } from "./helpers";

/**
 * The edge Worker's entry (src/edge/index.ts, wrangler.edge.toml) in this workerd, with this file's D1,
 * queue and flow objects as its bindings and a recording stand-in for its CONTROL service binding:
 * it answers /hook itself, passes everything else on unchanged, drops its config cache after an
 * admin write it passed on, and without CONTROL serves nothing but /hook.
 */

beforeEach(resetPetstore);

interface Passed {
	method: string;
	url: string;
	authorization: string | null;
}

/** A CONTROL binding that records what it is given and answers `answer` (a fresh copy each time). */
function recordingControl(answer: () => Response = () => new Response("from control", { status: 207 })) {
	const passed: Passed[] = [];
	const control = {
		async fetch(input: RequestInfo | URL, init?: RequestInit) {
			const request = new Request(input, init);
			passed.push({ method: request.method, url: request.url, authorization: request.headers.get("authorization") });
			return answer();
		},
	};
	return { control, passed };
}

async function callEdge(request: Request, control?: { fetch: Fetcher["fetch"] }): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await edge.fetch(request as Parameters<typeof edge.fetch>[0], { ...env, CONTROL: control } as unknown as EdgeEnv, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

const postHook = (flowId: string, path = "") =>
	new Request(`${ORIGIN}/hook/${flowId}${path}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ petname: "Gromit", petstatus: "Sold" }),
	});

describe("the edge Worker", () => {
	it("answers a hook itself, and the execution it queued is delivered", async () => {
		const { flowId } = await createRunningFlow();
		const { control, passed } = recordingControl();
		const response = await callEdge(postHook(flowId, "/orders/new?x=1"), control);
		expect(response.status).toBe(200);
		expect(response.headers.get("x-content-type-options")).toBe("nosniff");
		const body = (await response.json()) as { requestId: string; message: string };
		expect(body.message).toBe("thank you");
		expect(response.headers.get("x-request-id")).toBe(body.requestId);
		expect(passed).toEqual([]);
		const execution = await waitForExecution(body.requestId, "succeeded");
		expect(execution.input).toMatchObject({ petname: "Gromit", _additionalUrlPath: "/orders/new" });
	});

	it("passes every other path to the control Worker unchanged and returns its answer", async () => {
		const { control, passed } = recordingControl();
		for (const path of ["/", "/api/flows", "/sample/f/t.m", "/healthz", "/hook", "/hook/", "/hooks/x", "/HOOK/x"]) {
			const response = await callEdge(new Request(`${ORIGIN}${path}`, { headers: { authorization: "Bearer t" } }), control);
			expect(response.status, path).toBe(207);
			expect(await response.text(), path).toBe("from control");
		}
		expect(passed.map((p) => new URL(p.url).pathname)).toEqual([
			"/",
			"/api/flows",
			"/sample/f/t.m",
			"/healthz",
			"/hook",
			"/hook/",
			"/hooks/x",
			"/HOOK/x",
		]);
		expect(passed.every((p) => p.method === "GET" && p.authorization === "Bearer t")).toBe(true);
	});

	it("drops its cached flow config after an admin write it passed on, not after a read", async () => {
		const { flowId } = await createRunningFlow();
		const { control } = recordingControl(() => Response.json({ ok: true }));
		expect((await callEdge(postHook(flowId), control)).status).toBe(200);
		// Stopped behind the edge's back (as another isolate's admin call would): the cached config still says running.
		await env.DB.prepare("UPDATE flows SET status = 'stopped' WHERE id = ?1").bind(flowId).run();
		expect((await callEdge(postHook(flowId), control)).status).toBe(200);
		await callEdge(new Request(`${ORIGIN}/api/flows/${flowId}`), control);
		expect((await callEdge(postHook(flowId), control)).status).toBe(200);
		await callEdge(new Request(`${ORIGIN}/api/flows/${flowId}/stop`, { method: "POST" }), control);
		const refused = await callEdge(postHook(flowId), control);
		expect(refused.status).toBe(404);
		expect(await refused.json()).toEqual({ error: `Flow ${flowId} either does not exist or is inactive` });
	});

	it("marks every answer of /hook nosniff, each kind of answer built with it (no header added afterwards)", async () => {
		const { flowId } = await createRunningFlow({ type: "apiKey", key: "edge-key" });
		const url = `${ORIGIN}/hook/${flowId}`;
		const keyed = { "content-type": "application/json", "x-api-key": "edge-key" };
		const answers: [string, Request, number][] = [
			["accepted", new Request(url, { method: "POST", headers: keyed, body: '{"petname":"Gromit"}' }), 200],
			["HEAD", new Request(url, { method: "HEAD" }), 200],
			["method", new Request(url, { method: "PUT", headers: keyed, body: "{}" }), 405],
			["unknown flow", new Request(`${ORIGIN}/hook/no-such-flow`, { method: "POST", headers: keyed, body: "{}" }), 404],
			["wrong key", new Request(url, { method: "POST", headers: { ...keyed, "x-api-key": "guess" }, body: "{}" }), 401],
			["malformed JSON", new Request(url, { method: "POST", headers: keyed, body: '{"petname":' }), 400],
			["too large", new Request(url, { method: "POST", headers: keyed, body: "x".repeat(Number(env.MAX_BODY_BYTES) + 1) }), 413],
		];
		for (const [what, request, status] of answers) {
			const response = await callEdge(request);
			expect(response.status, what).toBe(status);
			expect(response.headers.get("x-content-type-options"), what).toBe("nosniff");
			if (request.method !== "HEAD") expect(response.headers.get("content-type"), what).toBe("application/json");
		}
	});

	it("without a CONTROL binding serves /hook and answers everything else with a JSON 404", async () => {
		const { flowId } = await createRunningFlow();
		for (const path of ["/", "/index.html", "/api/flows", "/api", "/healthz", `/sample/${flowId}/t.m`]) {
			const response = await callEdge(new Request(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }));
			expect(response.status, path).toBe(404);
			expect(response.headers.get("content-type"), path).toContain("application/json");
			expect(((await response.json()) as { error: string }).error, path).toMatch(/only serves \/hook/);
		}
		expect((await callEdge(postHook(flowId))).status).toBe(200);
	});
});
