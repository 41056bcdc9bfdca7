// The edge Worker's lines and targets (issue 20), for the full run and for `--only edge`.
import { loadavg } from "node:os";
import { markdownTable, type Round, type Stats } from "./rounds.ts";
import type { StartupResult } from "./startup.ts";

export interface EdgeTargets {
	ratio: number;
	cpuMs: number;
	edgeStartupMs: number;
	edgeGzipKiB: number;
}

export interface EdgeInputs {
	startup: StartupResult;
	size: { rawKiB: number; gzipKiB: number };
	/** The edge Worker on the local queue and on the no-op queue, the baseline on each, the single Worker's /hook on the no-op queue. */
	hook: Stats;
	base: Stats;
	hookNoop: Stats;
	baseNoop: Stats;
	singleNoop: Stats;
	target: EdgeTargets;
}

export interface EdgeSummary {
	ratio: number;
	cpu: number;
	single: number;
	/** The two lines the full run adds after its eight. */
	lines: string[];
	targets: [boolean, string][];
}

export function edgeSummary(e: EdgeInputs): EdgeSummary {
	const ratio = e.hook.rps / e.base.rps;
	const cpu = e.hookNoop.cpu;
	const single = e.singleNoop.cpu;
	return {
		ratio,
		cpu,
		single,
		lines: [`edge worker startup cpu ms: ${e.startup.startupMs.toFixed(1)}`, `edge worker bundle gzip KiB: ${e.size.gzipKiB.toFixed(1)}`],
		targets: [
			[
				e.startup.startupMs <= e.target.edgeStartupMs,
				`edge Worker startup ${e.startup.startupMs.toFixed(1)} ms CPU (target ≤ ${e.target.edgeStartupMs} ms)`,
			],
			[
				e.size.gzipKiB <= e.target.edgeGzipKiB,
				`edge Worker bundle ${e.size.gzipKiB.toFixed(1)} KiB gzip (target ≤ ${e.target.edgeGzipKiB} KiB)`,
			],
			[
				cpu <= e.target.cpuMs,
				`cpu per accepted hook, edge Worker, no-op queue: ${cpu.toFixed(3)} ms (target ≤ ${e.target.cpuMs}); ` +
					`the single Worker's /hook in the same rounds: ${single.toFixed(3)} ms (${((cpu / single - 1) * 100).toFixed(0)} %)`,
			],
			[
				ratio >= e.target.ratio,
				`ingress ratio, edge Worker vs bare Q.send worker, local queue: ${ratio.toFixed(2)} (target ≥ ${e.target.ratio}); ` +
					`no-op queue ${(e.hookNoop.rps / e.baseNoop.rps).toFixed(2)}`,
			],
		],
	};
}

export const roundStatsOf = (r: Round): Stats => ({
	rps: r.wrk.rps,
	p50: r.wrk.p50,
	p99: r.wrk.p99,
	cpu: r.cpuMs / Math.max(1, r.wrk.accepted),
	non2xx: r.wrk.non2xx,
	errors: 0,
});

export interface EdgeOnlyReport {
	startedAt: number;
	machine: { cores: number; cpu: string; loadavg: string };
	rounds: Round[];
	rows: (Stats & { label: string })[];
	bare: Stats;
	anchorBareRps: number;
	edge: EdgeSummary;
	profile: string[];
	errors: string[];
}

/** `--only edge`: the rounds, the targets, the profile when asked, and the four edge lines last. */
export function edgeOnlyReport(r: EdgeOnlyReport): string[] {
	const out: string[] = [""];
	const now = loadavg()
		.map((l) => l.toFixed(2))
		.join(" ");
	out.push(`Hookflow benchmark, --only edge — ${new Date().toISOString()}, ${((Date.now() - r.startedAt) / 1000).toFixed(0)} s`);
	out.push(`machine: ${r.machine.cores} × ${r.machine.cpu}; load average at start ${r.machine.loadavg}, at the end ${now}`);
	const busiest = Math.max(...r.rounds.map((round) => round.otherCores));
	/** The anchor machine ran the bare worker at 27,018 req/s on ~1 core: scale this machine's CPU figures by the bare worker's cost. */
	const scaled = (r.edge.cpu * 1000) / r.anchorBareRps / r.bare.cpu;
	out.push(
		`other processes used up to ${busiest.toFixed(2)} cores during the rounds; bare 202 calibration ${r.bare.rps.toFixed(0)} req/s ` +
			`at ${r.bare.cpu.toFixed(3)} ms: the edge Worker's ${r.edge.cpu.toFixed(3)} ms per hook is ≈ ${scaled.toFixed(3)} ms scaled to the issue's machine`,
	);
	out.push("");
	out.push(
		...markdownTable([
			["run", "req/s", "p50 ms", "p99 ms", "cpu ms/req", "non-2xx"],
			...r.rows.map((s) => [s.label, s.rps.toFixed(0), s.p50.toFixed(2), s.p99.toFixed(2), s.cpu.toFixed(3), String(s.non2xx)]),
		]),
	);
	out.push("", "rounds, in the order run:");
	for (const round of r.rounds)
		out.push(
			`  ${round.worker.padEnd(13)} ${round.wrk.rps.toFixed(0).padStart(6)} req/s  cpu ${(round.cpuMs / Math.max(1, round.wrk.accepted)).toFixed(3)} ms/req  ` +
				`other processes ${round.otherCores.toFixed(2)} cores`,
		);
	if (r.errors.length > 0) out.push(`worker warnings/errors (first 3): ${r.errors.slice(0, 3).join(" | ")}`);
	out.push("", "targets:");
	for (const [ok, text] of r.edge.targets) out.push(`  ${ok ? "met   " : "MISSED"} ${text}`);
	if (r.profile.length > 0) out.push("", "profiles:", ...r.profile.map((line) => `  ${line}`));
	out.push(
		"",
		`ingress ratio vs bare Q.send worker: ${r.edge.ratio.toFixed(2)}`,
		`cpu ms per accepted hook: ${r.edge.cpu.toFixed(3)}`,
		...r.edge.lines,
	);
	return out;
}
