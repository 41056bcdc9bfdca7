// CPU accounting of a running process, read from /proc (Linux only).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;

function ticksPerSecond(): number {
	if (clockTicks === undefined) {
		try {
			clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
		} catch {
			clockTicks = 100;
		}
	}
	return clockTicks;
}

/** utime + stime of the whole process (all its threads) in ms, from /proc/<pid>/stat; 10 ms resolution. */
export function processCpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	// The command name (field 2) may contain spaces; the fields after it start after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	const utime = Number(fields[11]);
	const stime = Number(fields[12]);
	return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Time on CPU of every live thread of the process in ms, from /proc/<pid>/task/<tid>/schedstat; ns resolution. */
export function processSchedCpuMs(pid: number): number {
	let ns = 0;
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		try {
			ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
		} catch {
			// The thread ended between the listing and the read.
		}
	}
	return ns / 1e6;
}

/** Time every live thread of the process was runnable but waiting for a CPU (other processes had it), in ms. */
export function processRunQueueMs(pid: number): number {
	let ns = 0;
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		try {
			ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
		} catch {
			// The thread ended between the listing and the read.
		}
	}
	return ns / 1e6;
}

/** The pids of this process's direct children whose command name is `name`. */
export function childPids(name: string, parent = process.pid): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
			const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
			if (ppid === parent && comm === name) pids.push(Number(entry));
		} catch {
			// The process ended meanwhile.
		}
	}
	return pids;
}

/** Busy and total CPU time of the whole machine (all cores) in ms, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
	const line = readFileSync("/proc/stat", "utf8").split("\n")[0] as string;
	const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
	const toMs = (ticks: number) => (ticks * 1000) / ticksPerSecond();
	const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
	return { busy: toMs(busy), total: toMs(busy + (idle ?? 0) + (iowait ?? 0)) };
}

/** How many cores other processes kept busy over `ms` while nothing of ours ran. */
export async function idleCheck(ms = 1000): Promise<number> {
	const before = machineCpuMs();
	const self = process.cpuUsage();
	await new Promise((resolve) => setTimeout(resolve, ms));
	const after = machineCpuMs();
	const own = process.cpuUsage(self);
	const ownMs = (own.user + own.system) / 1000;
	return Math.max(0, (after.busy - before.busy - ownMs) / ms);
}
