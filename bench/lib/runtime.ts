// The runtime every measurement uses: workerd, driven by the Miniflare that wrangler itself
// depends on (so the same workerd build as `wrangler dev`), but without wrangler's proxy workerd,
// without the local observability collector, and with each worker on its own socket.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { childPids } from "./proc.ts";

const wranglerRequire = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
const miniflarePath = wranglerRequire.resolve("miniflare");
// Typed loosely on purpose: this is wrangler's own Miniflare (v5, beta), whatever npm hoisted beside it.
const miniflare = (await import(pathToFileURL(miniflarePath).href)) as {
	Miniflare: new (options: unknown) => Miniflare;
	convertV4MiniflareOptions(options: unknown): unknown;
};

/** The part of Miniflare's API the benchmark uses. */
export interface Miniflare {
	ready: Promise<URL>;
	unsafeGetDirectURL(worker: string): Promise<URL>;
	getInspectorURL(): Promise<URL>;
	getD1Database(binding: string, worker: string): Promise<D1Like>;
	dispose(): Promise<void>;
}
export interface D1Like {
	prepare(sql: string): unknown;
	batch(statements: unknown[]): Promise<unknown>;
}
/** A worker in Miniflare's v4 option format (converted with its own convertV4MiniflareOptions). */
export type WorkerOptions = Record<string, unknown> & { name: string };

export const miniflareVersion: string = JSON.parse(
	readFileSync(createRequire(miniflarePath).resolve("miniflare/package.json"), "utf8"),
).version;
/** The workerd binary Miniflare runs (the one wrangler dev runs). */
export const workerdBinary: string = (() => {
	const mod = createRequire(miniflarePath)("workerd") as { default?: string } | string;
	return typeof mod === "string" ? mod : (mod.default as string);
})();
export const workerdVersion: string = JSON.parse(
	readFileSync(createRequire(miniflarePath).resolve("workerd/package.json"), "utf8"),
).version;

export interface Runtime {
	mf: Miniflare;
	/** The single workerd process serving every worker of this instance. */
	pid: number;
	url(worker: string): Promise<string>;
	/** ws://127.0.0.1:<port> of workerd's inspector; only with `inspectorPort` set. */
	inspectorUrl(): Promise<string>;
	logs: LogCounts;
	dispose(): Promise<void>;
}

export interface LogCounts {
	lines: number;
	errors: string[];
}

/** Starts one workerd process with the given workers, each bound to its own 127.0.0.1 socket. */
export async function startRuntime(workers: WorkerOptions[], shared: Record<string, unknown> = {}): Promise<Runtime> {
	const logs: LogCounts = { lines: 0, errors: [] };
	const before = new Set(childPids("workerd"));
	const options = {
		host: "127.0.0.1",
		port: 0,
		// No request.cf download, no dev registry, no observability, no request logging: nothing but the workers.
		cf: false,
		logRequests: false,
		unsafeObservability: false,
		telemetry: { enabled: false },
		handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
			logs.lines++;
			if ((level === "error" || level === "warn") && logs.errors.length < 20) logs.errors.push(message);
		},
		...shared,
		workers: workers.map((w) => ({ ...w, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] })),
	};
	const mf = new miniflare.Miniflare(miniflare.convertV4MiniflareOptions(options));
	await mf.ready;
	const started = childPids("workerd").filter((pid) => !before.has(pid));
	if (started.length !== 1) {
		await mf.dispose();
		throw new Error(`expected one new workerd process, found ${started.length}`);
	}
	return {
		mf,
		pid: started[0] as number,
		url: async (worker) => (await mf.unsafeGetDirectURL(worker)).href.replace(/\/$/, ""),
		inspectorUrl: async () => (await mf.getInspectorURL()).href.replace(/\/$/, ""),
		logs,
		dispose: () => mf.dispose(),
	};
}
