// `npm run bench -- --only edge --profile`: where the edge Worker's CPU goes, per accepted hook and
// at startup. Sampled through workerd's inspector, so the shares are indicative (see BENCHMARKS.md).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
	applyMigrations,
	BODY,
	createHmacFlow,
	edgeWorker,
	hookflowWorker,
	SIGNATURE,
	type WranglerConfig,
	withNoopQueue,
} from "./hookflow.ts";
import { type CpuProfile, formatSummary, profileIsolates, summarize } from "./profile.ts";
import { startRuntime, workerdBinary } from "./runtime.ts";
import { profileStartup } from "./startup.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

export interface EdgeProfileOptions {
	bundleDir: string;
	edgeDir: string;
	edgeFile: string;
	petstoreUrl: string;
	work: string;
	edgeStartupDir: string;
	migrationsDir: string;
	threads: number;
	connections: number;
}

export async function profileEdge(config: WranglerConfig, edgeConfig: WranglerConfig, o: EdgeProfileOptions): Promise<string[]> {
	const lines: string[] = [];
	const rt = await startRuntime(
		[
			hookflowWorker(config, { bundleDir: o.bundleDir, petstoreUrl: o.petstoreUrl, deliver: false }),
			// The no-op queue, as "cpu ms per accepted hook" measures: the Worker's own CPU, not the queue simulator's.
			withNoopQueue(edgeWorker(edgeConfig, o.edgeDir), "edge-noop", o.edgeFile),
		],
		{ inspectorPort: 0 },
	);
	try {
		await applyMigrations(rt.mf, o.migrationsDir);
		const origin = await rt.url("edge-noop");
		const flowId = await createHmacFlow(await rt.url("hookflow"), "bench edge profile");
		const script = writeWrkScript(join(o.work, "edge-profile.lua"), {
			method: "POST",
			path: `/hook/${flowId}`,
			body: BODY,
			headers: { "content-type": "application/json", "x-hookflow-signature": SIGNATURE },
		});
		const load = { threads: o.threads, connections: o.connections };
		await runWrk({ url: origin, script, seconds: 2, ...load });
		const isolate = `${await rt.inspectorUrl()}/core:user:edge-noop`;
		const profiled = await profileIsolates([isolate], 100, () => runWrk({ url: origin, script, seconds: 3, ...load }));
		writeFileSync(join(o.work, "edge-ingress.cpuprofile"), JSON.stringify(profiled.profiles[0]));
		lines.push(
			`edge ingress: ${profiled.result.accepted} hooks, edge Worker isolate (no-op queue, profiler on, ${profiled.result.rps.toFixed(0)} req/s):`,
			// The bundle runs as "__target.js" behind the no-op queue's entry (bench/workers/noop-queue.js).
			...formatSummary(summarize(profiled.profiles[0] as CpuProfile, "__target.js", join(o.edgeDir, "index.js.map")), 20),
		);
	} finally {
		await rt.dispose();
	}
	const startup = await profileStartup(workerdBinary, o.edgeFile, o.edgeStartupDir, 50);
	writeFileSync(join(o.work, "edge-startup.cpuprofile"), JSON.stringify(startup));
	lines.push(
		"edge startup (top-level evaluation of the bundle):",
		...formatSummary(summarize(startup, "index.js", join(o.edgeDir, "index.js.map")), 10),
	);
	return lines;
}
