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
import { api, applyMigrations, BODY, createHmacFlow, flowCounters, hookflowWorker, SIGNATURE, type WranglerConfig } from "./hookflow.ts";
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

/** Rows written per execution of the tutorial flow (ordering "flow"), sent one after another. */
export async function measureRows(o: StepsOptions, origin: string, executions = 40): Promise<RowsResult> {
	const flowId = await createHmacFlow(origin, "Rows");
	// One first execution warms everything up (the object's tables, the version cache) and is not counted.
	await sendHook(origin, flowId);
	await waitDone(origin, flowId, 1, o.deadline);
	const before = await meter(origin);
	for (let i = 0; i < executions; i++) {
		await sendHook(origin, flowId);
		await waitDone(origin, flowId, i + 2, o.deadline);
	}
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

export { api };
