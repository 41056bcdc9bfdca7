// The bundle exactly as `npm run build` makes it: `wrangler deploy --dry-run --outdir`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Builds a Worker of the project in `projectDir` (its wrangler.toml, or another config such as
 * wrangler.edge.toml; its node_modules) into `outdir`, top-level environment.
 */
export function buildBundle(projectDir: string, outdir: string, config = "wrangler.toml"): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			[join(projectDir, "node_modules/wrangler/bin/wrangler.js"), "deploy", "-c", config, "--dry-run", "--outdir", outdir, "--env="],
			{
				cwd: projectDir,
				env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
				stdio: ["ignore", "pipe", "pipe"],
			},
		);
		let output = "";
		child.stdout.on("data", (d: Buffer) => {
			output += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			output += d.toString();
		});
		const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
		child.once("exit", (code) => {
			clearTimeout(timer);
			if (code === 0) resolve();
			else reject(new Error(`wrangler deploy --dry-run in ${projectDir} exited ${code}:\n${output}`));
		});
	});
}

/** Size of the bundle's index.js, raw and gzipped (the "gzip" figure wrangler prints for the upload). */
export function bundleSize(bundleDir: string): { rawKiB: number; gzipKiB: number } {
	const bytes = readFileSync(join(bundleDir, "index.js"));
	return { rawKiB: bytes.length / 1024, gzipKiB: gzipSync(bytes).length / 1024 };
}
