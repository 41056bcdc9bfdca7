// Issue 20's attack-surface proof: the edge Worker — the hostname every sender knows — carries no
// admin code, and deployed alone (no CONTROL service binding) it serves /hook and nothing else.
// The bundle is the one `wrangler deploy` would upload (`--dry-run --outdir`, as npm run build:edge),
// and it runs in wrangler's own Miniflare with only the bindings a hook needs: its D1 (migrated, one
// running flow with a No Auth credential) and its queue.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "hookflow-edge-bundle-"));
const CREDENTIALS_KEY = Buffer.alloc(32, 7).toString("base64");
const FLOW_ID = "edgeAloneFlow0123456789abcdefABCD";

interface MiniflareLike {
	ready: Promise<URL>;
	dispatchFetch(url: string, init?: RequestInit): Promise<Response>;
	getD1Database(
		binding: string,
	): Promise<{ prepare(sql: string): { bind(...v: unknown[]): unknown }; batch(s: unknown[]): Promise<unknown> }>;
	dispose(): Promise<void>;
}
let mf: MiniflareLike;

/** Every statement of every migration, in order (wrangler's files, split as drizzle-kit writes them). */
function migrationStatements(): string[] {
	const dir = join(root, "migrations");
	return readdirSync(dir)
		.filter((f) => f.endsWith(".sql"))
		.sort()
		.flatMap((f) => readFileSync(join(dir, f), "utf8").split("--> statement-breakpoint"))
		.map((s) => s.trim())
		.filter(Boolean);
}

beforeAll(async () => {
	const built = spawnSync(
		process.execPath,
		[join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "-c", "wrangler.edge.toml", "--dry-run", "--outdir", outdir, "--env="],
		{ cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } },
	);
	expect(built.status, `${built.stdout}${built.stderr}`).toBe(0);

	const wranglerRequire = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
	const { Miniflare, convertV4MiniflareOptions } = (await import(pathToFileURL(wranglerRequire.resolve("miniflare")).href)) as {
		Miniflare: new (options: unknown) => MiniflareLike;
		convertV4MiniflareOptions(options: unknown): unknown;
	};
	mf = new Miniflare(
		convertV4MiniflareOptions({
			cf: false,
			host: "127.0.0.1",
			port: 0,
			unsafeObservability: false,
			telemetry: { enabled: false },
			handleStructuredLogs: () => {},
			workers: [
				{
					name: "hookflow-edge",
					modulesRoot: outdir,
					modules: [{ type: "ESModule", path: join(outdir, "index.js") }],
					compatibilityDate: "2026-11-01",
					bindings: { MAX_BODY_BYTES: "1048576", CONFIG_CACHE_TTL_MS: "5000", LOG_LEVEL: "silent", BUILD_SHA: "test", CREDENTIALS_KEY },
					d1Databases: { DB: "edge-alone" },
					queueProducers: { EXECUTIONS: { queueName: "edge-alone-executions" } },
				},
			],
		}),
	);
	await mf.ready;
	const db = await mf.getD1Database("DB");
	await db.batch(migrationStatements().map((s) => db.prepare(s)));
	// The Worker's own sealing (AES-GCM under CREDENTIALS_KEY), loaded by path: src/ is typed for workerd, not Node.
	const { sealJson } = (await import(pathToFileURL(join(root, "src/crypto/seal.ts")).href)) as {
		sealJson(value: unknown, keys: { CREDENTIALS_KEY: string }): Promise<string>;
	};
	const definition = { trigger: { component: "webhook", credentialId: "edge-alone-cred" }, steps: [] };
	await db.batch([
		db
			.prepare(
				"INSERT INTO credentials (id, component, name, type, details, sealed_secrets) VALUES (?1, 'webhook', 'No Auth', 'none', '{}', ?2)",
			)
			.bind("edge-alone-cred", await sealJson({}, { CREDENTIALS_KEY })),
		db.prepare("INSERT INTO flows (id, name, status, live_version) VALUES (?1, 'Edge alone', 'running', 1)").bind(FLOW_ID),
		db.prepare("INSERT INTO flow_versions (flow_id, version, definition) VALUES (?1, 1, ?2)").bind(FLOW_ID, JSON.stringify(definition)),
	]);
}, 120_000);

afterAll(async () => {
	await mf?.dispose();
	rmSync(outdir, { recursive: true, force: true });
});

describe("the edge Worker's bundle", () => {
	it("is built from the ingress only: no admin API, designer, delivery engine, ops, mapping, zod, JSONata or drizzle", () => {
		const { sources } = JSON.parse(readFileSync(join(outdir, "index.js.map"), "utf8")) as { sources: string[] };
		const files = sources.map((s) => s.replace(/^.*?(src\/|node_modules\/)/, "$1"));
		expect(files).toContain("src/hook/ingress.ts");
		const forbidden = files.filter(
			(f) =>
				/^src\/(api|ops|mapping)\//.test(f) ||
				(/^src\/delivery\//.test(f) && f !== "src/delivery/limits.ts") ||
				/^src\/(app|index)\.ts$/.test(f) ||
				/^src\/db\/(schema|client)\.ts$/.test(f) ||
				/node_modules\/(zod|jsonata|drizzle-orm|hono|@hono)\//.test(f),
		);
		expect(forbidden).toEqual([]);
	});

	it("holds no admin route, admin token or designer asset", () => {
		const code = readFileSync(join(outdir, "index.js"), "utf8");
		// A route is a string that starts with /api, /sample or /healthz; the admin API's auth reads ADMIN_TOKEN.
		expect(code.match(/["'`]\/(api|sample|healthz)\b[^"'`]*["'`]/g) ?? []).toEqual([]);
		expect(code).not.toContain("ADMIN_TOKEN");
		expect(code).not.toContain("openapi");
		expect(code).not.toContain("<html");
		expect(readdirSync(outdir).filter((f) => !/\.(js|map|md|json)$/.test(f))).toEqual([]);
	});
});

describe("the edge Worker deployed alone (no CONTROL binding)", () => {
	const get = (path: string, init?: RequestInit) => mf.dispatchFetch(`http://hooks.example${path}`, init);

	it("answers /api/* and /api with a JSON 404, never the admin API", async () => {
		for (const path of ["/api", "/api/flows", "/api/openapi.json", "/api/credentials"]) {
			const response = await get(path, { headers: { authorization: "Bearer anything" } });
			expect(response.status, path).toBe(404);
			expect(response.headers.get("content-type"), path).toContain("application/json");
			expect(((await response.json()) as { error: string }).error, path).toMatch(/only serves \/hook/);
		}
	});

	it("does not serve the designer, its assets, /sample or /healthz", async () => {
		for (const path of ["/", "/index.html", "/app.js", "/healthz", `/sample/${FLOW_ID}/token`]) {
			const response = await get(path);
			expect(response.status, path).toBe(404);
			expect(await response.text(), path).not.toContain("<html");
		}
	});

	it("still accepts a hook for a running flow and refuses an unknown one", async () => {
		const accepted = await get(`/hook/${FLOW_ID}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ petname: "Gromit" }),
		});
		expect(accepted.status).toBe(200);
		const body = (await accepted.json()) as { requestId: string; message: string };
		expect(body).toEqual({ requestId: expect.stringMatching(/^[0-9a-f]{32}$/), message: "thank you" });
		expect(accepted.headers.get("x-request-id")).toBe(body.requestId);

		const unknown = await get("/hook/noSuchFlow", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
		expect(unknown.status).toBe(404);
		expect(await unknown.json()).toEqual({ error: "Flow noSuchFlow either does not exist or is inactive" });
	});
});
