// Proves deployability without a Cloudflare account (run by `npm run check`):
// 1. `wrangler deploy --dry-run` bundles both Workers — the control Worker (wrangler.toml) and the
//    edge Worker (wrangler.edge.toml) — for the default and the staging environment, and each bundle's
//    size is printed (raw and gzip; the Workers limit applies to the gzip size);
// 2. what the two configs share agrees in each environment: the edge's service binding and Durable
//    Object binding name the control Worker, the database, the executions queue, the auth-failure
//    rate limit, the shared vars and the secrets are the same (issue 20: defined once, checked here);
// 3. migrations/ is what drizzle-kit generates from src/db/schema.ts: generating into a copy must
//    write nothing new.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { unstable_readConfig } from "wrangler";
import drizzleConfig from "../drizzle.config.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "hookflow-check-"));
const failures: string[] = [];

function run(script: string, args: string[]): { status: number; output: string } {
	const result = spawnSync(process.execPath, [join(root, "node_modules", script), ...args], {
		cwd: root,
		encoding: "utf8",
		// Offline, and no telemetry prompt or request from wrangler.
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
	});
	return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** Every file under `dir`, relative, with its contents. */
function snapshot(dir: string, prefix = ""): Map<string, string> {
	const files = new Map<string, string>();
	for (const name of readdirSync(join(dir, prefix))) {
		const path = join(prefix, name);
		if (statSync(join(dir, path)).isDirectory()) for (const [p, c] of snapshot(dir, path)) files.set(p, c);
		else files.set(path, readFileSync(join(dir, path), "utf8"));
	}
	return files;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const CONFIGS = { control: "wrangler.toml", edge: "wrangler.edge.toml" } as const;
type Worker = keyof typeof CONFIGS;

function checkBundle(worker: Worker, env: string | null): void {
	const outdir = join(tmp, `bundle-${worker}-${env ?? "default"}`);
	// `--env=` is the top level, said explicitly (wrangler warns when several environments exist and none is named).
	const { status, output } = run("wrangler/bin/wrangler.js", [
		"deploy",
		"-c",
		CONFIGS[worker],
		"--dry-run",
		"--outdir",
		outdir,
		`--env=${env ?? ""}`,
	]);
	const label = `${worker} Worker, ${env ? `--env ${env}` : "default environment"}`;
	if (status !== 0) {
		failures.push(`wrangler deploy --dry-run (${label}) failed:\n${output}`);
		return;
	}
	// What is uploaded: the modules, not the source map or the README wrangler writes next to them.
	const modules = [...snapshot(outdir).keys()].filter((p) => !/\.(map|md|json)$/.test(p));
	const raw = modules.reduce((sum, p) => sum + statSync(join(outdir, p)).size, 0);
	const gzip = modules.reduce((sum, p) => sum + gzipSync(readFileSync(join(outdir, p))).length, 0);
	console.log(`bundle (${label}): ${modules.join(", ")} — ${kib(raw)} raw, ${kib(gzip)} gzip`);
}

function checkMigrations(): void {
	const copy = join(tmp, "migrations");
	cpSync(join(root, drizzleConfig.out ?? "migrations"), copy, { recursive: true });
	const before = snapshot(copy);
	const config = join(tmp, "drizzle.config.json");
	writeFileSync(config, JSON.stringify({ ...drizzleConfig, schema: join(root, String(drizzleConfig.schema)), out: copy }));
	const { status, output } = run("drizzle-kit/bin.cjs", ["generate", "--config", config]);
	if (status !== 0) {
		failures.push(`drizzle-kit generate failed:\n${output}`);
		return;
	}
	const after = snapshot(copy);
	const changed = [...after.keys()].filter((p) => before.get(p) !== after.get(p));
	if (changed.length > 0) {
		failures.push(
			`migrations/ is behind src/db/schema.ts: drizzle-kit would write ${changed.join(", ")}. Run \`npm run db:generate\` and commit the result.`,
		);
	} else {
		console.log("migrations: no drift (drizzle-kit generate would write nothing)");
	}
}

/** The vars both Workers read; the edge's copy must equal the control's. */
const SHARED_VARS = ["MAX_BODY_BYTES", "CONFIG_CACHE_TTL_MS", "LOG_LEVEL", "BUILD_SHA"];

function checkSharedConfig(env: string | null): void {
	const read = (worker: Worker) => unstable_readConfig({ config: join(root, CONFIGS[worker]), env: env ?? undefined });
	const control = read("control");
	const edge = read("edge");
	const label = env ? `--env ${env}` : "default environment";
	const problems: string[] = [];
	const same = (what: string, edgeValue: unknown, controlValue: unknown) => {
		if (JSON.stringify(edgeValue) !== JSON.stringify(controlValue))
			problems.push(`${what}: ${JSON.stringify(edgeValue)} in wrangler.edge.toml, ${JSON.stringify(controlValue)} in wrangler.toml`);
	};
	// Read loosely: only equality matters here, and each binding kind has its own type in wrangler.
	const pick = (list: readonly object[] | undefined, key: string, value: string) =>
		list?.find((item) => (item as Record<string, unknown>)[key] === value) as Record<string, unknown> | undefined;
	same("the CONTROL service", pick(edge.services, "binding", "CONTROL")?.service, control.name);
	same("FLOW's script", pick(edge.durable_objects.bindings, "name", "FLOW")?.script_name, control.name);
	same(
		"FLOW's class",
		pick(edge.durable_objects.bindings, "name", "FLOW")?.class_name,
		pick(control.durable_objects.bindings, "name", "FLOW")?.class_name,
	);
	const database = (c: typeof edge) => pick(c.d1_databases, "binding", "DB");
	same(
		"the DB database",
		[database(edge)?.database_name, database(edge)?.database_id],
		[database(control)?.database_name, database(control)?.database_id],
	);
	same(
		"the EXECUTIONS queue",
		pick(edge.queues.producers, "binding", "EXECUTIONS")?.queue,
		pick(control.queues.producers, "binding", "EXECUTIONS")?.queue,
	);
	const limit = (c: typeof edge) => pick(c.ratelimits, "name", "AUTH_FAILURES");
	same("the AUTH_FAILURES rate limit", limit(edge), limit(control));
	for (const name of SHARED_VARS) same(`var ${name}`, edge.vars[name], control.vars[name]);
	const controlSecrets = control.secrets?.required ?? [];
	for (const secret of edge.secrets?.required ?? [])
		if (!controlSecrets.includes(secret)) problems.push(`secret ${secret} is required by the edge Worker but not by the control Worker`);
	if (problems.length > 0) failures.push(`the two Workers' configs disagree (${label}):\n  ${problems.join("\n  ")}`);
	else console.log(`config (${label}): the edge Worker's shared bindings, vars and secrets match the control Worker's`);
}

try {
	for (const worker of ["control", "edge"] as const) {
		checkBundle(worker, null);
		checkBundle(worker, "staging");
	}
	checkSharedConfig(null);
	checkSharedConfig("staging");
	checkMigrations();
} finally {
	rmSync(tmp, { recursive: true, force: true });
}
if (failures.length > 0) {
	for (const failure of failures) console.error(`check-deploy: ${failure}`);
	process.exit(1);
}
