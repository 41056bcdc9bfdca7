// Hookflow's side of the benchmark: the built bundle as a Miniflare worker, its D1 migrated, and
// an HMAC flow created through the admin API exactly as a user would.
import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Miniflare, WorkerOptions } from "./runtime.ts";

export const HMAC_SECRET = "bench-hmac-secret";
export const ADMIN_TOKEN = randomBytes(24).toString("base64url");
export const CREDENTIALS_KEY = randomBytes(32).toString("base64");

/** The 60-byte JSON body every load request sends, as in the anchors. */
export const BODY = (() => {
	const base = '{"petname":"Gromit","petstatus":"sold","note":"';
	const body = `${base}${"x".repeat(60 - base.length - 2)}"}`;
	if (Buffer.byteLength(body) !== 60) throw new Error("body must be 60 bytes");
	return body;
})();
/** The x-hookflow-signature header of `body` under the bench's HMAC credential. */
export const signatureOf = (body: string) => `sha256=${createHmac("sha256", HMAC_SECRET).update(body).digest("hex")}`;
export const SIGNATURE = signatureOf(BODY);

/** The parts of wrangler.toml the benchmark's workers are built from (wrangler's own parser reads it). */
export interface WranglerConfig {
	compatibility_date?: string;
	compatibility_flags?: string[];
	vars: Record<string, unknown>;
	d1_databases: { binding: string; database_id?: string; database_name?: string }[];
	name?: string;
	durable_objects: { bindings: { name: string; class_name: string; script_name?: string }[] };
	services?: { binding: string; service: string }[];
	ratelimits?: { name: string; namespace_id: string; simple: { limit: number; period: 10 | 60 } }[];
	queues: {
		producers?: { binding: string; queue: string }[];
		consumers?: { queue: string; max_batch_size?: number; max_batch_timeout?: number; max_retries?: number; dead_letter_queue?: string }[];
	};
	migrations: { new_sqlite_classes?: string[] }[];
}

export async function readWranglerConfig(projectDir: string, file = "wrangler.toml"): Promise<WranglerConfig> {
	const wrangler = (await import(pathToFileURL(createRequire(join(projectDir, "package.json")).resolve("wrangler")).href)) as {
		unstable_readConfig(args: { config: string }): WranglerConfig;
	};
	return wrangler.unstable_readConfig({ config: join(projectDir, file) });
}

/**
 * The edge Worker's built bundle (wrangler.edge.toml) as a Miniflare worker in the same instance as
 * `hookflowWorker`: the same D1 database and queue, the FlowObject of the worker named "hookflow",
 * and CONTROL bound to it, as in wrangler dev and in production.
 */
export function edgeWorker(config: WranglerConfig, bundleDir: string, name = "hookflow-edge"): WorkerOptions {
	return {
		name,
		modulesRoot: bundleDir,
		modules: [{ type: "ESModule", path: join(bundleDir, "index.js") }],
		compatibilityDate: config.compatibility_date,
		compatibilityFlags: config.compatibility_flags ?? [],
		bindings: { ...config.vars, CREDENTIALS_KEY },
		d1Databases: Object.fromEntries(config.d1_databases.map((d) => [d.binding, d.database_name ?? d.binding])),
		durableObjects: Object.fromEntries(
			config.durable_objects.bindings.map((d) => [d.name, { className: d.class_name, scriptName: d.script_name, useSQLite: true }]),
		),
		queueProducers: Object.fromEntries((config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }])),
		serviceBindings: Object.fromEntries((config.services ?? []).map((s) => [s.binding, s.service])),
		ratelimits: Object.fromEntries((config.ratelimits ?? []).map((r) => [r.name, { namespace_id: r.namespace_id, simple: r.simple }])),
	};
}

export interface HookflowWorkerOptions {
	bundleDir: string;
	petstoreUrl: string;
	/** Whether this instance delivers: the queue consumers (and so the flow objects' Petstore calls) run. */
	deliver: boolean;
}

/** The built bundle with wrangler.toml's top-level bindings, as a Miniflare worker named "hookflow". */
export function hookflowWorker(config: WranglerConfig, o: HookflowWorkerOptions): WorkerOptions {
	const sqlite = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
	return {
		name: "hookflow",
		modulesRoot: o.bundleDir,
		modules: [{ type: "ESModule", path: join(o.bundleDir, "index.js") }],
		compatibilityDate: config.compatibility_date,
		compatibilityFlags: config.compatibility_flags ?? [],
		bindings: { ...config.vars, ADMIN_TOKEN, CREDENTIALS_KEY, PETSTORE_BASE_URL: o.petstoreUrl },
		d1Databases: Object.fromEntries(config.d1_databases.map((d) => [d.binding, d.database_name ?? d.binding])),
		durableObjects: Object.fromEntries(
			config.durable_objects.bindings.map((d) => [d.name, { className: d.class_name, useSQLite: sqlite.has(d.class_name) }]),
		),
		queueProducers: Object.fromEntries((config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }])),
		// Without consumers the local queue broker accepts each message and drops it.
		queueConsumers: o.deliver
			? Object.fromEntries(
					(config.queues.consumers ?? []).map((c) => [
						c.queue,
						{
							maxBatchSize: c.max_batch_size,
							maxBatchTimeout: c.max_batch_timeout,
							maxRetries: c.max_retries,
							deadLetterQueue: c.dead_letter_queue,
						},
					]),
				)
			: {},
	};
}

const NOOP_ENTRY = fileURLToPath(new URL("../workers/noop-queue.js", import.meta.url));

/**
 * The same worker, its queue producers swapped for an in-isolate no-op queue: bench/workers/noop-queue.js
 * becomes the entry and runs `entryFile` (the bundle, unchanged) with the swapped env.
 */
export function withNoopQueue(worker: WorkerOptions, name: string, entryFile: string): WorkerOptions {
	const producers = Object.keys((worker.queueProducers as Record<string, unknown>) ?? {});
	const root = dirname(entryFile);
	const { scriptPath: _, modules: __, ...rest } = worker;
	return {
		...rest,
		name,
		modulesRoot: root,
		modules: [
			{ type: "ESModule", path: join(root, "__noop-entry.js"), contents: readFileSync(NOOP_ENTRY, "utf8") },
			{ type: "ESModule", path: join(root, "__target.js"), contents: readFileSync(entryFile, "utf8") },
		],
		bindings: { ...(worker.bindings as Record<string, unknown>), NOOP_QUEUE_BINDINGS: producers.join(",") },
	};
}

/** Applies the D1 migrations (wrangler's files) through `worker`'s DB binding. */
export async function applyMigrations(mf: Miniflare, migrationsDir: string, worker = "hookflow"): Promise<void> {
	const db = await mf.getD1Database("DB", worker);
	for (const file of readdirSync(migrationsDir)
		.filter((f) => f.endsWith(".sql"))
		.sort()) {
		const statements = readFileSync(join(migrationsDir, file), "utf8")
			.split("--> statement-breakpoint")
			.map((s) => s.trim())
			.filter(Boolean);
		await db.batch(statements.map((s) => db.prepare(s)));
	}
}

export async function api<T>(origin: string, method: string, path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${origin}/api${path}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(30_000),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} /api${path} answered ${response.status}: ${text}`);
	return JSON.parse(text) as T;
}

export interface FlowCounters {
	received: number;
	succeeded: number;
	failed: number;
	inFlight: number;
	/** Accepted and not finished yet (issue 11). */
	queued: number;
}

export interface FlowOptions {
	/** The definition's `delivery` (ordering, key, concurrency, rateLimit); absent: ordering "flow". */
	delivery?: Record<string, unknown>;
	/** Create a Pet's mapping; the tutorial's by default. */
	mapping?: Record<string, string>;
}

/** Creates, publishes and starts an HMAC flow delivering to the local Petstore; returns its id. */
export async function createHmacFlow(origin: string, name: string, options: FlowOptions = {}): Promise<string> {
	const { credential: hook } = await api<{ credential: { id: string } }>(origin, "POST", "/credentials", {
		component: "webhook",
		name: `${name} HMAC`,
		auth: { type: "hmac", secret: HMAC_SECRET },
	});
	const { credential: pets } = await api<{ credential: { id: string } }>(origin, "POST", "/credentials", {
		component: "petstore",
		name: `${name} Petstore`,
		apiKey: "secret",
	});
	const { flow } = await api<{ flow: { id: string } }>(origin, "POST", "/flows", { name });
	await api(origin, "PUT", `/flows/${flow.id}/draft`, {
		trigger: { component: "webhook", credentialId: hook.id },
		steps: [
			{
				component: "petstore",
				action: "createPet",
				credentialId: pets.id,
				mapping: options.mapping ?? { name: "petname", status: "petstatus" },
			},
		],
		...(options.delivery ? { delivery: options.delivery } : {}),
	});
	await api(origin, "POST", `/flows/${flow.id}/publish`);
	await api(origin, "POST", `/flows/${flow.id}/start`);
	return flow.id;
}

export async function flowCounters(origin: string, flowId: string): Promise<FlowCounters> {
	const { flow } = await api<{ flow: { counters: FlowCounters } }>(origin, "GET", `/flows/${flowId}`);
	return flow.counters;
}

/** One signed request, to check the setup before load: must answer 200. */
export async function sendOneHook(origin: string, flowId: string): Promise<Response> {
	return fetch(`${origin}/hook/${flowId}`, {
		method: "POST",
		headers: { "content-type": "application/json", "x-hookflow-signature": SIGNATURE },
		body: BODY,
		signal: AbortSignal.timeout(10_000),
	});
}
