// A/B (or A/B/C…) of Hookflow builds on the hook path, in one workerd, alternating rounds: the tool
// behind the "history of improvements" in BENCHMARKS.md. Each argument is NAME=PATH, where PATH is a
// project checkout (built here with its own wrangler) or a directory holding a built index.js.
//
//   node bench/compare.ts before=/tmp/main-copy after=.              (PATH=node_modules/.bin:$PATH)
//   options: --seconds N (4), --cycles N (3), --queue noop|local (noop), --no-startup
//            --delivery: instead of the hook path, each build's delivery throughput (a fresh workerd per
//            run: a load of --seconds, then the drain, timed), in ABBA order over --cycles
//            --edge: each build's edge Worker (wrangler.edge.toml) on the hook path, with this checkout's
//            control Worker behind them and the bare Q.send baseline in the same rounds (the ratio)
//            --logic: issue 17's "cpu ms per logic step" of each build (a workerd each, with the consumers):
//            the flow with a filter and a transform against the same flow without them, rounds of
//            --per executions (150), in ABBA order over the builds, --cycles times
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startPetstore } from "../dev/petstore/server.ts";
import { buildBundle, bundleSize } from "./lib/build.ts";
import { type DeliveryResult, measureDelivery } from "./lib/delivery.ts";
import {
	applyMigrations,
	BODY,
	createHmacFlow,
	edgeWorker,
	hookflowWorker,
	readWranglerConfig,
	SIGNATURE,
	sendOneHook,
	withNoopQueue,
} from "./lib/hookflow.ts";
import { abba, loadRound, markdownTable, type Round, stats } from "./lib/rounds.ts";
import { startRuntime, workerdBinary } from "./lib/runtime.ts";
import { measureStartup, STARTUP_CONFIGS } from "./lib/startup.ts";
import { drainCpuMs, logicFlows, type StepsOptions, startMetered } from "./lib/steps.ts";
import { runWrk, writeWrkScript, wrkVersion } from "./lib/wrk.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? fallback) : fallback);
const SECONDS = Number(option("--seconds", "4"));
const CYCLES = Number(option("--cycles", "3"));
const QUEUE = option("--queue", "noop");
const EDGE = args.includes("--edge");
const WRANGLER_CONFIG = EDGE ? "wrangler.edge.toml" : "wrangler.toml";
const load = { threads: Number(process.env.BENCH_THREADS ?? 2), connections: Number(process.env.BENCH_CONNECTIONS ?? 32) };
const variants = args
	.filter((a) => /^[\w.-]+=/.test(a))
	.map((a) => ({ name: a.slice(0, a.indexOf("=")), path: resolve(a.slice(a.indexOf("=") + 1)) }));
if (variants.length < 1 || !wrkVersion() || !Number.isFinite(SECONDS) || !Number.isFinite(CYCLES) || !["noop", "local"].includes(QUEUE)) {
	console.error(
		"usage: node bench/compare.ts NAME=PATH [NAME=PATH …] [--seconds N] [--cycles N] [--queue noop|local] [--no-startup]  (needs wrk)",
	);
	process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "hookflow-compare-"));
const petstore = await startPetstore();
let stop: (() => Promise<void>) | undefined;
try {
	const bundles: { name: string; dir: string }[] = [];
	for (const v of variants) {
		if (existsSync(join(v.path, WRANGLER_CONFIG))) {
			const dir = join(work, v.name);
			console.log(`building ${v.name} from ${v.path} (${WRANGLER_CONFIG})`);
			await buildBundle(v.path, dir, WRANGLER_CONFIG);
			bundles.push({ name: v.name, dir });
		} else if (existsSync(join(v.path, "index.js"))) bundles.push({ name: v.name, dir: v.path });
		else throw new Error(`${v.path} is neither a project (${WRANGLER_CONFIG}) nor a bundle (index.js)`);
	}
	// Bindings from this checkout's wrangler.toml: every variant must accept the same ones.
	const config = await readWranglerConfig(root);
	if (args.includes("--logic")) {
		const per = Number(option("--per", "150"));
		const disposers: (() => Promise<void>)[] = [];
		stop = async () => {
			for (const d of disposers) await d();
		};
		const setups = [];
		for (const b of bundles) {
			const o: StepsOptions = {
				config,
				bundleDir: b.dir,
				migrationsDir: join(root, "migrations"),
				petstoreUrl: petstore.url,
				deadline: Date.now() + 60 * 60_000,
				onStarted: (dispose) => disposers.push(dispose),
				step: (line) => console.log(line),
			};
			const { runtime, origin } = await startMetered(o);
			const flows = await logicFlows(o, origin);
			// A warm-up round of each flow: the objects, versions and credentials loaded, the code optimized.
			await drainCpuMs(o, runtime, origin, flows.withLogic, per);
			await drainCpuMs(o, runtime, origin, flows.without, per);
			setups.push({ name: b.name, o, runtime, origin, flows, withMs: 0, withoutMs: 0, rounds: 0 });
		}
		for (const s of abba(setups, CYCLES)) {
			const withMs = await drainCpuMs(s.o, s.runtime, s.origin, s.flows.withLogic, per);
			const withoutMs = await drainCpuMs(s.o, s.runtime, s.origin, s.flows.without, per);
			s.withMs += withMs;
			s.withoutMs += withoutMs;
			s.rounds++;
			console.log(
				`  ${s.name.padEnd(16)} with ${(withMs / per).toFixed(3)} ms/execution, without ${(withoutMs / per).toFixed(3)}: ${((withMs - withoutMs) / per / 2).toFixed(3)} ms per logic step`,
			);
		}
		const rows = [["build", "cpu ms/execution with", "without", "cpu ms per logic step"]];
		for (const s of setups) {
			const n = s.rounds * per;
			rows.push([s.name, (s.withMs / n).toFixed(3), (s.withoutMs / n).toFixed(3), ((s.withMs - s.withoutMs) / n / 2).toFixed(3)]);
		}
		console.log(`\nlogic steps: ${CYCLES} ABBA cycles, ${per} executions per flow and round, 64 keys, concurrency 32`);
		for (const line of markdownTable(rows)) console.log(line);
	} else if (args.includes("--delivery")) {
		const runs: { name: string; result: DeliveryResult }[] = [];
		for (const b of abba(bundles, CYCLES)) {
			const result = await measureDelivery({
				config,
				bundleDir: b.dir,
				migrationsDir: join(root, "migrations"),
				petstoreUrl: petstore.url,
				workDir: work,
				loadSeconds: SECONDS,
				load,
				drainDeadline: Date.now() + 15_000 + SECONDS * 1000 + 90_000,
			});
			runs.push({ name: b.name, result });
			console.log(
				`  ${b.name.padEnd(16)} ${result.accepted} accepted, backlog ${result.backlogAtEnd}, ${result.drained ? `drained in ${result.drainS.toFixed(1)} s` : "NOT drained"}, ` +
					`${(result.backlogAtEnd / result.drainS).toFixed(0)} deliveries/s, ${(result.drainCpuMs / Math.max(1, result.backlogAtEnd)).toFixed(2)} ms CPU per delivery`,
			);
		}
		const rows = [["build", "ingress req/s", "backlog", "drain s", "deliveries/s", "cpu ms/delivery"]];
		for (const b of bundles) {
			const mine = runs.filter((r) => r.name === b.name).map((r) => r.result);
			const total = (pick: (r: DeliveryResult) => number) => mine.reduce((t, r) => t + pick(r), 0);
			rows.push([
				b.name,
				(total((r) => r.load.wrk.rps) / mine.length).toFixed(0),
				(total((r) => r.backlogAtEnd) / mine.length).toFixed(0),
				(total((r) => r.drainS) / mine.length).toFixed(1),
				(total((r) => r.backlogAtEnd) / total((r) => r.drainS)).toFixed(0),
				(
					total((r) => r.drainCpuMs) /
					Math.max(
						1,
						total((r) => r.backlogAtEnd),
					)
				).toFixed(2),
			]);
		}
		console.log(`\ndelivery: ${CYCLES} ABBA cycles, each a ${SECONDS} s load (wrk -t${load.threads} -c${load.connections}) then the drain`);
		for (const line of markdownTable(rows)) console.log(line);
		process.exitCode = 0;
	} else {
		const control = EDGE ? join(work, "__control") : undefined;
		if (control) {
			console.log(`building the control Worker from ${root}`);
			await buildBundle(root, control);
		}
		const edgeConfig = EDGE ? await readWranglerConfig(root, "wrangler.edge.toml") : undefined;
		const baselineFile = join(root, "bench/workers/baseline.js");
		const baselineQueue = {
			name: "baseline",
			compatibilityDate: config.compatibility_date,
			queueProducers: { Q: { queueName: "baseline-queue" } },
		};
		const rt = await startRuntime([
			...(control ? [hookflowWorker(config, { bundleDir: control, petstoreUrl: petstore.url, deliver: false })] : []),
			...bundles.map((b) => {
				const worker = edgeConfig
					? edgeWorker(edgeConfig, b.dir, b.name)
					: { ...hookflowWorker(config, { bundleDir: b.dir, petstoreUrl: petstore.url, deliver: false }), name: b.name };
				return QUEUE === "noop" ? withNoopQueue(worker, b.name, join(b.dir, "index.js")) : worker;
			}),
			// The bare Q.send worker of the ingress ratio, on the same queue.
			...(EDGE
				? [
						QUEUE === "noop"
							? withNoopQueue(baselineQueue, "baseline", baselineFile)
							: { ...baselineQueue, modules: true, scriptPath: baselineFile },
					]
				: []),
		]);
		stop = () => rt.dispose();
		const admin = control ? "hookflow" : (bundles[0]?.name as string);
		await applyMigrations(rt.mf, join(root, "migrations"), admin);
		const origins = new Map<string, string>();
		for (const b of bundles) origins.set(b.name, await rt.url(b.name));
		const flowId = await createHmacFlow(await rt.url(admin), "compare");
		const script = writeWrkScript(join(work, "hook.lua"), {
			method: "POST",
			path: `/hook/${flowId}`,
			body: BODY,
			headers: { "content-type": "application/json", "x-hookflow-signature": SIGNATURE },
		});
		const plainScript = writeWrkScript(join(work, "plain.lua"), {
			method: "POST",
			path: "/",
			body: BODY,
			headers: { "content-type": "application/json" },
		});
		for (const [name, origin] of origins) {
			const response = await sendOneHook(origin, flowId);
			if (response.status !== 200) throw new Error(`${name} answered ${response.status}: ${await response.text()}`);
			await runWrk({ url: origin, script, seconds: 2, ...load });
		}
		if (EDGE) origins.set("baseline", await rt.url("baseline"));
		const rounds: Round[] = [];
		for (const name of abba([...origins.keys()], CYCLES)) {
			const round = await loadRound(
				rt.pid,
				name,
				origins.get(name) as string,
				name === "baseline" && EDGE ? plainScript : script,
				SECONDS,
				load,
			);
			rounds.push(round);
			console.log(
				`  ${name.padEnd(16)} ${round.wrk.rps.toFixed(0).padStart(6)} req/s  cpu ${(round.cpuMs / Math.max(1, round.wrk.accepted)).toFixed(3)} ms/req`,
			);
		}
		await rt.dispose();
		stop = undefined;

		const startupDir = join(work, "startup");
		const first = stats(rounds.filter((r) => r.worker === bundles[0]?.name));
		const base = EDGE ? stats(rounds.filter((r) => r.worker === "baseline")) : undefined;
		const rows = [["build", "req/s", "p99 ms", "cpu ms/req", "Δ cpu", "gzip KiB", "startup ms", ...(base ? ["ratio vs Q.send"] : [])]];
		for (const b of bundles) {
			const s = stats(rounds.filter((r) => r.worker === b.name));
			let startup = "";
			if (!args.includes("--no-startup")) {
				rmSync(startupDir, { recursive: true, force: true });
				mkdirSync(startupDir);
				const configs = EDGE ? STARTUP_CONFIGS.edge : STARTUP_CONFIGS.control;
				startup = (await measureStartup(workerdBinary, join(b.dir, "index.js"), startupDir, 5, configs)).startupMs.toFixed(1);
			}
			rows.push([
				b.name,
				s.rps.toFixed(0),
				s.p99.toFixed(1),
				s.cpu.toFixed(3),
				`${(((s.cpu - first.cpu) / first.cpu) * 100).toFixed(0)}%`,
				bundleSize(b.dir).gzipKiB.toFixed(1),
				startup,
				...(base ? [(s.rps / base.rps).toFixed(2)] : []),
			]);
		}
		if (base) rows.push(["baseline Q.send", base.rps.toFixed(0), base.p99.toFixed(1), base.cpu.toFixed(3), "", "", "", ""]);
		console.log(
			`\n${EDGE ? "edge Worker " : ""}hook on the ${QUEUE === "noop" ? "no-op" : "local"} queue, ${CYCLES} ABBA cycles of ${SECONDS} s, wrk -t${load.threads} -c${load.connections}`,
		);
		for (const line of markdownTable(rows)) console.log(line);
	}
} finally {
	await stop?.();
	await petstore.close();
	rmSync(work, { recursive: true, force: true });
}
