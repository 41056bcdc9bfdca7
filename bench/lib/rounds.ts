// One measured load round against one worker, and the arithmetic over rounds.
import { machineCpuMs, processCpuMs } from "./proc.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

export interface Round {
	worker: string;
	wrk: WrkResult;
	/** CPU of the workerd process during the round (utime + stime from /proc). */
	cpuMs: number;
	/** CPU used meanwhile by other processes on the machine (not workerd, wrk or this process), in cores. */
	otherCores: number;
}

export interface LoadOptions {
	threads: number;
	connections: number;
}

/** Runs wrk against `url` for `seconds`, reading workerd's (pid) CPU time before and after. */
export async function loadRound(
	pid: number,
	worker: string,
	url: string,
	script: string,
	seconds: number,
	load: LoadOptions,
): Promise<Round> {
	const cpu0 = processCpuMs(pid);
	const machine0 = machineCpuMs();
	const self0 = process.cpuUsage();
	const wrk = await runWrk({ url, script, seconds, threads: load.threads, connections: load.connections });
	const cpuMs = processCpuMs(pid) - cpu0;
	const self = process.cpuUsage(self0);
	const machineBusy = machineCpuMs().busy - machine0.busy;
	const otherMs = machineBusy - cpuMs - wrk.cpuMs - (self.user + self.system) / 1000;
	return { worker, wrk, cpuMs, otherCores: Math.max(0, otherMs / (wrk.seconds * 1000)) };
}

export const sum = (rounds: Round[], pick: (r: Round) => number) => rounds.reduce((total, r) => total + pick(r), 0);

export const median = (xs: number[]) => {
	const sorted = [...xs].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Accepted (2xx) requests per second over all the rounds. */
export const rate = (rounds: Round[]) => sum(rounds, (r) => r.wrk.accepted) / sum(rounds, (r) => r.wrk.seconds);

/** workerd CPU ms per accepted request over all the rounds. */
export const cpuPerAccepted = (rounds: Round[]) =>
	sum(rounds, (r) => r.cpuMs) /
	Math.max(
		1,
		sum(rounds, (r) => r.wrk.accepted),
	);

export interface Stats {
	rps: number;
	p50: number;
	p99: number;
	cpu: number;
	non2xx: number;
	errors: number;
}

/** Rate and CPU over all rounds; latency percentiles as the median of the rounds'. */
export function stats(rounds: Round[]): Stats {
	return {
		rps: rate(rounds),
		p50: median(rounds.map((r) => r.wrk.p50)),
		p99: median(rounds.map((r) => r.wrk.p99)),
		cpu: cpuPerAccepted(rounds),
		non2xx: sum(rounds, (r) => r.wrk.non2xx),
		errors: sum(rounds, (r) => r.wrk.socketErrors + r.wrk.timeouts),
	};
}

/** ABBA order over the cycle (a b c, c b a, a b c …), so a drift in machine speed hits every worker alike. */
export function abba<T>(cycle: T[], cycles: number): T[] {
	const order: T[] = [];
	for (let i = 0; i < cycles; i++) order.push(...(i % 2 === 0 ? cycle : [...cycle].reverse()));
	return order;
}

/** A markdown table with the first column left-aligned and the rest right-aligned. */
export function markdownTable(rows: string[][]): string[] {
	const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
	const fmt = (r: string[]) =>
		`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join(" | ")} |`;
	const rule = `|${widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
	return [fmt(rows[0] ?? []), rule, ...rows.slice(1).map(fmt)];
}
