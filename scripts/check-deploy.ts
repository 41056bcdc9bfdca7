// Proves deployability without a Cloudflare account (run by `npm run check`):
// 1. `wrangler deploy --dry-run` bundles the Worker for the default and the staging environment,
//    and the bundle size is printed (raw and gzip; the Workers limit applies to the gzip size);
// 2. migrations/ is what drizzle-kit generates from src/db/schema.ts: generating into a copy must
//    write nothing new.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
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

function checkBundle(env: string | null): void {
	const outdir = join(tmp, `bundle-${env ?? "default"}`);
	// `--env=` is the top level, said explicitly (wrangler warns when several environments exist and none is named).
	const { status, output } = run("wrangler/bin/wrangler.js", ["deploy", "--dry-run", "--outdir", outdir, `--env=${env ?? ""}`]);
	const label = env ? `--env ${env}` : "default environment";
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

try {
	checkBundle(null);
	checkBundle("staging");
	checkMigrations();
} finally {
	rmSync(tmp, { recursive: true, force: true });
}
if (failures.length > 0) {
	for (const failure of failures) console.error(`check-deploy: ${failure}`);
	process.exit(1);
}
