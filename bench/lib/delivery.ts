// The whole pipeline on one workerd (ingress, local queue + consumer, flow objects, D1 run log) with
// the local Petstore: a load, then the time until every accepted execution has been delivered.
import { join } from "node:path";
import {
	applyMigrations,
	BODY,
	createHmacFlow,
	type FlowCounters,
	flowCounters,
	hookflowWorker,
	SIGNATURE,
	sendOneHook,
	type WranglerConfig,
} from "./hookflow.ts";
import { processCpuMs } from "./proc.ts";
import { type LoadOptions, loadRound, type Round } from "./rounds.ts";
import { type LogCounts, startRuntime } from "./runtime.ts";
import { writeWrkScript } from "./wrk.ts";

export interface DeliveryResult {
	load: Round;
	/** Accepted by the Worker during the load: the flow object counts every one (wrk misses those in flight when it stops). */
	accepted: number;
	/** Accepted but not yet delivered when the load stopped. */
	backlogAtEnd: number;
	drained: boolean;
	/** From the end of the load until every accepted execution was done (or the bound, when not drained). */
	drainS: number;
	/** workerd CPU from the end of the load until drained. */
	drainCpuMs: number;
	counters: FlowCounters;
	pets: number;
	logs: LogCounts;
}

export interface DeliveryOptions {
	config: WranglerConfig;
	bundleDir: string;
	migrationsDir: string;
	petstoreUrl: string;
	/** Where the wrk script goes. */
	workDir: string;
	loadSeconds: number;
	load: LoadOptions;
	/** Stop waiting for the drain at this time (epoch ms). */
	drainDeadline: number;
	onLoadDone?: (round: Round) => void;
	/** Registers the runtime's disposal with the caller's cleanup. */
	onStarted?: (dispose: () => Promise<void>) => void;
	/** The flow's `delivery`: KEY_FLOW for `npm run bench`; absent (ordering "flow") where builds before issue 11 take part. */
	delivery?: typeof KEY_FLOW;
}

/**
 * `npm run bench` drains a flow ordered per key (issue 11): the key is the `x-shop-id` header,
 * which the load cycles through 64 values, so the executions spread over keys as a shop's would.
 */
export const KEY_FLOW = { ordering: "key", key: '_headers."x-shop-id"', concurrency: 32 } as const;
const KEYS = 64;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureDelivery(o: DeliveryOptions): Promise<DeliveryResult> {
	const petstoreControl = o.petstoreUrl.replace(/\/v2$/, "/__control");
	await fetch(`${petstoreControl}/reset`, { method: "POST" });
	const rt = await startRuntime([hookflowWorker(o.config, { bundleDir: o.bundleDir, petstoreUrl: o.petstoreUrl, deliver: true })]);
	o.onStarted?.(() => rt.dispose());
	try {
		await applyMigrations(rt.mf, o.migrationsDir);
		const origin = await rt.url("hookflow");
		const flowId = await createHmacFlow(origin, "bench delivery", { delivery: o.delivery });
		const warm = await sendOneHook(origin, flowId);
		if (warm.status !== 200) throw new Error(`the signed hook answered ${warm.status}: ${await warm.text()}`);
		// The warm-up execution is delivered before the load starts.
		for (let i = 0; i < 100 && (await flowCounters(origin, flowId)).succeeded < 1; i++) await sleep(100);
		const script = writeWrkScript(join(o.workDir, "delivery.lua"), {
			method: "POST",
			path: `/hook/${flowId}`,
			body: BODY,
			headers: { "content-type": "application/json", "x-hookflow-signature": SIGNATURE },
			cycle: o.delivery ? { header: "x-shop-id", prefix: "shop-", count: KEYS } : undefined,
		});
		const load = await loadRound(rt.pid, "pipeline", origin, script, o.loadSeconds, o.load);
		const loadEnded = Date.now();
		const cpuAtLoadEnd = processCpuMs(rt.pid);
		const atLoadEnd = await flowCounters(origin, flowId);
		o.onLoadDone?.(load);
		// Drained: every execution done (succeeded or failed), none in flight, at least as many as wrk
		// saw accepted; and it holds still for 1.5 s (the queue's max_batch_timeout is 1 s), since wrk
		// does not count the requests in flight when it stopped, which the Worker did accept.
		let counters = atLoadEnd;
		let settledAt: number | null = null;
		let settled: FlowCounters | null = null;
		let drained = false;
		while (Date.now() < o.drainDeadline) {
			counters = await flowCounters(origin, flowId);
			const done =
				!counters.queued &&
				counters.inFlight === 0 &&
				counters.succeeded + counters.failed === counters.received &&
				counters.received >= load.wrk.accepted + 1;
			if (!done) settledAt = null;
			else if (settledAt === null || counters.received !== settled?.received) {
				settledAt = Date.now();
				settled = counters;
			} else if (Date.now() - settledAt >= 1500) {
				drained = true;
				break;
			}
			await sleep(100);
		}
		const drainS = ((drained && settledAt !== null ? settledAt : Date.now()) - loadEnded) / 1000;
		const drainCpuMs = processCpuMs(rt.pid) - cpuAtLoadEnd;
		const pets = ((await (await fetch(`${petstoreControl}/pets`)).json()) as unknown[]).length;
		return {
			load,
			accepted: Math.max(load.wrk.accepted, counters.received - 1),
			backlogAtEnd: Math.max(0, counters.received - 1 - (atLoadEnd.succeeded - 1) - atLoadEnd.failed),
			drained,
			drainS,
			drainCpuMs,
			counters,
			pets,
			logs: { ...rt.logs },
		};
	} finally {
		await rt.dispose();
	}
}
