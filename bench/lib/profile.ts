// CPU profiles from workerd's inspector (V8 sampling profiler), summarised by where the time
// goes: each sample's function is mapped through the bundle's source map to its package
// (hono, zod, drizzle-orm, jsonata) or Hookflow source file.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

interface CallFrame {
	functionName: string;
	url: string;
	lineNumber: number;
	columnNumber: number;
}
interface ProfileNode {
	id: number;
	callFrame: CallFrame;
}
export interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

/** A minimal Chrome DevTools Protocol client over the WebSocket built into Node ≥ 22. */
export async function openInspector(url: string): Promise<{ send(method: string, params?: unknown): Promise<unknown>; close(): void }> {
	const ws = new WebSocket(url);
	await new Promise<void>((resolve, reject) => {
		ws.addEventListener("open", () => resolve(), { once: true });
		ws.addEventListener("error", () => reject(new Error(`cannot open the inspector at ${url}`)), { once: true });
	});
	let nextId = 1;
	const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
	ws.addEventListener("message", (event) => {
		const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
		if (message.id === undefined) return;
		const waiter = pending.get(message.id);
		pending.delete(message.id);
		if (message.error) waiter?.reject(new Error(message.error.message));
		else waiter?.resolve(message.result);
	});
	return {
		send(method, params = {}) {
			const id = nextId++;
			ws.send(JSON.stringify({ id, method, params }));
			return new Promise((resolve, reject) => {
				pending.set(id, { resolve, reject });
				setTimeout(() => {
					if (pending.delete(id)) reject(new Error(`inspector: ${method} timed out`));
				}, 30_000);
			});
		},
		close: () => ws.close(),
	};
}

/** Profiles the isolate behind `url` while `during` runs. */
export async function profileDuring<T>(
	url: string,
	intervalUs: number,
	during: () => Promise<T>,
): Promise<{ profile: CpuProfile; result: T }> {
	const { profiles, result } = await profileIsolates([url], intervalUs, during);
	return { profile: profiles[0] as CpuProfile, result };
}

/** Profiles several isolates (one inspector session each) while `during` runs. */
export async function profileIsolates<T>(
	urls: string[],
	intervalUs: number,
	during: () => Promise<T>,
): Promise<{ profiles: CpuProfile[]; result: T }> {
	const inspectors = await Promise.all(urls.map((url) => openInspector(url)));
	try {
		for (const inspector of inspectors) {
			await inspector.send("Profiler.enable");
			await inspector.send("Profiler.setSamplingInterval", { interval: intervalUs });
			await inspector.send("Profiler.start");
		}
		const result = await during();
		const profiles: CpuProfile[] = [];
		for (const inspector of inspectors) profiles.push(((await inspector.send("Profiler.stop")) as { profile: CpuProfile }).profile);
		return { profiles, result };
	} finally {
		for (const inspector of inspectors) inspector.close();
	}
}

/** Busy (non-idle) sampled time of a profile in ms. */
export function busyMs(profile: CpuProfile): number {
	const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
	let ms = 0;
	for (let i = 0; i < profile.samples.length; i++)
		if (!idle.has(profile.samples[i] as number)) ms += (profile.timeDeltas[i + 1] ?? 0) / 1000;
	return ms;
}

export interface ProfileSummary {
	totalMs: number;
	idleMs: number;
	/** Self time by package / source file / V8 category, busiest first. */
	byOrigin: [string, number][];
	/** Self time by function (with its origin), busiest first. */
	byFunction: [string, number][];
}

function originOf(source: string): string {
	const parts = source.split("node_modules/");
	if (parts.length > 1) {
		const rest = parts[parts.length - 1] as string;
		const segments = rest.split("/");
		// drizzle-orm ships source maps whose paths lost the package name ("src/sqlite-core/…").
		if (segments[0] === "src") return "drizzle-orm";
		return (rest.startsWith("@") ? segments.slice(0, 2) : segments.slice(0, 1)).join("/");
	}
	const src = source.indexOf("src/");
	return src >= 0 ? source.slice(src) : source.replace(/^.*\//, "");
}

/** Groups self time; frames of `bundleName` are mapped to their original source with `sourceMapFile`. */
export function summarize(profile: CpuProfile, bundleName: string, sourceMapFile: string | null): ProfileSummary {
	const map = sourceMapFile ? new SourceMap(JSON.parse(readFileSync(sourceMapFile, "utf8"))) : null;
	const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
	const label = new Map<number, { origin: string; fn: string }>();
	const describe = (node: ProfileNode) => {
		const known = label.get(node.id);
		if (known) return known;
		const { functionName, url, lineNumber, columnNumber } = node.callFrame;
		let origin: string;
		let where = "";
		let name = functionName || "(anonymous)";
		if (!url) origin = functionName.startsWith("(") ? functionName : "(native)";
		// The module's top level: with esbuild every bundled module's top-level statements run here.
		else if (lineNumber < 0) origin = `(${url.replace(/^.*\//, "")} top level)`;
		else if (url.endsWith(bundleName) && map) {
			// Minified names are meaningless: name the function by where it is in the original source.
			const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
			origin = entry.originalSource ? originOf(entry.originalSource) : "(bundle, unmapped)";
			if (entry.originalSource) where = `${entry.originalSource.replace(/^.*\//, "")}:${(entry.originalLine ?? 0) + 1}`;
			if (entry.name) name = entry.name;
		} else origin = url.replace(/^.*\//, "");
		const described = { origin, fn: where ? `${name} [${where}]` : `${name} [${origin}]` };
		label.set(node.id, described);
		return described;
	};
	const byOrigin = new Map<string, number>();
	const byFunction = new Map<string, number>();
	let totalMs = 0;
	let idleMs = 0;
	for (let i = 0; i < profile.samples.length; i++) {
		const node = nodes.get(profile.samples[i] as number);
		const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
		if (!node) continue;
		totalMs += ms;
		const { origin, fn } = describe(node);
		if (origin === "(idle)") {
			idleMs += ms;
			continue;
		}
		byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + ms);
		byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
	}
	const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
	return { totalMs, idleMs, byOrigin: sorted(byOrigin), byFunction: sorted(byFunction) };
}

/** "zod 41.2% · hono 10.3% · …" lines for a report. */
export function formatSummary(summary: ProfileSummary, top = 12): string[] {
	const busy = summary.totalMs - summary.idleMs;
	const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`.padStart(6);
	return [
		`  busy ${busy.toFixed(1)} ms of ${summary.totalMs.toFixed(1)} ms sampled`,
		"  by origin (self time):",
		...summary.byOrigin.slice(0, top).map(([k, v]) => `    ${pct(v)}  ${v.toFixed(1).padStart(8)} ms  ${k}`),
		"  by function (self time):",
		...summary.byFunction.slice(0, top).map(([k, v]) => `    ${pct(v)}  ${v.toFixed(1).padStart(8)} ms  ${k}`),
	];
}
