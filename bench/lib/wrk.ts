// wrk (Debian's `wrk` package): one bounded run, its own summary read back as JSON.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { processCpuMs } from "./proc.ts";

export interface WrkResult {
	/** Responses received, any status. */
	requests: number;
	/** Responses with status >= 400 (wrk counts these as errors.status). */
	non2xx: number;
	/** 2xx/3xx responses: what the server accepted. */
	accepted: number;
	socketErrors: number;
	timeouts: number;
	seconds: number;
	/** Latencies in ms. */
	p50: number;
	p90: number;
	p99: number;
	max: number;
	rps: number;
	/** wrk's own CPU time (sampled every 200 ms, so slightly low). */
	cpuMs: number;
}

export interface WrkScript {
	method: string;
	path: string;
	body?: string;
	headers: Record<string, string>;
	/** A header whose value cycles through `<prefix>0` … `<prefix>(count-1)`, request by request (a key per entity). */
	cycle?: { header: string; prefix: string; count: number };
}

const MARKER = "BENCH_JSON ";

export function wrkVersion(): string | null {
	// `wrk -v` prints its version and usage, and exits 1.
	const probe = spawnSync("wrk", ["-v"], { encoding: "utf8" });
	if (probe.error) return null;
	return /wrk (\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? "unknown";
}

const luaString = (s: string) => JSON.stringify(s); // ASCII JSON strings are valid Lua string literals

/** Writes a wrk Lua script that sends one fixed request (bar the cycling header) and prints its summary as one JSON line. */
export function writeWrkScript(file: string, script: WrkScript): string {
	const lines = [
		`wrk.method = ${luaString(script.method)}`,
		`wrk.path = ${luaString(script.path)}`,
		script.body === undefined ? "" : `wrk.body = ${luaString(script.body)}`,
		...Object.entries(script.headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
		...(script.cycle
			? [
					"local n = 0",
					"function request()",
					`  n = (n + 1) % ${script.cycle.count}`,
					`  wrk.headers[${luaString(script.cycle.header)}] = ${luaString(script.cycle.prefix)} .. n`,
					"  return wrk.format()",
					"end",
				]
			: []),
		"function done(summary, latency, requests)",
		"  local e = summary.errors",
		`  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',`,
		"    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,",
		"    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))",
		"end",
	];
	writeFileSync(file, `${lines.filter(Boolean).join("\n")}\n`);
	return file;
}

export interface WrkRun {
	url: string;
	script: string;
	seconds: number;
	threads: number;
	connections: number;
}

/** Runs wrk once; it stops itself after `seconds`, and is killed if it has not 15 s later. */
export function runWrk(run: WrkRun): Promise<WrkResult> {
	const url = new URL(run.url);
	if (url.hostname !== "127.0.0.1") throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`);
	const args = [`-t${run.threads}`, `-c${run.connections}`, `-d${run.seconds}s`, "--timeout", "5s", "-s", run.script, run.url];
	return new Promise((resolve, reject) => {
		const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		let err = "";
		child.stdout.on("data", (d: Buffer) => {
			out += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			err += d.toString();
		});
		const killer = setTimeout(() => child.kill("SIGKILL"), (run.seconds + 15) * 1000);
		let cpuMs = 0;
		const sampler = setInterval(() => {
			try {
				cpuMs = processCpuMs(child.pid as number);
			} catch {
				// Exited between two samples.
			}
		}, 200);
		child.once("error", (error) => {
			clearTimeout(killer);
			clearInterval(sampler);
			reject(error);
		});
		child.once("exit", (code) => {
			clearTimeout(killer);
			clearInterval(sampler);
			const line = out.split("\n").find((l) => l.startsWith(MARKER));
			if (!line) return reject(new Error(`wrk exited ${code} without a summary:\n${out}\n${err}`));
			const s = JSON.parse(line.slice(MARKER.length)) as Record<string, number>;
			const requests = s.requests ?? 0;
			const non2xx = s.status ?? 0;
			const seconds = (s.duration_us ?? 0) / 1e6;
			resolve({
				requests,
				non2xx,
				accepted: requests - non2xx,
				socketErrors: (s.connect ?? 0) + (s.read ?? 0) + (s.write ?? 0),
				timeouts: s.timeout ?? 0,
				seconds,
				p50: (s.p50 ?? 0) / 1000,
				p90: (s.p90 ?? 0) / 1000,
				p99: (s.p99 ?? 0) / 1000,
				max: (s.max ?? 0) / 1000,
				rps: seconds > 0 ? (requests - non2xx) / seconds : 0,
				cpuMs,
			});
		});
	});
}
