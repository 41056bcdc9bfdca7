// Startup CPU of a worker on plain workerd: the CPU time workerd has used when it reports its
// socket listening (modules compiled and evaluated by then), for the built bundle minus the same
// for an empty worker, median of several alternating runs. Counted from /proc, not sampled.
import { spawn } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { processSchedCpuMs } from "./proc.ts";
import { type CpuProfile, profileDuring } from "./profile.ts";

const here = new URL("..", import.meta.url).pathname;

/** CPU ms of one `workerd serve startup.capnp <config>` until it listens; the process is killed right after. */
function startupCpuOnce(workerd: string, dir: string, config: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const child = spawn(workerd, ["serve", "startup.capnp", config, "--control-fd=3"], {
			cwd: dir,
			stdio: ["ignore", "ignore", "pipe", "pipe"],
		});
		let stderr = "";
		child.stderr?.on("data", (d: Buffer) => {
			stderr += d.toString();
		});
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(new Error(`workerd (${config}) did not listen within 20 s: ${stderr}`));
		}, 20_000);
		const control = child.stdio[3] as NodeJS.ReadableStream;
		let buffered = "";
		let done = false;
		control.on("data", (d: Buffer) => {
			buffered += d.toString();
			if (done || !buffered.includes('"listen"')) return;
			done = true;
			clearTimeout(timer);
			const ms = processSchedCpuMs(child.pid as number);
			child.kill("SIGKILL");
			resolve(ms);
		});
		child.once("exit", (code) => {
			if (done) return;
			clearTimeout(timer);
			reject(new Error(`workerd (${config}) exited ${code} before listening: ${stderr}`));
		});
	});
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export interface StartupResult {
	bundleMs: number;
	emptyMs: number;
	/** bundleMs - emptyMs: what the bundle's compilation and top-level evaluation cost. */
	startupMs: number;
	runs: number;
}

function prepare(workDir: string, bundleFile: string): void {
	copyFileSync(join(here, "workerd", "startup.capnp"), join(workDir, "startup.capnp"));
	copyFileSync(join(here, "workers", "empty.js"), join(workDir, "empty.js"));
	copyFileSync(join(here, "workers", "profile-entry.js"), join(workDir, "profile-entry.js"));
	copyFileSync(bundleFile, join(workDir, "bundle.js"));
}

/** A CPU profile of the bundle's top-level evaluation (sampled every `intervalUs`). */
export async function profileStartup(workerd: string, bundleFile: string, workDir: string, intervalUs = 50): Promise<CpuProfile> {
	prepare(workDir, bundleFile);
	const child = spawn(workerd, ["serve", "startup.capnp", "profile", "--control-fd=3", "--inspector-addr=127.0.0.1:0"], {
		cwd: workDir,
		stdio: ["ignore", "ignore", "ignore", "pipe"],
	});
	try {
		const ports = await new Promise<Map<string, number>>((resolve, reject) => {
			const found = new Map<string, number>();
			const timer = setTimeout(() => reject(new Error("workerd did not listen within 20 s")), 20_000);
			let buffered = "";
			(child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => {
				buffered += d.toString();
				for (const line of buffered.split("\n")) {
					if (!line.trim()) continue;
					try {
						const event = JSON.parse(line) as { event: string; port: number; socket?: string };
						if (event.event === "listen") found.set("http", event.port);
						if (event.event === "listen-inspector") found.set("inspector", event.port);
					} catch {
						// A partial line; the rest comes with the next chunk.
					}
				}
				if (found.size === 2) {
					clearTimeout(timer);
					resolve(found);
				}
			});
			child.once("exit", (code) => reject(new Error(`workerd exited ${code}`)));
		});
		const { profile } = await profileDuring(`ws://127.0.0.1:${ports.get("inspector")}/main`, intervalUs, async () => {
			const response = await fetch(`http://127.0.0.1:${ports.get("http")}/`, { signal: AbortSignal.timeout(20_000) });
			await response.text();
			if (!response.ok) throw new Error(`evaluating the bundle answered ${response.status}`);
		});
		return profile;
	} finally {
		child.kill("SIGKILL");
	}
}

/**
 * The configs of startup.capnp to compare: the control Worker's bundle declares the FlowObject class
 * (and so does its empty reference); the edge Worker's declares none.
 */
export const STARTUP_CONFIGS = {
	control: { bundle: "bundle", empty: "empty" },
	edge: { bundle: "edge", empty: "edgeEmpty" },
} as const;

export async function measureStartup(
	workerd: string,
	bundleFile: string,
	workDir: string,
	runs = 7,
	configs: { bundle: string; empty: string } = STARTUP_CONFIGS.control,
): Promise<StartupResult> {
	prepare(workDir, bundleFile);
	const bundle: number[] = [];
	const empty: number[] = [];
	// One unmeasured run of each first: page cache and the like.
	await startupCpuOnce(workerd, workDir, configs.bundle);
	await startupCpuOnce(workerd, workDir, configs.empty);
	for (let i = 0; i < runs; i++) {
		bundle.push(await startupCpuOnce(workerd, workDir, configs.bundle));
		empty.push(await startupCpuOnce(workerd, workDir, configs.empty));
	}
	const bundleMs = median(bundle);
	const emptyMs = median(empty);
	return { bundleMs, emptyMs, startupMs: bundleMs - emptyMs, runs };
}
