// `npm run bench`: Hookflow's ingress against a bare Q.send worker on the same runtime, in the
// same run, alternating; CPU per accepted hook; the delivery backlog after load (a `key` flow);
// one key flow's deliveries/s against a 50 ms Petstore, its per-key order and a destination rate
// limit; bundle size and startup CPU. Load goes to 127.0.0.1 only, every phase is bounded, the
// whole run takes < 4 min.
// BENCHMARKS.md says what each number means, how it is measured, and what the last runs gave.
//
//   npm run bench                  the full run (wrk from Debian's package; installed when missing and root)
//   npm run bench -- --profile     also CPU-profile ingress, delivery and startup (inspector, sampled)
//   npm run bench -- --json FILE   also write every measurement as JSON
//   npm run bench -- --keep        keep the work directory (bundle, wrk scripts, .cpuprofile files)
//   npm run bench -- --only keys   only the key-flow phase (deliveries/s, per-key order, rate limit), ~1 min
//   npm run bench -- --only steps  only issue 17's lines (rows written per execution, 4-step flow, cpu per logic step)
//   npm run bench -- --only rows   only the rows written per execution of the tutorial flow (any build: --project DIR)
//
// Tunables (environment): BENCH_ROUND_SECONDS (5), BENCH_PAIRS (3 ABBA cycles), BENCH_CONNECTIONS (32),
// BENCH_THREADS (2), BENCH_LOAD_SECONDS (3, the delivery phase's load), BENCH_DRAIN_TIMEOUT_SECONDS (60).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPetstore } from "../dev/petstore/server.ts";
import { buildBundle, bundleSize } from "./lib/build.ts";
import { KEY_FLOW, measureDelivery } from "./lib/delivery.ts";
import {
	applyMigrations,
	BODY,
	createHmacFlow,
	flowCounters,
	hookflowWorker,
	readWranglerConfig,
	SIGNATURE,
	sendOneHook,
	withNoopQueue,
} from "./lib/hookflow.ts";
import { CONCURRENCY, KEYS, measureOrdering, PETSTORE_LATENCY_MS, RATE_LIMIT, RATE_WINDOW_S } from "./lib/ordering.ts";
import { idleCheck } from "./lib/proc.ts";
import { type CpuProfile, formatSummary, profileIsolates, summarize } from "./lib/profile.ts";
import { abba, markdownTable, type Round, loadRound as roundOn, type Stats, stats } from "./lib/rounds.ts";
import { miniflareVersion, type Runtime, startRuntime, workerdBinary, workerdVersion } from "./lib/runtime.ts";
import { measureSearch } from "./lib/search.ts";
import { measureStartup, profileStartup } from "./lib/startup.ts";
import {
	measureFourSteps,
	measureLogicCpu,
	measureRows,
	STEP_CONCURRENCY,
	STEP_KEYS,
	STEP_LATENCY_MS,
	type StepsOptions,
	startMetered,
} from "./lib/steps.ts";
import { runWrk, writeWrkScript, wrkVersion } from "./lib/wrk.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const startedAt = Date.now();
/** Every phase checks this; the run as a whole stays under 4 minutes. */
const DEADLINE = startedAt + 235_000;
const args = process.argv.slice(2);
const wantProfile = args.includes("--profile");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
if (only !== undefined && !["keys", "steps", "rows"].includes(only))
	throw new Error(`--only ${only}: the phases that run alone are "keys", "steps" and "rows"`);
/** `--project DIR`: build another checkout (a copy of main, to compare); its bundle runs with this bench. */
const projectDir = args.includes("--project") ? args[args.indexOf("--project") + 1] : undefined;

const num = (name: string, fallback: number) => {
	const value = Number(process.env[name] ?? fallback);
	if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
	return value;
};
const ROUND_SECONDS = num("BENCH_ROUND_SECONDS", 5);
const PAIRS = num("BENCH_PAIRS", 3);
const CONNECTIONS = num("BENCH_CONNECTIONS", 32);
const THREADS = num("BENCH_THREADS", 2);
const LOAD_SECONDS = num("BENCH_LOAD_SECONDS", 3);
const DRAIN_TIMEOUT_MS = num("BENCH_DRAIN_TIMEOUT_SECONDS", 60) * 1000;
/** Hooks per key (64 keys) in the keyed-throughput phase. */
const PER_KEY = num("BENCH_HOOKS_PER_KEY", 50);
const WARMUP_SECONDS = 2;

/** The issue's anchor for a bare 202 worker on plain workerd (2 cores, wrk -t2 -c32). */
const ANCHOR_BARE_RPS = 27_018;
/** The issue's targets. */
const TARGET = { ratio: 0.9, cpuMs: 0.15, p99Factor: 1.2, drainS: 2, gzipKiB: 150, startupMs: 10, keyedPerS: 400, rateSlack: 1 };

const say = (line: string) => console.log(line);
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(0)}s`;
const step = (what: string) => say(`[${elapsed().padStart(4)}] ${what}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ── cleanup: whatever was started is stopped, on success, failure or Ctrl-C ────────────────────
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
	cleaning ??= (async () => {
		for (const fn of cleanups.reverse()) {
			try {
				await fn();
			} catch {
				// Best effort: the rest must still be stopped.
			}
		}
	})();
	return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => {
		say(`\nbench: ${signal}, stopping`);
		void cleanup().then(() => process.exit(130));
	});
}

// ── measurements ───────────────────────────────────────────────────────────────────────────────

type Worker = "hook" | "baseline" | "hook-noop" | "baseline-noop" | "bare";
const LABEL: Record<Worker, string> = {
	hook: "hook (bundle, HMAC), local queue",
	baseline: "baseline Q.send, local queue",
	"hook-noop": "hook (bundle, HMAC), no-op queue = plain workerd",
	"baseline-noop": "baseline Q.send, no-op queue = plain workerd",
	bare: "bare 202 (calibration)",
};

const loadRound = (rt: Runtime, worker: Worker, url: string, script: string, seconds: number) =>
	roundOn(rt.pid, worker, url, script, seconds, { threads: THREADS, connections: CONNECTIONS });

/** wrk comes from Debian's package; like .ci/run does for Chromium, install it when missing and root. */
function installWrk(): string {
	const isRoot = process.getuid?.() === 0;
	if (isRoot && spawnSync("apt-get", ["--version"]).status === 0) {
		say("bench: wrk is missing; apt-get install -y wrk");
		const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
		const install = () =>
			spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "wrk"], { stdio: "inherit", env, timeout: 120_000 });
		if (install().status !== 0) {
			spawnSync("apt-get", ["update"], { stdio: "inherit", env, timeout: 120_000 });
			install();
		}
	}
	const version = wrkVersion();
	if (!version) throw new Error("wrk is not installed and could not be installed here: apt-get install -y wrk");
	return version;
}

async function main(): Promise<void> {
	if (process.platform !== "linux") throw new Error("the benchmark reads /proc: Linux only");
	const wrk = wrkVersion() ?? installWrk();
	const work = mkdtempSync(join(tmpdir(), "hookflow-bench-"));
	if (!args.includes("--keep")) cleanups.push(() => rmSync(work, { recursive: true, force: true }));

	const machine = {
		cpu: cpus()[0]?.model ?? "unknown",
		cores: cpus().length,
		loadavg: loadavg()
			.map((l) => l.toFixed(2))
			.join(" "),
		otherCoresBefore: await idleCheck(1000),
	};
	step(`machine: ${machine.cores} × ${machine.cpu}, load average ${machine.loadavg}`);
	step(`runtime: workerd ${workerdVersion} via miniflare ${miniflareVersion} (wrangler's own); load: wrk ${wrk}`);
	if (machine.otherCoresBefore > 0.15)
		say(`  WARNING: other processes keep ${machine.otherCoresBefore.toFixed(2)} cores busy; absolute numbers will be low`);

	// ── 1. the bundle, as `npm run build` makes it ──────────────────────────────────────────────
	step("building the bundle (wrangler deploy --dry-run --env=, as npm run build)");
	const config = await readWranglerConfig(projectDir ?? root);
	const bundleDir = join(work, "bundle");
	await buildBundle(projectDir ?? root, bundleDir);
	const bundleFile = join(bundleDir, "index.js");
	const size = bundleSize(bundleDir);
	step(`bundle: ${size.rawKiB.toFixed(1)} KiB, ${size.gzipKiB.toFixed(1)} KiB gzip`);
	if (only === "keys") return keysOnly(config, bundleDir);
	if (only === "steps" || only === "rows") return stepsOnly(config, bundleDir, only);

	// ── 2. startup CPU on plain workerd ─────────────────────────────────────────────────────────
	step("startup CPU: plain workerd, bundle vs empty worker, 7 runs each");
	const startupDir = join(work, "startup");
	mkdirSync(startupDir);
	const startup = await measureStartup(workerdBinary, bundleFile, startupDir, 7);
	step(`startup: ${startup.startupMs.toFixed(1)} ms CPU (bundle ${startup.bundleMs.toFixed(1)} − empty ${startup.emptyMs.toFixed(1)})`);

	const petstore = await startPetstore();
	cleanups.push(() => petstore.close());

	const hookScript = (flowId: string, name: string) =>
		writeWrkScript(join(work, `${name}.lua`), {
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

	// ── 3. ingress: hook vs baseline, one workerd, alternating rounds ───────────────────────────
	step("ingress: one workerd with the bundle and the baseline, each on the local queue and on a no-op queue");
	const hookflow = hookflowWorker(config, { bundleDir, petstoreUrl: petstore.url, deliver: false });
	const compatibilityDate = config.compatibility_date;
	const ingress = await startRuntime([
		hookflow,
		withNoopQueue(hookflow, "hookflow-noop", bundleFile),
		{
			name: "baseline",
			modules: true,
			scriptPath: join(root, "bench/workers/baseline.js"),
			compatibilityDate,
			queueProducers: { Q: { queueName: "baseline-queue" } },
		},
		withNoopQueue(
			{ name: "baseline", compatibilityDate, queueProducers: { Q: { queueName: "baseline-queue" } } },
			"baseline-noop",
			join(root, "bench/workers/baseline.js"),
		),
		{ name: "bare", modules: true, scriptPath: join(root, "bench/workers/bare.js"), compatibilityDate },
	]);
	cleanups.push(() => ingress.dispose());
	await applyMigrations(ingress.mf, join(root, "migrations"));
	const flowId = await createHmacFlow(await ingress.url("hookflow"), "bench ingress");
	const hookLua = hookScript(flowId, "hook");
	const contestants: Record<Worker, { origin: string; script: string }> = {
		hook: { origin: await ingress.url("hookflow"), script: hookLua },
		baseline: { origin: await ingress.url("baseline"), script: plainScript },
		"hook-noop": { origin: await ingress.url("hookflow-noop"), script: hookLua },
		"baseline-noop": { origin: await ingress.url("baseline-noop"), script: plainScript },
		bare: { origin: await ingress.url("bare"), script: plainScript },
	};
	for (const [worker, { origin }] of Object.entries(contestants)) {
		const response = worker.startsWith("hook")
			? await sendOneHook(origin, flowId)
			: await fetch(origin, { method: "POST", headers: { "content-type": "application/json" }, body: BODY });
		if (response.status !== (worker.startsWith("hook") ? 200 : 202))
			throw new Error(`${worker} answered ${response.status}: ${await response.text()}`);
	}

	step(`warm-up: ${WARMUP_SECONDS} s each, not counted`);
	for (const { origin, script } of Object.values(contestants))
		await runWrk({ url: origin, script, seconds: WARMUP_SECONDS, threads: THREADS, connections: CONNECTIONS });

	const rounds: Round[] = [];
	const bare = await loadRound(ingress, "bare", contestants.bare.origin, plainScript, ROUND_SECONDS);
	step(`bare 202 (calibration): ${bare.wrk.rps.toFixed(0)} req/s`);
	// ABBA order (hook, baseline, …, then the reverse) so a drift in machine speed hits both sides alike.
	const order = abba<Worker>(["hook", "baseline", "hook-noop", "baseline-noop"], PAIRS);
	for (const worker of order) {
		if (Date.now() + (ROUND_SECONDS + 5) * 1000 > DEADLINE - 60_000) {
			say("  (time budget: skipping the remaining rounds)");
			break;
		}
		const { origin, script } = contestants[worker];
		const round = await loadRound(ingress, worker, origin, script, ROUND_SECONDS);
		rounds.push(round);
		step(
			`${worker.padEnd(13)} ${round.wrk.rps.toFixed(0).padStart(6)} req/s  p99 ${round.wrk.p99.toFixed(1).padStart(6)} ms  ` +
				`cpu ${(round.cpuMs / Math.max(1, round.wrk.accepted)).toFixed(3)} ms/req  non-2xx ${round.wrk.non2xx}`,
		);
	}
	const of = (worker: Worker) => rounds.filter((r) => r.worker === worker);
	const hookRounds = of("hook");
	const baseRounds = of("baseline");
	const hookNoopRounds = of("hook-noop");
	const baseNoopRounds = of("baseline-noop");
	if ([hookRounds, baseRounds, hookNoopRounds, baseNoopRounds].some((r) => r.length === 0)) throw new Error("not every worker got a round");
	const ingressLogs = { ...ingress.logs };
	await ingress.dispose();

	// ── 4. the whole pipeline: load, then the delivery backlog draining ─────────────────────────
	step("delivery: a fresh workerd with the queue consumer, flow objects and the local Petstore");
	const delivery = await measureDelivery({
		config,
		bundleDir,
		migrationsDir: join(root, "migrations"),
		petstoreUrl: petstore.url,
		workDir: work,
		loadSeconds: LOAD_SECONDS,
		delivery: KEY_FLOW,
		load: { threads: THREADS, connections: CONNECTIONS },
		drainDeadline: Math.min(Date.now() + 15_000 + LOAD_SECONDS * 1000 + DRAIN_TIMEOUT_MS, DEADLINE - (wantProfile ? 40_000 : 5_000)),
		onStarted: (dispose) => cleanups.push(dispose),
		onLoadDone: (load) =>
			step(`load: ${load.wrk.rps.toFixed(0)} req/s for ${load.wrk.seconds.toFixed(1)} s, ${load.wrk.accepted} accepted`),
	});
	const { load, drained, drainS, drainCpuMs, counters, backlogAtEnd, pets } = delivery;
	const pipelineAccepted = delivery.accepted;
	step(
		drained
			? `drained ${drainS.toFixed(1)} s after the load: ${counters.succeeded} succeeded, ${counters.failed} failed, ${pets} pets created`
			: `NOT drained ${drainS.toFixed(1)} s after the load: ${JSON.stringify(counters)}`,
	);
	const pipelineLogs = delivery.logs;

	// ── 5. one key flow against a 50 ms Petstore: deliveries/s, per-key order, a rate limit ─────
	step(
		`keys: a fresh workerd; the Petstore answers pet POSTs in ${PETSTORE_LATENCY_MS} ms; ${KEYS} keys × ${PER_KEY}, concurrency ${CONCURRENCY}`,
	);
	const ordering = await measureOrdering({
		config,
		bundleDir,
		migrationsDir: join(root, "migrations"),
		petstoreUrl: petstore.url,
		perKey: PER_KEY,
		deadline: DEADLINE - (wantProfile ? 40_000 : 5_000),
		onStarted: (dispose) => cleanups.push(dispose),
		step,
	});
	step(
		`keys: ${ordering.delivered} pets in ${ordering.deliverySeconds.toFixed(1)} s = ${ordering.deliveriesPerS.toFixed(0)}/s ` +
			`(${ordering.cpuMsPerDelivery.toFixed(2)} ms workerd CPU each, at most ${ordering.maxConcurrent} calls at once); ` +
			`order violations ${ordering.orderViolations}, duplicates ${ordering.duplicates}, missing ${ordering.missing}; ` +
			`rate limit: ${ordering.rate.inWindow} calls in the first ${RATE_WINDOW_S} s, at most ${ordering.rate.maxInAnySecond} in any 1 s`,
	);

	// ── 6. the run-log search over 100k executions ──────────────────────────────────────────────
	step("run-log search: 100k executions in D1, the admin API's field search (bench/lib/search.ts)");
	const search = await measureSearch({
		config,
		bundleDir,
		migrationsDir: join(root, "migrations"),
		petstoreUrl: petstore.url,
		onStarted: (dispose) => cleanups.push(dispose),
	});
	step(
		`search medians: field ${search.fieldMs.toFixed(1)} ms, no match ${search.noMatchMs.toFixed(1)} ms, text ${search.textMs.toFixed(1)} ms, status+range ${search.statusRangeMs.toFixed(1)} ms`,
	);

	// ── 6b. flows of many steps (issue 17): rows written per execution, a 4-step flow, logic CPU ──
	step("steps: rows written per tutorial execution, a 4-step flow, the CPU of logic steps (bench/lib/steps.ts)");
	const stepLines = await stepsPhase(config, bundleDir, petstore.url, "steps");

	// ── 7. optional profiles (--profile): where the hookflow isolate's CPU goes ─────────────────
	const profileLines: string[] = [];
	if (wantProfile && Date.now() < DEADLINE - 30_000) {
		const sourceMap = join(bundleDir, "index.js.map");
		const profiledRuntime = async (deliver: boolean) => {
			const rt = await startRuntime([hookflowWorker(config, { bundleDir, petstoreUrl: petstore.url, deliver })], { inspectorPort: 0 });
			cleanups.push(() => rt.dispose());
			await applyMigrations(rt.mf, join(root, "migrations"));
			const origin = await rt.url("hookflow");
			const id = await createHmacFlow(origin, "bench profile");
			return { rt, origin, id, lua: hookScript(id, `profile-${deliver}`), isolate: `${await rt.inspectorUrl()}/core:user:hookflow` };
		};

		step("profile: the hook under load (no consumer; inspector attached, sampling every 100 µs)");
		const ing = await profiledRuntime(false);
		await runWrk({ url: ing.origin, script: ing.lua, seconds: WARMUP_SECONDS, threads: THREADS, connections: CONNECTIONS });
		const ingress = await profileIsolates([ing.isolate], 100, () =>
			runWrk({ url: ing.origin, script: ing.lua, seconds: 3, threads: THREADS, connections: CONNECTIONS }),
		);
		writeFileSync(join(work, "ingress.cpuprofile"), JSON.stringify(ingress.profiles[0]));
		profileLines.push(
			`ingress: ${ingress.result.accepted} hooks, hookflow isolate (with the profiler on, ${ingress.result.rps.toFixed(0)} req/s):`,
			...formatSummary(summarize(ingress.profiles[0] as CpuProfile, "index.js", sourceMap), 15),
		);
		await ing.rt.dispose();

		step("profile: deliveries (queue consumer + flow object) draining a 2 s load");
		const del = await profiledRuntime(true);
		await runWrk({ url: del.origin, script: del.lua, seconds: 2, threads: THREADS, connections: CONNECTIONS });
		const before = await flowCounters(del.origin, del.id);
		const delivery = await profileIsolates([del.isolate], 100, () =>
			sleep(Math.max(1000, Math.min(6_000, DEADLINE - Date.now() - 15_000))),
		);
		const after = await flowCounters(del.origin, del.id);
		writeFileSync(join(work, "delivery.cpuprofile"), JSON.stringify(delivery.profiles[0]));
		profileLines.push(
			`delivery: ${after.succeeded + after.failed - before.succeeded - before.failed} executions delivered while profiled, hookflow isolate:`,
			...formatSummary(summarize(delivery.profiles[0] as CpuProfile, "index.js", sourceMap), 15),
		);
		await del.rt.dispose();

		step("profile: the bundle's startup (plain workerd, sampling every 50 µs)");
		const startupProfile = await profileStartup(workerdBinary, bundleFile, startupDir, 50);
		writeFileSync(join(work, "startup.cpuprofile"), JSON.stringify(startupProfile));
		profileLines.push(
			"startup (top-level evaluation of the bundle):",
			...formatSummary(summarize(startupProfile, "index.js", sourceMap), 12),
		);
	}

	// ── report ──────────────────────────────────────────────────────────────────────────────────
	const hook = stats(hookRounds);
	const base = stats(baseRounds);
	const hookNoop = stats(hookNoopRounds);
	const baseNoop = stats(baseNoopRounds);
	const ratio = hook.rps / base.rps;
	const ratioNoop = hookNoop.rps / baseNoop.rps;
	const bareCpu = bare.cpuMs / Math.max(1, bare.wrk.accepted);
	/** This machine against the issue's: its bare worker used ~1 core for 27,018 req/s, i.e. ~0.037 ms per request. */
	const machineFactor = 1000 / ANCHOR_BARE_RPS / bareCpu;
	const otherCores = Math.max(...rounds.map((r) => r.otherCores), bare.otherCores, load.otherCores);
	const pipelineCpu = (load.cpuMs + drainCpuMs) / Math.max(1, pipelineAccepted);
	const deliveryRate = drained ? backlogAtEnd / drainS : Number.NaN;

	type Row = [string, string, string, string, string, string];
	const row = (label: string, s: Pick<Stats, "rps" | "p50" | "p99" | "cpu" | "non2xx">): Row => [
		label,
		s.rps.toFixed(0),
		s.p50.toFixed(2),
		s.p99.toFixed(2),
		s.cpu.toFixed(3),
		String(s.non2xx),
	];
	const roundStats = (r: Round) => ({
		rps: r.wrk.rps,
		p50: r.wrk.p50,
		p99: r.wrk.p99,
		cpu: r.cpuMs / Math.max(1, r.wrk.accepted),
		non2xx: r.wrk.non2xx,
	});
	const table: Row[] = [
		["run", "req/s", "p50 ms", "p99 ms", "cpu ms/req", "non-2xx"],
		row(LABEL.hook, hook),
		row(LABEL.baseline, base),
		row(LABEL["hook-noop"], hookNoop),
		row(LABEL["baseline-noop"], baseNoop),
		row(LABEL.bare, roundStats(bare)),
		row("hook + queue consumer + delivery", { ...roundStats(load), cpu: pipelineCpu }),
	];
	const short = (value: number, target: number, lowerIsBetter: boolean) =>
		lowerIsBetter ? `${(value / target).toFixed(1)}× the target` : `${((1 - value / target) * 100).toFixed(0)}% short`;
	const targets: [boolean, string][] = [
		[
			ratio >= TARGET.ratio,
			`ingress ratio ${ratio.toFixed(2)}, both on the local queue (target ≥ ${TARGET.ratio}${ratio >= TARGET.ratio ? "" : `: ${short(ratio, TARGET.ratio, false)}`}); ` +
				`${ratioNoop.toFixed(2)} on the no-op queue`,
		],
		[
			hookNoop.cpu <= TARGET.cpuMs,
			`cpu per accepted hook ${hookNoop.cpu.toFixed(3)} ms on plain workerd (no-op queue) (target ≤ ${TARGET.cpuMs}` +
				`${hookNoop.cpu <= TARGET.cpuMs ? "" : `: ${short(hookNoop.cpu, TARGET.cpuMs, true)}`}; ≈ ${(hookNoop.cpu * machineFactor).toFixed(3)} ms scaled to the issue's machine ` +
				`by the bare worker's cost); bare 202 costs ${bareCpu.toFixed(3)} ms here, ` +
				`the baseline ${baseNoop.cpu.toFixed(3)} ms; with the local queue simulator in the process: hook ${hook.cpu.toFixed(3)}, baseline ${base.cpu.toFixed(3)} ms`,
		],
		[
			hook.p99 <= base.p99 * TARGET.p99Factor,
			`p99 ${hook.p99.toFixed(1)} ms vs the baseline's ${base.p99.toFixed(1)} ms × ${TARGET.p99Factor} = ${(base.p99 * TARGET.p99Factor).toFixed(1)} ms, local queue ` +
				`(no-op queue: ${hookNoop.p99.toFixed(1)} vs ${(baseNoop.p99 * TARGET.p99Factor).toFixed(1)} ms)`,
		],
		[
			drained && drainS <= TARGET.drainS,
			`backlog drained ${drained ? `${drainS.toFixed(1)} s` : `NOT within ${drainS.toFixed(1)} s`} after a ${load.wrk.seconds.toFixed(0)} s full-speed load ` +
				`(target ≤ ${TARGET.drainS} s): ${backlogAtEnd} of ${pipelineAccepted} undelivered when it stopped, ` +
				`delivered at ${drained ? deliveryRate.toFixed(0) : "?"}/s against ${load.wrk.rps.toFixed(0)} accepted/s`,
		],
		[
			ordering.deliveriesPerS >= TARGET.keyedPerS,
			`one key flow delivered ${ordering.deliveriesPerS.toFixed(0)}/s to a ${PETSTORE_LATENCY_MS} ms Petstore, ${KEYS} keys, concurrency ${CONCURRENCY} ` +
				`(target ≥ ${TARGET.keyedPerS}/s; one at a time is ${(1000 / PETSTORE_LATENCY_MS).toFixed(0)}/s, the concurrency's bound ${((CONCURRENCY * 1000) / PETSTORE_LATENCY_MS).toFixed(0)}/s)`,
		],
		[
			ordering.orderViolations === 0 && ordering.duplicates === 0 && ordering.missing === 0,
			`per-key order: ${ordering.orderViolations} violations, ${ordering.duplicates} duplicates, ${ordering.missing} missing of ${ordering.sent}`,
		],
		[
			ordering.rate.perS <= RATE_LIMIT.requests / RATE_LIMIT.perSeconds + TARGET.rateSlack,
			`destination rate limit ${RATE_LIMIT.requests}/${RATE_LIMIT.perSeconds} s: ${ordering.rate.perS.toFixed(1)}/s over ${RATE_WINDOW_S} s ` +
				`(target ≤ ${RATE_LIMIT.requests + TARGET.rateSlack}/s), at most ${ordering.rate.maxInAnySecond} calls in any 1 s`,
		],
		[size.gzipKiB <= TARGET.gzipKiB, `bundle ${size.gzipKiB.toFixed(1)} KiB gzip (target ≤ ${TARGET.gzipKiB} KiB)`],
		[
			startup.startupMs < TARGET.startupMs,
			`startup ${startup.startupMs.toFixed(1)} ms CPU (target < ${TARGET.startupMs} ms${startup.startupMs < TARGET.startupMs ? "" : `: ${short(startup.startupMs, TARGET.startupMs, true)}`})`,
		],
	];

	say("");
	say(`Hookflow benchmark — ${new Date().toISOString()}, ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
	say(`machine: ${machine.cores} × ${machine.cpu}; load average at start ${machine.loadavg}`);
	say(
		`runtime: workerd ${workerdVersion} (miniflare ${miniflareVersion}: no wrangler proxy, no observability, each worker on its own socket)`,
	);
	say(`load: wrk ${wrk} -t${THREADS} -c${CONNECTIONS}, ${ROUND_SECONDS} s rounds (${PAIRS} ABBA cycles), 60-byte JSON body, 127.0.0.1`);
	say(
		`calibration: the bare 202 worker does ${bare.wrk.rps.toFixed(0)} req/s here, the issue's anchor on plain workerd ${ANCHOR_BARE_RPS.toLocaleString("en")}: ` +
			`absolute numbers here are ×${(bare.wrk.rps / ANCHOR_BARE_RPS).toFixed(2)} of that machine's`,
	);
	if (otherCores > 0.15)
		say(`WARNING: other processes used up to ${otherCores.toFixed(2)} cores during the rounds: absolute numbers are low`);
	say("");
	for (const line of markdownTable(table)) say(line);
	say("");
	say("rounds, in the order run:");
	for (const r of rounds)
		say(
			`  ${r.worker.padEnd(13)} ${r.wrk.rps.toFixed(0).padStart(6)} req/s  p99 ${r.wrk.p99.toFixed(1).padStart(6)} ms  ` +
				`cpu ${(r.cpuMs / Math.max(1, r.wrk.accepted)).toFixed(3)} ms/req  other processes ${r.otherCores.toFixed(2)} cores`,
		);
	say("");
	say(`bundle ${size.rawKiB.toFixed(1)} KiB, ${size.gzipKiB.toFixed(1)} KiB gzip; startup ${startup.startupMs.toFixed(1)} ms CPU`);
	say(
		`delivery: ${pipelineAccepted} accepted in ${load.wrk.seconds.toFixed(1)} s; ${backlogAtEnd} undelivered when the load stopped; ` +
			`then ${drained ? `${deliveryRate.toFixed(0)} deliveries/s` : "not drained"}; ${counters.succeeded} succeeded, ${counters.failed} failed, ` +
			`${counters.inFlight} in flight; ${pets} pets created`,
	);
	say(
		`keys: ${ordering.sent} hooks (${KEYS} keys) held while paused, then ${ordering.deliveriesPerS.toFixed(0)} deliveries/s ` +
			`(${ordering.cpuMsPerDelivery.toFixed(2)} ms workerd CPU each); rate-limited flow: ${ordering.rate.sent} hooks, ` +
			`${ordering.rate.inWindow} calls in ${RATE_WINDOW_S} s`,
	);
	const workerErrors = [...ingressLogs.errors, ...pipelineLogs.errors, ...ordering.logs.errors];
	if (workerErrors.length > 0) say(`worker warnings/errors (first 3): ${workerErrors.slice(0, 3).join(" | ")}`);
	say("");
	say("targets:");
	for (const [ok, text] of targets) say(`  ${ok ? "met   " : "MISSED"} ${text}`);
	if (profileLines.length > 0) {
		say("");
		say("profiles:");
		for (const line of profileLines) say(`  ${line}`);
	}
	if (jsonOut) {
		const drain = { drained, seconds: drainS, backlogAtEnd, counters, pets, drainCpuMs };
		const { logs: _, ...keys } = ordering;
		writeFileSync(
			jsonOut,
			JSON.stringify({ machine, size, startup, bare, rounds, load, drain, keys, hook, base, hookNoop, baseNoop }, null, 2),
		);
	}
	if (args.includes("--keep")) say(`work directory kept: ${work}`);
	say("");
	say(`ingress ratio vs bare Q.send worker: ${ratio.toFixed(2)}`);
	say(`cpu ms per accepted hook: ${hookNoop.cpu.toFixed(3)}`);
	say(`delivery backlog drained after load: ${drained ? "" : ">"}${drainS.toFixed(1)} s`);
	say(`ingress req/s on plain workerd: ${hookNoop.rps.toFixed(0)}`);
	say(
		`deliveries/s one flow, ${PETSTORE_LATENCY_MS} ms Petstore, ${KEYS} keys, concurrency ${CONCURRENCY}: ${ordering.deliveriesPerS.toFixed(0)}`,
	);
	say(`per-key order violations: ${ordering.orderViolations}`);
	say(`destination rate limit ${RATE_LIMIT.requests / RATE_LIMIT.perSeconds}/s held: measured ${ordering.rate.perS.toFixed(1)}/s`);
	say(`run-log search over 100k executions: ${search.fieldMs.toFixed(1)} ms`);
	for (const line of stepLines) say(line);
}

/** Issue 17's phase: rows written per execution, and (unless only rows) the 4-step flow and the logic steps' CPU. */
async function stepsPhase(
	config: Awaited<ReturnType<typeof readWranglerConfig>>,
	bundleDir: string,
	petstoreUrl: string,
	which: "steps" | "rows",
): Promise<string[]> {
	const options: StepsOptions = {
		config,
		bundleDir,
		migrationsDir: join(projectDir ?? root, "migrations"),
		petstoreUrl,
		deadline: DEADLINE - 5_000,
		onStarted: (dispose) => cleanups.push(dispose),
		step,
	};
	const { runtime, origin } = await startMetered(options);
	const rows = await measureRows(options, origin);
	const rowsLine = `storage rows written per execution, tutorial flow: ${(rows.d1PerExecution + rows.flowObjectPerExecution).toFixed(1)} (D1 ${rows.d1PerExecution.toFixed(1)}, flow object ${rows.flowObjectPerExecution.toFixed(1)})`;
	step(`rows: ${rowsLine.split(": ")[1]} over ${rows.executions} executions`);
	if (which === "rows") return [rowsLine];
	step(`steps: ${STEP_KEYS} keys, concurrency ${STEP_CONCURRENCY}, the CRM and the Petstore each answering in ${STEP_LATENCY_MS} ms`);
	const four = await measureFourSteps(options, origin);
	step(`steps: ${four.executions} executions of 4 steps in ${four.seconds.toFixed(2)} s`);
	const logic = await measureLogicCpu(options, runtime, origin);
	step(
		`steps: workerd CPU per execution ${logic.withMs.toFixed(3)} ms with a filter and a transform, ${logic.withoutMs.toFixed(3)} ms without`,
	);
	return [
		`executions/s one flow, 4 steps (filter, transform, http ${STEP_LATENCY_MS} ms, petstore ${STEP_LATENCY_MS} ms), ${STEP_KEYS} keys, concurrency ${STEP_CONCURRENCY}: ${four.perS.toFixed(0)}`,
		`cpu ms per logic step: ${logic.msPerLogicStep.toFixed(3)}`,
		rowsLine,
	];
}

/** `--only steps` / `--only rows`: issue 17's lines alone. */
async function stepsOnly(
	config: Awaited<ReturnType<typeof readWranglerConfig>>,
	bundleDir: string,
	which: "steps" | "rows",
): Promise<void> {
	const petstore = await startPetstore();
	cleanups.push(() => petstore.close());
	const lines = await stepsPhase(config, bundleDir, petstore.url, which);
	say(
		`machine load average: ${loadavg()
			.map((l) => l.toFixed(2))
			.join(" ")}`,
	);
	for (const line of lines) say(line);
}

/** `--only keys`: phase 5 alone, with where the Petstore sat idle while the backlog drained. */
async function keysOnly(config: Awaited<ReturnType<typeof readWranglerConfig>>, bundleDir: string): Promise<void> {
	const petstore = await startPetstore();
	cleanups.push(() => petstore.close());
	step(`keys: the Petstore answers pet POSTs in ${PETSTORE_LATENCY_MS} ms; ${KEYS} keys × ${PER_KEY}, concurrency ${CONCURRENCY}`);
	const ordering = await measureOrdering({
		config,
		bundleDir,
		migrationsDir: join(root, "migrations"),
		petstoreUrl: petstore.url,
		perKey: PER_KEY,
		deadline: DEADLINE - 5_000,
		onStarted: (dispose) => cleanups.push(dispose),
		profile: wantProfile ? { sourceMap: join(bundleDir, "index.js.map") } : undefined,
		step,
	});
	for (const line of ordering.profileLines ?? []) say(line);
	step(
		`keys: ${ordering.delivered} pets in ${ordering.deliverySeconds.toFixed(2)} s = ${ordering.deliveriesPerS.toFixed(0)}/s ` +
			`(${ordering.cpuMsPerDelivery.toFixed(2)} ms workerd CPU each, workerd waiting for a CPU ${(ordering.starvedShare * 100).toFixed(0)} % of the time, ` +
			`at most ${ordering.maxConcurrent} calls at once, mean ${ordering.meanConcurrent.toFixed(1)}; no call open for ${ordering.idleMs} ms in ${ordering.idleGaps} gaps, longest ${ordering.longestIdleMs} ms); ` +
			`order violations ${ordering.orderViolations}, duplicates ${ordering.duplicates}, missing ${ordering.missing}; ` +
			`rate limit: ${ordering.rate.inWindow} calls in the first ${RATE_WINDOW_S} s, at most ${ordering.rate.maxInAnySecond} in any 1 s`,
	);
	say(
		`machine load average: ${loadavg()
			.map((l) => l.toFixed(2))
			.join(" ")}`,
	);
	say(
		`deliveries/s one flow, ${PETSTORE_LATENCY_MS} ms Petstore, ${KEYS} keys, concurrency ${CONCURRENCY}: ${ordering.deliveriesPerS.toFixed(0)}`,
	);
	say(`per-key order violations: ${ordering.orderViolations}`);
	say(`destination rate limit ${RATE_LIMIT.requests / RATE_LIMIT.perSeconds}/s held: measured ${ordering.rate.perS.toFixed(1)}/s`);
}

try {
	await main();
	await cleanup();
	process.exit(0);
} catch (error) {
	console.error(`bench: ${(error as Error).stack ?? error}`);
	await cleanup();
	process.exit(1);
}
