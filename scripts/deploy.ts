// `npm run deploy [-- --env staging] [-- <more wrangler deploy args>]`: the remote D1 migrations
// first, so the new code never runs against an old schema, then `wrangler deploy` of both Workers
// with the git sha as BUILD_SHA (shown by /healthz): the control Worker (wrangler.toml) first, as the
// edge Worker binds to its Durable Object class and to it as a service, then the edge Worker
// (wrangler.edge.toml), which takes the public traffic.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// Run wrangler's own entry with this Node (24), whatever `node` is first on PATH.
const wranglerJs = `${root}node_modules/wrangler/bin/wrangler.js`;
const args = process.argv.slice(2);

/** The environment flag among the arguments, as the migrations need it too; null when there is none. */
function givenEnv(list: readonly string[]): string[] | null {
	const at = list.findIndex((a) => a === "--env" || a === "-e");
	if (at >= 0) return list.slice(at, at + 2);
	const inline = list.find((a) => a.startsWith("--env=") || a.startsWith("-e="));
	return inline ? [inline] : null;
}

function buildSha(): string {
	try {
		const git = (...a: string[]) => execFileSync("git", a, { cwd: root, encoding: "utf8" }).trim();
		// A deploy from uncommitted changes must not claim to be that commit.
		return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain") ? "-dirty" : ""}`;
	} catch {
		console.warn("hookflow: no git checkout here; deploying with BUILD_SHA=unknown");
		return "unknown";
	}
}

function wrangler(list: string[]): void {
	console.log(`hookflow: wrangler ${list.join(" ")}`);
	const { status } = spawnSync(process.execPath, [wranglerJs, ...list], { cwd: root, stdio: "inherit" });
	if (status !== 0) process.exit(status ?? 1);
}

const given = givenEnv(args);
// No --env means the top level (production). An empty --env says so explicitly, instead of wrangler
// warning that several environments exist; CLOUDFLARE_ENV, when set, is left to choose.
const target = given ?? (process.env.CLOUDFLARE_ENV ? [] : ["--env="]);
wrangler(["d1", "migrations", "apply", "DB", "--remote", ...target]);
const sha = buildSha();
for (const config of ["wrangler.toml", "wrangler.edge.toml"])
	wrangler(["deploy", "-c", config, "--var", `BUILD_SHA:${sha}`, ...(given ? [] : target), ...args]);
