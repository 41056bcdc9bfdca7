// Issue 11's delivery numbers, on one workerd with the queue consumer and flow objects, against
// the local Petstore answering every pet POST in 50 ms:
//  - deliveries/s of one `key` flow (64 keys, concurrency 32): the backlog is built while the flow
//    is paused, so the number is delivery alone, not ingress; the rate is the Petstore's: pets
//    created ÷ (last answer − first call);
//  - per-key order violations: each key's hooks are sent one after another (the next only after
//    the previous one's 200), so acceptance order per key is the send order, which the Petstore's
//    request log must show too;
//  - a destination rate limit of 50/s held: a second key flow with `delivery.rateLimit`
//    {50 per 1 s}, a backlog of 12 s, and the Petstore calls counted over the first 10 s.
import {
	api,
	applyMigrations,
	createHmacFlow,
	type FlowCounters,
	flowCounters,
	hookflowWorker,
	signatureOf,
	type WranglerConfig,
} from "./hookflow.ts";
import { processCpuMs, processRunQueueMs } from "./proc.ts";
import { type CpuProfile, formatSummary, profileIsolates, summarize } from "./profile.ts";
import { type LogCounts, startRuntime } from "./runtime.ts";

export const PETSTORE_LATENCY_MS = 50;
export const KEYS = 64;
export const CONCURRENCY = 32;
export const RATE_LIMIT = { requests: 50, perSeconds: 1 };
export const RATE_WINDOW_S = 10;

export interface OrderingOptions {
	config: WranglerConfig;
	bundleDir: string;
	migrationsDir: string;
	petstoreUrl: string;
	/** Hooks per key in the throughput phase. */
	perKey: number;
	/** Give up waiting at this time (epoch ms). */
	deadline: number;
	onStarted?: (dispose: () => Promise<void>) => void;
	/** CPU-profile the hookflow isolate while the keyed backlog drains (the bundle's source map names the frames). */
	profile?: { sourceMap: string };
	step: (line: string) => void;
}

export interface OrderingResult {
	sent: number;
	delivered: number;
	deliveriesPerS: number;
	deliverySeconds: number;
	/** workerd CPU per delivery while the backlog was delivered. */
	cpuMsPerDelivery: number;
	/** workerd's threads waiting for a CPU that other processes held, per second of the drain (1.0 = one thread starved all along). */
	starvedShare: number;
	maxConcurrent: number;
	/** Calls open on average between the first call and the last answer. */
	meanConcurrent: number;
	/** Time with no call open between the first call and the last answer: the engine waiting, not the Petstore. */
	idleMs: number;
	idleGaps: number;
	longestIdleMs: number;
	orderViolations: number;
	duplicates: number;
	missing: number;
	rate: { sent: number; inWindow: number; perS: number; maxInAnySecond: number };
	/** With `profile`: where the isolate's CPU went while the backlog drained. */
	profileLines?: string[];
	logs: LogCounts;
}

interface PetstoreRecord {
	seq: number;
	method: string;
	path: string;
	startedAt: string;
	endedAt: string | null;
	body: { name?: string } | null;
	responseStatus: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAPPING = { name: 'petname & "#" & $string(seq)', status: "petstatus" };

async function until(deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(100);
	}
}

/** Sends `perKey` hooks for each of `keys` keys: one sender per key, each waiting for its 200 before the next. */
async function sendPerKey(origin: string, flowId: string, prefix: string, keys: number, perKey: number): Promise<number> {
	let accepted = 0;
	await Promise.all(
		Array.from({ length: keys }, async (_, k) => {
			for (let seq = 0; seq < perKey; seq++) {
				const body = JSON.stringify({ petname: `${prefix}${k}`, seq, petstatus: "sold" });
				const response = await fetch(`${origin}/hook/${flowId}`, {
					method: "POST",
					headers: { "content-type": "application/json", "x-hookflow-signature": signatureOf(body) },
					body,
					signal: AbortSignal.timeout(30_000),
				});
				await response.arrayBuffer();
				if (response.status !== 200) throw new Error(`hook answered ${response.status} for ${prefix}${k}#${seq}`);
				accepted++;
			}
		}),
	);
	return accepted;
}

async function petstoreLog(control: string): Promise<{ requests: PetstoreRecord[]; maxConcurrent: number }> {
	return (await fetch(`${control}/requests`)).json() as Promise<{ requests: PetstoreRecord[]; maxConcurrent: number }>;
}

/** Successful pet POSTs whose name starts with `prefix`, in the order the Petstore received them. */
const createdPets = (requests: PetstoreRecord[], prefix: string) =>
	requests
		.filter((r) => r.method === "POST" && r.path === "/v2/pet" && r.responseStatus === 200 && r.body?.name?.startsWith(prefix))
		.sort((a, b) => a.seq - b.seq);

/** Per key, each pet's seq must be above every earlier one of that key; also duplicates and gaps. */
export function checkOrder(names: string[], keys: number, perKey: number): { violations: number; duplicates: number; missing: number } {
	const last = new Map<string, number>();
	const seen = new Set<string>();
	let violations = 0;
	let duplicates = 0;
	for (const name of names) {
		if (seen.has(name)) {
			duplicates++;
			continue;
		}
		seen.add(name);
		const [key = "", seqText = ""] = name.split("#");
		const seq = Number(seqText);
		if (seq < (last.get(key) ?? -1)) violations++;
		last.set(key, Math.max(seq, last.get(key) ?? -1));
	}
	return { violations, duplicates, missing: keys * perKey - seen.size };
}

/** Gaps with no call open between the first call and the last answer, and the summed call time. */
export function idleSpans(calls: Array<[number, number]>): { idleMs: number; gaps: number; longestMs: number; busyMs: number } {
	const sorted = [...calls].sort((a, b) => a[0] - b[0]);
	let idleMs = 0;
	let gaps = 0;
	let longestMs = 0;
	let busyMs = 0;
	let openUntil = sorted[0]?.[0] ?? 0;
	for (const [start, end] of sorted) {
		busyMs += end - start;
		if (start > openUntil) {
			idleMs += start - openUntil;
			gaps++;
			longestMs = Math.max(longestMs, start - openUntil);
		}
		openUntil = Math.max(openUntil, end);
	}
	return { idleMs, gaps, longestMs, busyMs };
}

/** Pause, fill, resume: the flow's objects hold the whole backlog before the first delivery. */
async function backlog(origin: string, flowId: string, prefix: string, keys: number, perKey: number, deadline: number): Promise<number> {
	await api(origin, "POST", `/flows/${flowId}/pause`);
	const sent = await sendPerKey(origin, flowId, prefix, keys, perKey);
	await until(
		deadline,
		`${prefix}: every hook stored in the flow objects`,
		async () => ((await flowCounters(origin, flowId)).queued ?? 0) >= sent,
	);
	return sent;
}

export async function measureOrdering(o: OrderingOptions): Promise<OrderingResult> {
	const control = o.petstoreUrl.replace(/\/v2$/, "/__control");
	await fetch(`${control}/reset`, { method: "POST" });
	await fetch(`${control}/latency`, { method: "POST", body: JSON.stringify({ ms: PETSTORE_LATENCY_MS }) });
	const rt = await startRuntime(
		[hookflowWorker(o.config, { bundleDir: o.bundleDir, petstoreUrl: o.petstoreUrl, deliver: true })],
		o.profile ? { inspectorPort: 0 } : {},
	);
	o.onStarted?.(() => rt.dispose());
	try {
		await applyMigrations(rt.mf, o.migrationsDir);
		const origin = await rt.url("hookflow");
		const keyed = { ordering: "key", key: "petname", concurrency: CONCURRENCY };

		// ── throughput and order ──────────────────────────────────────────────────────────────
		const flowId = await createHmacFlow(origin, "bench keys", { delivery: keyed, mapping: MAPPING });
		const sent = await backlog(origin, flowId, "k", KEYS, o.perKey, o.deadline);
		o.step(`keys: ${sent} hooks over ${KEYS} keys held by the paused flow; resuming`);
		const cpuBefore = processCpuMs(rt.pid);
		const waitBefore = processRunQueueMs(rt.pid);
		const drainStart = Date.now();
		const drain = async () => {
			await api(origin, "POST", `/flows/${flowId}/resume`);
			await until(o.deadline, "the keyed backlog to be delivered", async () => {
				const counters: FlowCounters = await flowCounters(origin, flowId);
				return !counters.queued && counters.succeeded + counters.failed >= sent;
			});
		};
		let profileLines: string[] | undefined;
		if (o.profile) {
			const { profiles } = await profileIsolates([`${await rt.inspectorUrl()}/core:user:hookflow`], 100, drain);
			profileLines = formatSummary(summarize(profiles[0] as CpuProfile, "index.js", o.profile.sourceMap), 25);
		} else await drain();
		const cpuMs = processCpuMs(rt.pid) - cpuBefore;
		const starvedShare = (processRunQueueMs(rt.pid) - waitBefore) / Math.max(1, Date.now() - drainStart);
		const log = await petstoreLog(control);
		const pets = createdPets(log.requests, "k");
		const first = Math.min(...pets.map((r) => Date.parse(r.startedAt)));
		const lastEnd = Math.max(...pets.map((r) => Date.parse(r.endedAt ?? r.startedAt)));
		const deliverySeconds = (lastEnd - first) / 1000;
		const idle = idleSpans(pets.map((r) => [Date.parse(r.startedAt), Date.parse(r.endedAt ?? r.startedAt)]));
		const order = checkOrder(
			pets.map((r) => r.body?.name ?? ""),
			KEYS,
			o.perKey,
		);

		// ── the destination rate limit ────────────────────────────────────────────────────────
		await fetch(`${control}/reset`, { method: "POST" });
		await fetch(`${control}/latency`, { method: "POST", body: JSON.stringify({ ms: PETSTORE_LATENCY_MS }) });
		const limitedId = await createHmacFlow(origin, "bench rate limit", {
			delivery: { ...keyed, rateLimit: RATE_LIMIT },
			mapping: MAPPING,
		});
		const perKeyLimited = Math.ceil(((RATE_WINDOW_S + 2) * RATE_LIMIT.requests) / RATE_LIMIT.perSeconds / KEYS);
		const rateSent = await backlog(origin, limitedId, "r", KEYS, perKeyLimited, o.deadline);
		o.step(`rate limit: ${rateSent} hooks held; resuming, counting the Petstore's calls for ${RATE_WINDOW_S} s`);
		await api(origin, "POST", `/flows/${limitedId}/resume`);
		let calls: number[] = [];
		await until(o.deadline, `${RATE_WINDOW_S} s of rate-limited calls`, async () => {
			calls = createdPets((await petstoreLog(control)).requests, "r").map((r) => Date.parse(r.startedAt));
			return calls.length > 0 && Date.now() - Math.min(...calls) > RATE_WINDOW_S * 1000 + 500;
		});
		const start = Math.min(...calls);
		const inWindow = calls.filter((t) => t < start + RATE_WINDOW_S * 1000).length;
		// The most calls that started within any one second (sliding, from each call).
		const sorted = [...calls].sort((a, b) => a - b);
		let maxInAnySecond = 0;
		for (let i = 0, j = 0; i < sorted.length; i++) {
			while ((sorted[i] as number) - (sorted[j] as number) >= 1000) j++;
			maxInAnySecond = Math.max(maxInAnySecond, i - j + 1);
		}
		await api(origin, "POST", `/flows/${limitedId}/pause`);

		return {
			sent,
			delivered: pets.length,
			deliveriesPerS: pets.length / deliverySeconds,
			deliverySeconds,
			cpuMsPerDelivery: cpuMs / Math.max(1, pets.length),
			starvedShare,
			maxConcurrent: log.maxConcurrent,
			meanConcurrent: idle.busyMs / Math.max(1, lastEnd - first),
			idleMs: idle.idleMs,
			idleGaps: idle.gaps,
			longestIdleMs: idle.longestMs,
			orderViolations: order.violations,
			duplicates: order.duplicates,
			missing: order.missing,
			profileLines,
			rate: { sent: rateSent, inWindow, perS: inWindow / RATE_WINDOW_S, maxInAnySecond },
			logs: { ...rt.logs },
		};
	} finally {
		await fetch(`${control}/latency`, { method: "POST", body: JSON.stringify({ ms: 0 }) }).catch(() => {});
		await rt.dispose();
	}
}
