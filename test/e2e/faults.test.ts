import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { type Petstore, type RequestRecord as PetstoreRequest, startPetstore } from "../../dev/petstore/server.ts";
import { eventually as waitFor } from "../support/eventually";
import { removeSnapshot, type Stack, snapshotRepo, startOnAFreePort, startStack } from "./support/stack";

/**
 * The delivery guarantees under faults, end to end: two flows take hooks while the Petstore
 * answers 503, 429 with Retry-After, hangs past the Worker's 30 s timeout, answers with a body far
 * over what a run-log row can hold (30 MB), and the whole local
 * stack is stopped and started again (same state, same port) while retries are pending. One
 * Petstore lives in this process across the restart (HOOKFLOW_PETSTORE_URL), so its pets and
 * request log cover both runs. Every accepted hook must be delivered exactly once, in
 * acceptance order per flow, one at a time per flow, and counted. A third flow, "gamma", orders
 * per key (issue 11): its hooks meet 503s and 429s aimed at them (forName), one of its keys waits
 * out a Retry-After across the restart, and each key's pets must come in acceptance order, never
 * two of one key at once, none lost, none twice.
 *
 * npm start runs from a snapshot of the working tree: `wrangler dev` reloads the Worker on every
 * change to a file it watches, and an edit or install elsewhere in the repo must not add
 * interruptions the test did not make. (Reloads are still counted and printed.)
 */

const PER_FLOW = 15;
const FLOWS = ["alpha", "beta"] as const;
/** The key-ordered flow: hooks `gamma-k<key>-<i>` with `shop: "k<key>"`, keyed by `shop`. */
const GAMMA_KEYS = ["k0", "k1", "k2"] as const;
const GAMMA_CONCURRENCY = 4;
type FlowKey = (typeof FLOWS)[number];
const STATUSES = ["Available", "Pending", "Sold"];

/**
 * How long each wait may take. The test's own timeout is their sum plus what the rest may take,
 * so a slow step fails with its own name (and the timeline), never with the test's timeout.
 */
const WAIT_MS = {
	hangingCallEnds: 60_000,
	phase1Delivered: 30_000,
	alphaMeets429: 15_000,
	betaHangs: 15_000,
	storedBeforeStop: 30_000,
	stackStops: 25_000,
	stackStarts: 60_000,
	resumedAfterRestart: 90_000,
	allSucceeded: 90_000,
};
/** The API calls that set the flows up, about 90 hooks sent (a few retried after a second) and the final reads. */
const CALLS_MS = 60_000;
const TEST_TIMEOUT_MS = Object.values(WAIT_MS).reduce((a, b) => a + b, 0) + CALLS_MS;

type Fault = {
	forName?: string;
	status?: number;
	retryAfter?: string;
	hangMs?: number;
	delayMs?: number;
	afterCreate?: boolean;
	bodyBytes?: number;
};
type Counters = { received: number; succeeded: number; failed: number; inFlight: number; queued: number };
type ExecutionSummary = { id: string; status: string; attempts: number; error: string | null };
type Attempt = { n: number; status: number | null; outcome: string; error: string | null };

let petstore: Petstore | undefined;
let stack: Stack | undefined;
let stateDir = "";
let snapshot = "";
let port = 0;

const flowIds = {} as Record<FlowKey | "gamma", string>;
const gammaAccepted: { name: string; key: string; requestId: string }[] = [];
const accepted = { alpha: [], beta: [] } as Record<FlowKey, { name: string; requestId: string }[]>;
const rejected: { name: string; phase: string; reason: string }[] = [];
const next = { alpha: 0, beta: 0 } as Record<FlowKey, number>;

const runId = Math.random().toString(36).slice(2, 10);
let senderRetries = 0;
const callMs = (c: PetstoreRequest) => (c.endedAt === null ? Number.POSITIVE_INFINITY : Date.parse(c.endedAt) - Date.parse(c.startedAt));
/** How often wrangler dev reloaded the Worker (it watches its project's files), over both runs of the stack. */
let reloadsOfEarlierRuns = 0;
let outputOfEarlierRuns = "";
const reloads = () => reloadsOfEarlierRuns + (stack?.output().match(/Reloading local server/g)?.length ?? 0);
/** What the test saw along the way; printed only when it fails, so a passing run stays quiet. */
const timeline: string[] = [];
const note = (line: string) => void timeline.push(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const petstoreOrigin = () => new URL(petstore?.url ?? "").origin;

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
	if (!stack) throw new Error("the stack is not running");
	const response = await fetch(`${stack.origin}${path}`, {
		method,
		headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(15_000),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
	return JSON.parse(text) as T;
}

async function control<T = any>(path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${petstoreOrigin()}/__control${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	if (!response.ok) throw new Error(`/__control${path} → ${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

const injectFaults = (responses: Fault[]) => control("/faults", { responses });
const petPosts = async () =>
	(await control<{ requests: PetstoreRequest[]; maxConcurrent: number }>("/requests")).requests.filter(
		(r) => r.method === "POST" && r.path === "/v2/pet",
	);

/** The stack restarts during this test: a call that fails meanwhile counts as "not yet". */
const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> =>
	waitFor(what, () => check().catch(() => undefined), timeoutMs);

/**
 * One hook for `flow`, with the next unique petname. Only a 200 reply counts as accepted. It
 * carries an idempotency-key, so like a well-behaved sender it may retry a failed send (not
 * while the stack is down): a retry of a request that was in fact accepted maps to the same
 * execution id and creates nothing new.
 */
async function sendHook(flow: FlowKey, phase: string, origin: string): Promise<void> {
	const i = next[flow]++;
	const name = `${flow}-${i}`;
	const requestId = await sendTo(flowIds[flow], name, { petname: name, petstatus: STATUSES[i % STATUSES.length] }, phase, origin);
	if (requestId) accepted[flow].push({ name, requestId });
}

/** For each key in turn, the gamma hook number `i` (so acceptance order per key is `i` order). */
async function sendGammaRound(i: number, phase: string, origin: string): Promise<void> {
	for (const key of GAMMA_KEYS) {
		const name = `gamma-${key}-${i}`;
		const requestId = await sendTo(flowIds.gamma, name, { petname: name, petstatus: "Sold", shop: key }, phase, origin);
		if (requestId) gammaAccepted.push({ name, key, requestId });
	}
}

/** One hook; its requestId once a 200 came back, else null (and the reason is in `rejected`). */
async function sendTo(flowId: string, name: string, body: unknown, phase: string, origin: string): Promise<string | null> {
	const tries = phase === "down" ? 1 : 3;
	let reason = "";
	for (let attempt = 1; attempt <= tries; attempt++) {
		if (attempt > 1) {
			senderRetries++;
			await sleep(1000);
		}
		try {
			const response = await fetch(`${origin}/hook/${flowId}`, {
				method: "POST",
				headers: { "content-type": "application/json", "idempotency-key": `${runId}-${name}` },
				body: JSON.stringify(body),
				signal: AbortSignal.timeout(15_000),
			});
			const text = await response.text();
			if (response.status === 200) return (JSON.parse(text) as { requestId: string }).requestId;
			reason = `${response.status} ${text.slice(0, 200)}`;
			if (response.status < 500) break;
		} catch (error) {
			reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
		}
	}
	rejected.push({ name, phase, reason });
	return null;
}

/** `rounds` hooks per flow, interleaved, one after the other (so acceptance order is send order per flow). */
async function sendRounds(rounds: number, phase: string, origin: string): Promise<void> {
	for (let round = 0; round < rounds; round++) {
		for (const flow of FLOWS) await sendHook(flow, phase, origin);
	}
}

const acceptedCount = () => FLOWS.reduce((n, flow) => n + accepted[flow].length, 0) + gammaAccepted.length;
const flowOf = (name: unknown): FlowKey | undefined => FLOWS.find((flow) => typeof name === "string" && name.startsWith(`${flow}-`));

/** true once every execution accepted so far has succeeded in the run log. */
async function allSucceeded(): Promise<true | undefined> {
	for (const flow of FLOWS) {
		const succeeded = new Set((await runLog(flow)).filter((e) => e.status === "succeeded").map((e) => e.id));
		if (!accepted[flow].every((a) => succeeded.has(a.requestId))) return undefined;
	}
	const gammaSucceeded = new Set((await runLog("gamma")).filter((e) => e.status === "succeeded").map((e) => e.id));
	if (!gammaAccepted.every((a) => gammaSucceeded.has(a.requestId))) return undefined;
	return true;
}

async function runLog(flow: FlowKey | "gamma"): Promise<ExecutionSummary[]> {
	const { executions } = await api<{ executions: ExecutionSummary[] }>("GET", `/api/flows/${flowIds[flow]}/executions?limit=100`);
	return executions;
}

/** The most POST /v2/pet calls of one flow the Petstore ever had open at once (an end at t does not overlap a start at t). */
function maxOverlap(requests: PetstoreRequest[]): number {
	const events = requests.flatMap((r) => [
		{ at: Date.parse(r.startedAt), delta: 1 },
		{ at: r.endedAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.endedAt), delta: -1 },
	]);
	events.sort((a, b) => a.at - b.at || a.delta - b.delta);
	let open = 0;
	let max = 0;
	for (const event of events) {
		open += event.delta;
		max = Math.max(max, open);
	}
	return max;
}

async function launch(): Promise<Stack> {
	return startStack({
		root: snapshot,
		port,
		stateDir,
		env: { HOOKFLOW_PETSTORE_URL: petstore?.url ?? "" },
		readyTimeoutMs: WAIT_MS.stackStarts,
	});
}

beforeAll(async () => {
	petstore = await startPetstore();
	stateDir = mkdtempSync(join(tmpdir(), "hookflow-faults-"));
	snapshot = snapshotRepo();
	// The first start picks the port; the restart later must come back on the same one.
	stack = await startOnAFreePort({ root: snapshot, stateDir, env: { HOOKFLOW_PETSTORE_URL: petstore?.url ?? "" }, readyTimeoutMs: 60_000 });
	port = Number(new URL(stack.origin).port);
	expect(stack.output()).toContain(`Petstore     ${petstore.url}`);
}, 70_000);

afterAll(async () => {
	try {
		await stack?.stop();
	} finally {
		try {
			await petstore?.close();
		} finally {
			if (stateDir) rmSync(stateDir, { recursive: true, force: true });
			if (snapshot) removeSnapshot(snapshot);
		}
	}
}, 30_000);

describe("delivery under Petstore faults and a restart of the whole stack", () => {
	it(
		"delivers every accepted hook exactly once, in order, one at a time per flow",
		async () => {
			onTestFailed(() => {
				console.log(`what happened:\n${timeline.join("\n")}`);
				console.log(`npm start printed (last 8000 characters):\n${(outputOfEarlierRuns + (stack?.output() ?? "")).slice(-8000)}`);
			});
			const testStart = Date.now();
			const elapsed = () => `${((Date.now() - testStart) / 1000).toFixed(1)} s`;
			const origin = stack?.origin ?? "";

			// ── two running flows on the seeded "Local Petstore" credential, with a short retry policy
			const { credentials } = await api("GET", "/api/credentials?component=petstore");
			const localPetstore = credentials.find((c: { name: string }) => c.name === "Local Petstore");
			expect(localPetstore).toBeDefined();
			for (const flow of FLOWS) {
				const { credential } = await api("POST", "/api/credentials", {
					component: "webhook",
					name: `Faults ${flow}`,
					auth: { type: "none" },
				});
				const created = await api("POST", "/api/flows", { name: `Faults ${flow}` });
				flowIds[flow] = created.flow.id;
				await api("PUT", `/api/flows/${flowIds[flow]}/draft`, {
					trigger: { component: "webhook", credentialId: credential.id },
					steps: [
						{
							component: "petstore",
							action: "createPet",
							credentialId: localPetstore.id,
							mapping: { name: "petname", status: "petstatus" },
						},
					],
					retryPolicy: { maxAttempts: 20, baseDelayMs: 200, maxDelayMs: 2000 },
				});
				await api("POST", `/api/flows/${flowIds[flow]}/publish`);
				await api("POST", `/api/flows/${flowIds[flow]}/start`);
			}
			const { credential: gammaHook } = await api("POST", "/api/credentials", {
				component: "webhook",
				name: "Faults gamma",
				auth: { type: "none" },
			});
			flowIds.gamma = (await api("POST", "/api/flows", { name: "Faults gamma" })).flow.id;
			await api("PUT", `/api/flows/${flowIds.gamma}/draft`, {
				trigger: { component: "webhook", credentialId: gammaHook.id },
				steps: [
					{ component: "petstore", action: "createPet", credentialId: localPetstore.id, mapping: { name: "petname", status: "petstatus" } },
				],
				retryPolicy: { maxAttempts: 20, baseDelayMs: 200, maxDelayMs: 2000 },
				delivery: { ordering: "key", key: "shop", concurrency: GAMMA_CONCURRENCY },
			});
			await api("POST", `/api/flows/${flowIds.gamma}/publish`);
			await api("POST", `/api/flows/${flowIds.gamma}/start`);

			// ── phase 1: 503s (one after the pet was stored, as if the reply were lost), 429s with
			// Retry-After, and one call that hangs past the Worker's 30 s timeout.
			const faults1: Fault[] = [
				{ status: 503 },
				{ status: 503 },
				{ status: 503, afterCreate: true },
				{ status: 503 },
				{ status: 429, retryAfter: "1" },
				{ status: 429, retryAfter: "1" },
				// Far past the Worker's 30 s timeout: the call can only end by the Worker hanging up.
				{ hangMs: 120_000 },
			];
			await injectFaults(faults1);
			await sendRounds(7, "phase 1", origin);
			note(`[${elapsed()}] phase 1: ${acceptedCount()} accepted`);
			// Wait until the Worker gave up on the hanging call: the one call the Petstore never answered.
			const unanswered = await eventually(
				"the hanging Petstore call to end",
				async () => {
					if ((await injectFaults([])).queued > 0) return undefined;
					const calls = await petPosts();
					if (calls.some((c) => c.endedAt === null)) return undefined;
					return calls.filter((c) => c.responseStatus === null);
				},
				WAIT_MS.hangingCallEnds,
			);
			expect(unanswered).toHaveLength(1);
			const hung = unanswered[0] as PetstoreRequest;
			const hungName = (hung.body as { name?: string } | null)?.name;
			note(`[${elapsed()}] the hanging call (${hungName}) ended after ${callMs(hung)} ms`);
			// …and its execution says it was the Worker's own 30 s timeout.
			const hungId = FLOWS.flatMap((flow) => accepted[flow]).find((a) => a.name === hungName)?.requestId;
			const { execution: hungExecution } = await api<{ execution: { attempts: Attempt[] } }>("GET", `/api/executions/${hungId}`);
			expect(hungExecution.attempts).toContainEqual(
				expect.objectContaining({ status: null, error: expect.stringMatching(/did not answer within 30 s/) }),
			);

			// ── gamma, phase 1: 503s (one after the pet was stored) and a 429 with Retry-After, each
			// aimed at one of its hooks, while the other keys go on.
			await injectFaults([
				{ forName: "gamma-k0-1", status: 503 },
				{ forName: "gamma-k0-1", status: 503, afterCreate: true },
				{ forName: "gamma-k1-0", status: 429, retryAfter: "1" },
				{ forName: "gamma-k2-2", status: 503 },
			]);
			for (let i = 0; i < 4; i++) await sendGammaRound(i, "phase 1", origin);
			note(`[${elapsed()}] gamma phase 1: ${gammaAccepted.length} accepted`);

			// ── phase 2: at the stop, alpha's head waits out a Retry-After of 20 s (an alarm in the future)
			// and beta's head is in the middle of a call that hangs; more hooks wait behind both.
			await eventually("phase 1 to be delivered", allSucceeded, WAIT_MS.phase1Delivered);
			await injectFaults([{ status: 429, retryAfter: "20" }]);
			await sendHook("alpha", "phase 2", origin);
			const alphaHead = accepted.alpha.at(-1);
			await eventually(
				"alpha to meet the 429",
				async () => ((await injectFaults([])).queued === 0 ? true : undefined),
				WAIT_MS.alphaMeets429,
			);
			await injectFaults([{ status: 503 }, { hangMs: 60_000 }]);
			await sendHook("beta", "phase 2", origin);
			const betaHead = accepted.beta.at(-1);
			await sendRounds(2, "phase 2", origin);
			// Gamma's hooks come once beta's head has taken both of its faults (unaimed faults go to any pet POST):
			// key k0's head waits out a Retry-After of 20 s, across the restart.
			await eventually(
				"beta's head to hang",
				async () => ((await injectFaults([])).queued === 0 && (await petPosts()).some((p) => p.endedAt === null) ? true : undefined),
				WAIT_MS.betaHangs,
			);
			await injectFaults([{ forName: "gamma-k0-4", status: 429, retryAfter: "20" }]);
			await sendGammaRound(4, "phase 2", origin);
			const gammaHead = gammaAccepted.find((a) => a.name === "gamma-k0-4");
			const k0Behind = `gamma-k0-5`;
			await sendTo(flowIds.gamma, k0Behind, { petname: k0Behind, petstatus: "Sold", shop: "k0" }, "phase 2", origin).then(
				(requestId) => requestId && gammaAccepted.push({ name: k0Behind, key: "k0", requestId }),
			);
			note(`[${elapsed()}] phase 2: ${acceptedCount()} accepted`);
			// The local queue (miniflare) keeps unconsumed messages in memory only, so wait until the
			// flow objects have stored every accepted hook before stopping.
			const atStop = await eventually(
				"every accepted hook stored by its flow object, alpha retrying, beta's call in flight",
				async () => {
					let pending = 0;
					for (const flow of FLOWS) {
						const { flow: view } = await api<{ flow: { counters: Counters } }>("GET", `/api/flows/${flowIds[flow]}`);
						if (view.counters.received !== accepted[flow].length) return undefined;
						pending += view.counters.queued;
					}
					const gammaView = (await api<{ flow: { counters: Counters } }>("GET", `/api/flows/${flowIds.gamma}`)).flow;
					if (gammaView.counters.received !== gammaAccepted.length) return undefined;
					const alphaStatus = (await runLog("alpha")).find((e) => e.id === alphaHead?.requestId)?.status;
					const gammaStatus = (await runLog("gamma")).find((e) => e.id === gammaHead?.requestId)?.status;
					const open = (await petPosts()).filter((p) => p.endedAt === null);
					if ((await injectFaults([])).queued > 0 || alphaStatus !== "retrying" || gammaStatus !== "retrying" || open.length !== 1)
						return undefined;
					return { pending, inFlight: (open[0]?.body as { name?: string } | null)?.name };
				},
				WAIT_MS.storedBeforeStop,
			);
			expect(atStop.inFlight).toBe(betaHead?.name);

			// ── restart: stop npm start (SIGTERM to its process group), send while it is down, start it again.
			await stack?.stop();
			reloadsOfEarlierRuns = reloads();
			outputOfEarlierRuns = stack?.output() ?? "";
			stack = undefined;
			note(`[${elapsed()}] stack stopped with ${atStop.pending} executions pending, ${atStop.inFlight} in flight`);
			await sendRounds(1, "down", origin);
			stack = await launch();
			expect(stack.origin).toBe(origin);
			note(`[${elapsed()}] stack started again`);
			// Nothing new arrives yet: the flow objects' alarms alone must resume the pending executions.
			// A call in flight at the stop is resumed by the flow object's watchdog alarm (up to a minute after its loop began).
			await eventually(
				"the executions accepted before the restart to succeed after it, with no new hook",
				allSucceeded,
				WAIT_MS.resumedAfterRestart,
			);
			note(`[${elapsed()}] everything accepted before the restart delivered`);

			// ── phase 3: a few more failures, one answer over the recorded-body cap, and the rest of the hooks.
			await injectFaults([
				{ status: 503 },
				{ status: 503, afterCreate: true },
				{ bodyBytes: 30_000_000 },
				{ status: 429, retryAfter: "1" },
			]);
			await sendRounds(PER_FLOW - next.alpha, "phase 3", origin);
			await injectFaults([
				{ forName: "gamma-k1-6", status: 503, afterCreate: true },
				{ forName: "gamma-k2-7", status: 429, retryAfter: "1" },
			]);
			for (let i = 6; i < 8; i++) await sendGammaRound(i, "phase 3", origin);
			note(`[${elapsed()}] phase 3: ${acceptedCount()} accepted, ${rejected.length} rejected`);

			// ── wait until every accepted execution has succeeded.
			const logs = await eventually(
				"every accepted execution to succeed",
				async () => {
					const byFlow = {} as Record<FlowKey | "gamma", ExecutionSummary[]>;
					for (const flow of FLOWS) {
						byFlow[flow] = await runLog(flow);
						const succeeded = new Set(byFlow[flow].filter((e) => e.status === "succeeded").map((e) => e.id));
						if (!accepted[flow].every((a) => succeeded.has(a.requestId))) return undefined;
					}
					byFlow.gamma = await runLog("gamma");
					const succeeded = new Set(byFlow.gamma.filter((e) => e.status === "succeeded").map((e) => e.id));
					if (!gammaAccepted.every((a) => succeeded.has(a.requestId))) return undefined;
					return byFlow;
				},
				WAIT_MS.allSucceeded,
			).catch(async (error) => {
				for (const flow of [...FLOWS, "gamma" as const]) console.log(flow, JSON.stringify(await runLog(flow).catch(() => [])));
				console.log(stack?.output().slice(-6000));
				throw error;
			});
			note(`[${elapsed()}] all accepted executions succeeded`);

			// ── what the Petstore saw
			const pets = await control<{ id: number; name: string; status: string }[]>("/pets");
			const posts = await petPosts();
			const { maxConcurrent: globalMaxConcurrent } = await control<{ maxConcurrent: number }>("/requests");
			const acceptedIds = new Set([
				...FLOWS.flatMap((flow) => accepted[flow].map((a) => a.requestId)),
				...gammaAccepted.map((a) => a.requestId),
			]);

			const petsByName = new Map<string, number>();
			for (const pet of pets) petsByName.set(pet.name, (petsByName.get(pet.name) ?? 0) + 1);
			const duplicates = [...petsByName].filter(([, n]) => n > 1).map(([name]) => name);

			const successfulByKey = new Map<string, PetstoreRequest[]>();
			for (const post of posts) {
				if (post.responseStatus === null || post.responseStatus < 200 || post.responseStatus > 299) continue;
				const list = successfulByKey.get(post.idempotencyKey ?? "") ?? [];
				list.push(post);
				successfulByKey.set(post.idempotencyKey ?? "", list);
			}
			const twiceDelivered = [...successfulByKey].filter(([, list]) => list.length > 1);

			const overlap = {} as Record<FlowKey, number>;
			for (const flow of FLOWS)
				overlap[flow] = maxOverlap(posts.filter((p) => flowOf((p.body as { name?: unknown } | null)?.name) === flow));

			const attemptsTotal = [...FLOWS, "gamma" as const].reduce((n, flow) => n + logs[flow].reduce((m, e) => m + e.attempts, 0), 0);
			const details = await Promise.all(
				[...acceptedIds].map(
					async (id) =>
						(
							await api<{ execution: { attempts: Attempt[]; response: { truncated?: boolean; bodyBytes?: number } | null } }>(
								"GET",
								`/api/executions/${id}`,
							)
						).execution,
				),
			);
			const attempts = details.flatMap((execution) => execution.attempts);
			const oversized = details.filter((execution) => execution.response?.truncated === true);
			const counters = {} as Record<FlowKey, Counters>;
			for (const flow of FLOWS)
				counters[flow] = (await api<{ flow: { counters: Counters } }>("GET", `/api/flows/${flowIds[flow]}`)).flow.counters;
			const gammaCounters = (await api<{ flow: { counters: Counters } }>("GET", `/api/flows/${flowIds.gamma}`)).flow.counters;
			const gammaPosts = posts.filter((p) => ((p.body as { name?: unknown } | null)?.name as string | undefined)?.startsWith("gamma-"));
			const gammaKeyOf = (p: PetstoreRequest) => (p.body as { name: string }).name.split("-")[1] as string;
			const gammaOverlap = Object.fromEntries(GAMMA_KEYS.map((key) => [key, maxOverlap(gammaPosts.filter((p) => gammaKeyOf(p) === key))]));

			note(
				[
					"faults e2e counts:",
					`  accepted             ${acceptedCount()} (alpha ${accepted.alpha.length}, beta ${accepted.beta.length}, gamma ${gammaAccepted.length})`,
					`  rejected             ${rejected.length} (${rejected.map((r) => `${r.name} [${r.phase}]: ${r.reason}`).join("; ") || "none"})`,
					`  delivered            ${pets.length} pets, ${petsByName.size} distinct names`,
					`  duplicates           ${duplicates.length} pets, ${twiceDelivered.length} idempotency keys with more than one 2xx`,
					`  max concurrent       alpha ${overlap.alpha}, beta ${overlap.beta}, gamma ${maxOverlap(gammaPosts)} (per key ${JSON.stringify(gammaOverlap)}) (Petstore global ${globalMaxConcurrent})`,
					`  attempts total       ${attemptsTotal} in the run log, ${posts.length} POST /v2/pet at the Petstore`,
					`  attempt outcomes     ${attempts.filter((a) => a.status === 503).length}×503, ${attempts.filter((a) => a.status === 429).length}×429, ${attempts.filter((a) => a.status === null).length}×no response, ${attempts.filter((a) => a.outcome === "succeeded").length}×succeeded`,
					`  pending at restart   ${atStop.pending} (${atStop.inFlight} in flight)`,
					`  oversized answers    ${oversized.map((e) => e.response?.bodyBytes).join(", ") || "none"} bytes, recorded truncated`,
					`  sender retries       ${senderRetries}; wrangler dev reloads ${reloads()}`,
					`  counters             alpha ${JSON.stringify(counters.alpha)}, beta ${JSON.stringify(counters.beta)}, gamma ${JSON.stringify(gammaCounters)}`,
					`  took                 ${elapsed()}`,
				].join("\n"),
			);

			// Enough was accepted on both sides of the restart for the test to mean something.
			expect(accepted.alpha.length).toBeGreaterThanOrEqual(PER_FLOW - 2);
			expect(accepted.beta.length).toBeGreaterThanOrEqual(PER_FLOW - 2);
			expect(gammaAccepted).toHaveLength(GAMMA_KEYS.length * 7 + 1);
			expect(rejected.filter((r) => r.phase !== "down")).toEqual([]);
			expect(rejected.filter((r) => r.phase === "down")).toHaveLength(FLOWS.length);

			// The run log holds exactly the accepted executions, all succeeded.
			for (const flow of FLOWS) {
				expect(new Set(logs[flow].map((e) => e.id))).toEqual(new Set(accepted[flow].map((a) => a.requestId)));
				expect(logs[flow].filter((e) => e.status !== "succeeded")).toEqual([]);
			}
			expect(new Set(logs.gamma.map((e) => e.id))).toEqual(new Set(gammaAccepted.map((a) => a.requestId)));
			expect(logs.gamma.filter((e) => e.status !== "succeeded")).toEqual([]);

			// Exactly once: one pet per accepted petname, none for the rejected ones, nothing else.
			expect(duplicates).toEqual([]);
			expect([...petsByName.keys()].sort()).toEqual(
				[...FLOWS.flatMap((flow) => accepted[flow].map((a) => a.name)), ...gammaAccepted.map((a) => a.name)].sort(),
			);
			// …and the Worker never re-sent a call that had already succeeded (the Petstore's dedupe is not relied on).
			expect(twiceDelivered.map(([key, list]) => ({ key, seqs: list.map((p) => p.seq) }))).toEqual([]);
			expect([...successfulByKey.keys()].sort()).toEqual([...acceptedIds].sort());
			expect(posts.every((p) => p.idempotencyKey !== null && acceptedIds.has(p.idempotencyKey))).toBe(true);

			for (const flow of FLOWS) {
				const inAcceptanceOrder = accepted[flow].map((a) => a.name);
				// Per flow, the successful creates came in acceptance order…
				const successes = posts
					.filter((p) => flowOf((p.body as { name?: unknown } | null)?.name) === flow && p.responseStatus === 200)
					.sort((a, b) => a.seq - b.seq)
					.map((p) => (p.body as { name: string }).name);
				expect(successes).toEqual(inAcceptanceOrder);
				// …and so were the pets (ids grow with creation, a pet stored before a lost reply included).
				const created = pets
					.filter((p) => flowOf(p.name) === flow)
					.sort((a, b) => a.id - b.id)
					.map((p) => p.name);
				expect(created).toEqual(inAcceptanceOrder);
				// One call at a time per flow.
				expect(overlap[flow]).toBe(1);
				// The flow object's counters agree with what was accepted.
				expect(counters[flow]).toEqual({
					received: accepted[flow].length,
					succeeded: accepted[flow].length,
					failed: 0,
					inFlight: 0,
					authFailures: 0,
					handshakes: 0,
					queued: 0,
					oldestQueuedAt: null,
					paused: false,
				});
			}
			// Gamma, ordered per key: each key's successful creates and pets in acceptance order, never
			// two calls of one key at once, never more than the concurrency, and its counters agree.
			for (const key of GAMMA_KEYS) {
				const inAcceptanceOrder = gammaAccepted.filter((a) => a.key === key).map((a) => a.name);
				const successes = gammaPosts
					.filter((p) => gammaKeyOf(p) === key && p.responseStatus === 200)
					.sort((a, b) => a.seq - b.seq)
					.map((p) => (p.body as { name: string }).name);
				expect(successes, `key ${key}`).toEqual(inAcceptanceOrder);
				const created = pets
					.filter((p) => p.name.startsWith(`gamma-${key}-`))
					.sort((a, b) => a.id - b.id)
					.map((p) => p.name);
				expect(created, `key ${key}`).toEqual(inAcceptanceOrder);
				expect(gammaOverlap[key], `calls of key ${key} at once`).toBe(1);
			}
			expect(maxOverlap(gammaPosts)).toBeLessThanOrEqual(GAMMA_CONCURRENCY);
			expect(gammaCounters).toEqual({
				received: gammaAccepted.length,
				succeeded: gammaAccepted.length,
				failed: 0,
				inFlight: 0,
				authFailures: 0,
				handshakes: 0,
				queued: 0,
				oldestQueuedAt: null,
				paused: false,
			});
			// Status lower-cased on the way (mapping status ← petstatus).
			expect(pets.every((p) => ["available", "pending", "sold"].includes(p.status))).toBe(true);

			// Every kind of fault was met and retried: 503, 429 and the 30 s timeout.
			expect(attempts.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(5);
			expect(attempts.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(4);
			expect(attempts.some((a) => a.status === null && /did not answer within 30 s/.test(a.error ?? ""))).toBe(true);
			expect(attempts.filter((a) => a.outcome === "succeeded")).toHaveLength(acceptedCount());
			// The 30 MB answer: its execution succeeded once, recorded by its head, and the flow kept delivering in order (above).
			expect(oversized).toHaveLength(1);
			expect(oversized[0]?.response?.bodyBytes).toBeGreaterThan(30_000_000);
		},
		TEST_TIMEOUT_MS,
	);
});
