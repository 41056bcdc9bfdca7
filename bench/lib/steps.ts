// Issue 17's numbers, on one workerd with the queue consumer and flow objects, against the local
// Petstore (and its CRM-like API for HTTP request steps):
//  - storage rows written per execution of the tutorial flow, from the bindings' own metadata
//    (bench/workers/meter-entry.js): D1 `meta.rows_written` and the flow object's cursors'
//    `rowsWritten`, the difference over N executions sent one after another, divided by N;
//  - executions/s of one flow of 4 steps (filter, transform, http 50 ms, petstore 50 ms), 64 keys,
//    concurrency 32, the backlog built while the flow is paused;
//  - cpu ms per logic step: the same flow with and without a filter and a transform, alternating.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
	api,
	applyMigrations,
	BODY,
	createHmacFlow,
	flowCounters,
	HMAC_SECRET,
	hookflowWorker,
	SIGNATURE,
	type WranglerConfig,
} from "./hookflow.ts";
import { processSchedCpuMs } from "./proc.ts";
import { type Runtime, startRuntime, type WorkerOptions } from "./runtime.ts";

const METER_ENTRY = fileURLToPath(new URL("../workers/meter-entry.js", import.meta.url));

/** The worker with meter-entry.js as its entry around the unchanged bundle. */
function metered(worker: WorkerOptions, entryFile: string): WorkerOptions {
	const root = dirname(entryFile);
	const { scriptPath: _, modules: __, ...rest } = worker;
	return {
		...rest,
		modulesRoot: root,
		modules: [
			{ type: "ESModule", path: join(root, "__meter-entry.js"), contents: readFileSync(METER_ENTRY, "utf8") },
			{ type: "ESModule", path: join(root, "__target.js"), contents: readFileSync(entryFile, "utf8") },
		],
	};
}

export interface StepsOptions {
	config: WranglerConfig;
	bundleDir: string;
	migrationsDir: string;
	petstoreUrl: string;
	deadline: number;
	onStarted?: (dispose: () => Promise<void>) => void;
	step: (line: string) => void;
}

export interface RowsResult {
	executions: number;
	d1PerExecution: number;
	flowObjectPerExecution: number;
}

async function meter(origin: string): Promise<{ flowObject: number; d1: number }> {
	return (await fetch(`${origin}/__meter`)).json() as Promise<{ flowObject: number; d1: number }>;
}

async function waitDone(origin: string, flowId: string, want: number, deadline: number): Promise<void> {
	for (;;) {
		const counters = await flowCounters(origin, flowId);
		if (counters.succeeded + counters.failed >= want && counters.queued === 0) return;
		if (Date.now() > deadline) throw new Error(`only ${counters.succeeded + counters.failed} of ${want} executions finished in time`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

export async function startMetered(o: StepsOptions): Promise<{ runtime: Runtime; origin: string }> {
	const worker = metered(
		hookflowWorker(o.config, { bundleDir: o.bundleDir, petstoreUrl: o.petstoreUrl, deliver: true }),
		join(o.bundleDir, "index.js"),
	);
	const runtime = await startRuntime([worker]);
	o.onStarted?.(() => runtime.dispose());
	await applyMigrations(runtime.mf, o.migrationsDir);
	return { runtime, origin: await runtime.url("hookflow") };
}

/** Rows written per execution of the tutorial flow (ordering "flow"): a batch sent while paused, then delivered. */
export async function measureRows(o: StepsOptions, origin: string, executions = 60): Promise<RowsResult> {
	const flowId = await createHmacFlow(origin, "Rows");
	// One first execution warms everything up (the object's tables, the version cache) and is not counted.
	await sendHook(origin, flowId);
	await waitDone(origin, flowId, 1, o.deadline);
	await api(origin, "POST", `/flows/${flowId}/pause`);
	const before = await meter(origin);
	for (let i = 0; i < executions; i++) await sendHook(origin, flowId);
	await api(origin, "POST", `/flows/${flowId}/resume`);
	await waitDone(origin, flowId, executions + 1, o.deadline);
	// The run log's last flush may come a moment after the counters.
	await new Promise((resolve) => setTimeout(resolve, 500));
	const after = await meter(origin);
	return {
		executions,
		d1PerExecution: (after.d1 - before.d1) / executions,
		flowObjectPerExecution: (after.flowObject - before.flowObject) / executions,
	};
}

async function sendHook(
	origin: string,
	flowId: string,
	body = BODY,
	signature = SIGNATURE,
	headers: Record<string, string> = {},
): Promise<void> {
	const response = await fetch(`${origin}/hook/${flowId}`, {
		method: "POST",
		headers: { "content-type": "application/json", "x-hookflow-signature": signature, ...headers },
		body,
		signal: AbortSignal.timeout(10_000),
	});
	if (response.status !== 200) throw new Error(`hook answered ${response.status}: ${await response.text()}`);
	await response.body?.cancel();
}

/** The 4-step flow's numbers: the Petstore and the CRM each answer in this long. */
export const STEP_LATENCY_MS = 50;
export const STEP_KEYS = 64;
export const STEP_CONCURRENCY = 32;

const control = (petstoreUrl: string, path: string, body: unknown) =>
	fetch(`${petstoreUrl.replace(/\/v2$/, "")}/__control/${path}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});

async function credentialsFor(origin: string, petstoreUrl: string, name: string) {
	const post = (body: unknown) => api<{ credential: { id: string } }>(origin, "POST", "/credentials", body);
	const hook = (await post({ component: "webhook", name: `${name} HMAC`, auth: { type: "hmac", secret: HMAC_SECRET } })).credential.id;
	const pets = (await post({ component: "petstore", name: `${name} Petstore`, apiKey: "secret" })).credential.id;
	const crm = (
		await post({
			component: "http",
			name: `${name} CRM`,
			baseUrl: petstoreUrl.replace(/\/v2$/, "/crm"),
			auth: { type: "bearer", token: "crm-token" },
		})
	).credential.id;
	return { hook, pets, crm };
}

async function flowOf(origin: string, name: string, hook: string, steps: unknown[], delivery: Record<string, unknown>): Promise<string> {
	const { flow } = await api<{ flow: { id: string } }>(origin, "POST", "/flows", { name });
	await api(origin, "PUT", `/flows/${flow.id}/draft`, { trigger: { component: "webhook", credentialId: hook }, steps, delivery });
	await api(origin, "POST", `/flows/${flow.id}/publish`);
	await api(origin, "POST", `/flows/${flow.id}/start`);
	return flow.id;
}

const FILTER = { id: "only_sold", component: "logic", action: "filter", condition: 'petstatus = "sold"' };
const TRANSFORM = {
	id: "shape",
	component: "logic",
	action: "transform",
	expression: "{'name': petname & '-' & $string($execution.receivedAt), 'status': petstatus}",
};

/**
 * Sends `count` signed hooks to a paused flow (keys cycling), resumes it, and answers the seconds
 * until all were done, and `cpu()`'s growth over that time (from Resume: the hooks' ingress is not in it).
 * `pollMs`: how often the counters are read (each read costs workerd CPU too).
 */
async function drainPaused(
	origin: string,
	flowId: string,
	count: number,
	deadline: number,
	cpu: () => number = () => 0,
	pollMs = 20,
): Promise<{ seconds: number; cpuMs: number }> {
	await api(origin, "POST", `/flows/${flowId}/pause`);
	const before = await flowCounters(origin, flowId);
	const done0 = before.succeeded + before.failed + ((before as { filtered?: number }).filtered ?? 0);
	for (let i = 0; i < count; i++) await sendHook(origin, flowId, BODY, SIGNATURE, { "x-shop-id": `shop-${i % STEP_KEYS}` });
	for (;;) {
		const c = await flowCounters(origin, flowId);
		if (c.received >= before.received + count) break;
		if (Date.now() > deadline) throw new Error("the hooks were not all accepted in time");
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	const started = performance.now();
	const cpuBefore = cpu();
	await api(origin, "POST", `/flows/${flowId}/resume`);
	for (;;) {
		const c = await flowCounters(origin, flowId);
		const done = c.succeeded + c.failed + ((c as { filtered?: number }).filtered ?? 0) - done0;
		if (done >= count && c.queued === 0) {
			const seconds = (performance.now() - started) / 1000;
			// The run log's last flush to D1 comes a moment after the counters: it belongs to this round, not the next.
			if (pollMs > 20) await new Promise((resolve) => setTimeout(resolve, 1000));
			const cpuMs = cpu() - cpuBefore;
			if (c.failed > before.failed) throw new Error(`${c.failed - before.failed} executions failed`);
			return { seconds, cpuMs };
		}
		if (Date.now() > deadline) throw new Error(`only ${done} of ${count} executions finished in time`);
		await new Promise((resolve) => setTimeout(resolve, pollMs));
	}
}

/** executions/s of one flow of 4 steps (filter, transform, http 50 ms, petstore 50 ms), 64 keys, concurrency 32. */
export async function measureFourSteps(
	o: StepsOptions,
	origin: string,
	executions = 640,
): Promise<{ executions: number; seconds: number; perS: number }> {
	const c = await credentialsFor(origin, o.petstoreUrl, "Four");
	const flowId = await flowOf(
		origin,
		"Four steps",
		c.hook,
		[
			FILTER,
			TRANSFORM,
			{ id: "crm", component: "http", action: "request", credentialId: c.crm, method: "GET", url: "/customers/{{petname}}" },
			{
				id: "pet",
				component: "petstore",
				action: "createPet",
				credentialId: c.pets,
				mapping: { name: "$steps.shape.name & '-' & $steps.crm.body.tier", status: "$steps.shape.status" },
			},
		],
		{ ordering: "key", key: '_headers."x-shop-id"', concurrency: STEP_CONCURRENCY },
	);
	await control(o.petstoreUrl, "latency", { ms: STEP_LATENCY_MS });
	await control(o.petstoreUrl, "crm", { latencyMs: STEP_LATENCY_MS });
	// A first round warms the objects up; the second is measured.
	await drainPaused(origin, flowId, STEP_KEYS, o.deadline);
	const { seconds } = await drainPaused(origin, flowId, executions, o.deadline);
	await control(o.petstoreUrl, "latency", { ms: 0 });
	await control(o.petstoreUrl, "crm", { latencyMs: 0 });
	return { executions, seconds, perS: executions / seconds };
}

/** The two flows of the logic-step CPU line: a filter and a transform before the Petstore step, and the Petstore step alone (its mapping doing the transform's work). */
export async function logicFlows(o: StepsOptions, origin: string): Promise<{ withLogic: string; without: string }> {
	const c = await credentialsFor(origin, o.petstoreUrl, "Logic");
	const delivery = { ordering: "key", key: '_headers."x-shop-id"', concurrency: STEP_CONCURRENCY };
	const pet = (mapping: Record<string, string>) => ({
		id: "pet",
		component: "petstore",
		action: "createPet",
		credentialId: c.pets,
		mapping,
	});
	const withLogic = await flowOf(
		origin,
		"With logic",
		c.hook,
		[FILTER, TRANSFORM, pet({ name: "$steps.shape.name", status: "$steps.shape.status" })],
		delivery,
	);
	const without = await flowOf(
		origin,
		"Without logic",
		c.hook,
		[pet({ name: "petname & '-' & $string($execution.receivedAt)", status: "petstatus" })],
		delivery,
	);
	return { withLogic, without };
}

/** workerd's CPU (ms, every thread, ns resolution: /proc/<pid>/stat's 10 ms would be 0.07 ms per execution of a round) while `count` executions of a paused flow are delivered, from Resume. */
export async function drainCpuMs(o: StepsOptions, runtime: Runtime, origin: string, flowId: string, count: number): Promise<number> {
	// From Resume to done, the counters read every 250 ms: at 20 ms their reads cost more CPU than the logic steps, and more the slower the drain.
	return (await drainPaused(origin, flowId, count, o.deadline, () => processSchedCpuMs(runtime.pid), 250)).cpuMs;
}

/** workerd CPU per logic step: a flow with a filter and a transform before its Petstore step against the same flow without them, alternating. */
export async function measureLogicCpu(
	o: StepsOptions,
	runtime: Runtime,
	origin: string,
	perRound = 150,
	rounds = 3,
): Promise<{ msPerLogicStep: number; withMs: number; withoutMs: number }> {
	const { withLogic, without } = await logicFlows(o, origin);
	const cpuOf = (flowId: string) => drainCpuMs(o, runtime, origin, flowId, perRound);
	await cpuOf(withLogic);
	await cpuOf(without);
	let withMs = 0;
	let withoutMs = 0;
	for (let i = 0; i < rounds; i++) {
		withMs += await cpuOf(withLogic);
		withoutMs += await cpuOf(without);
	}
	const per = (ms: number) => ms / (rounds * perRound);
	return { msPerLogicStep: (per(withMs) - per(withoutMs)) / 2, withMs: per(withMs), withoutMs: per(withoutMs) };
}

export { api };
