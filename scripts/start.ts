// `npm start`: everything Hookflow needs locally, offline: .dev.vars, the local Petstore,
// D1 migrations and `wrangler dev`, plus a seeded "Local Petstore" credential.
// Ctrl-C stops all of it. With HOOKFLOW_PETSTORE_URL set, that Petstore is used instead of
// starting one (a test keeps one Petstore alive across restarts of the stack).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { type Petstore, startPetstore } from "../dev/petstore/server.ts";
import { ALERT_CRON } from "../src/ops/crons.ts";
import { DEV_VARS_PATH, readDevVars } from "./lib/dev-vars.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
// Run wrangler's own entry with this Node (24), whatever `node` is first on PATH.
const wranglerJs = `${root}node_modules/wrangler/bin/wrangler.js`;
const port = portFromEnv("PORT", 8787);
const origin = `http://127.0.0.1:${port}`;
const stateDir = process.env.HOOKFLOW_STATE_DIR;
const externalPetstoreUrl = urlFromEnv("HOOKFLOW_PETSTORE_URL");
const persistArgs = stateDir ? ["--persist-to", stateDir] : [];
const wranglerEnv = {
	...process.env,
	// Offline: use miniflare's placeholder `request.cf` instead of fetching it from
	// workers.cloudflare.com on every start (there is no wrangler.toml setting for this).
	CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
	// Console output is unchanged without it; it only adds a trace store to local state.
	X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
};

const children = new Set<ChildProcess>();
let stopping: Promise<never> | undefined;

const adminToken = ensureDevVars();
await assertPortFree(port);
// Someone else's Petstore is theirs to stop: close() leaves it running.
const petstore: Pick<Petstore, "url" | "close"> = externalPetstoreUrl
	? { url: externalPetstoreUrl, close: async () => {} }
	: await startPetstore({ port: portFromEnv("PETSTORE_PORT", 0) });
// `on`, not `once`: npm forwards the terminal's Ctrl-C, so a second signal is normal and must
// neither kill this process early (orphaning wrangler) nor cut the graceful stop short.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => stop(0));
}

const migrated = await waitForExit(run(["d1", "migrations", "apply", "DB", "--local", ...persistArgs]));
// A Ctrl-C during the migrations: wait for that shutdown instead of starting wrangler.
if (stopping) await stopping;
if (migrated !== 0) {
	console.error("hookflow: applying the D1 migrations failed.");
	await stop(migrated);
}

const wrangler = run([
	"dev",
	"--port",
	String(port),
	"--ip",
	"127.0.0.1",
	"--var",
	`PETSTORE_BASE_URL:${petstore.url}`,
	// Local mode: alert targets on 127.0.0.1 (a local receiver) are allowed here, never when deployed.
	"--var",
	"ALLOW_PRIVATE_ALERT_TARGETS:true",
	"--show-interactive-dev-session=false",
	...persistArgs,
]);
const wranglerExit = waitForExit(wrangler);
wranglerExit.then((code) => {
	if (!stopping) {
		console.error(`hookflow: wrangler exited (${code}); stopping.`);
		stop(code);
	}
});

if (await waitForHealthy(wranglerExit)) {
	await ensurePetstoreCredential();
	if (!stopping) printBanner();
	// wrangler dev runs no Cron Triggers by itself: the minute one (alert checks) is called here, as deployed.
	setInterval(() => {
		if (!stopping) fetch(`${origin}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(ALERT_CRON)}`).catch(() => {});
	}, 60_000).unref();
} else if (!stopping) {
	console.error(`hookflow: ${origin}/healthz did not answer 200 in time.`);
	await stop(1);
}

// 0 (any free port) is only allowed where it is the default: the URLs we print need the real one.
function portFromEnv(name: string, fallback: number): number {
	const value = process.env[name] || String(fallback);
	const port = Number(value);
	if (!Number.isInteger(port) || port < (fallback === 0 ? 0 : 1) || port > 65_535) {
		console.error(`hookflow: ${name}=${value} is not a port number.`);
		process.exit(1);
	}
	return port;
}

// Unset or empty: undefined. Trailing slashes are dropped, like the Worker does with base URLs.
function urlFromEnv(name: string): string | undefined {
	const value = process.env[name];
	if (!value) return undefined;
	if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
		console.error(`hookflow: ${name}=${value} is not an http(s) URL.`);
		process.exit(1);
	}
	return value.replace(/\/+$/, "");
}

// Creates .dev.vars once with fresh secrets; an existing file is only ever read.
function ensureDevVars(): string {
	const fresh = [
		"# Local secrets for `npm start` / `wrangler dev`. Generated once, never committed.",
		`ADMIN_TOKEN=${randomBytes(32).toString("base64url")}`,
		`CREDENTIALS_KEY=${randomBytes(32).toString("base64")}`,
		"",
	].join("\n");
	try {
		// "wx" fails when the file exists, so a concurrent or earlier one is never replaced.
		writeFileSync(DEV_VARS_PATH, fresh, { flag: "wx", mode: 0o600 });
		console.log("hookflow: created .dev.vars with a fresh ADMIN_TOKEN and CREDENTIALS_KEY");
	} catch (error) {
		if ((error as { code?: string }).code !== "EEXIST") throw error;
	}
	const vars = readDevVars();
	for (const name of ["ADMIN_TOKEN", "CREDENTIALS_KEY"]) {
		if (!vars.get(name)) {
			console.error(`hookflow: .dev.vars has no ${name}. Add one, or delete the file to get fresh values.`);
			process.exit(1);
		}
	}
	return vars.get("ADMIN_TOKEN") as string;
}

// Wrangler would fail on a taken port, and we must not mistake another server's /healthz for ours.
function assertPortFree(port: number): Promise<void> {
	return new Promise((resolve) => {
		const probe = createServer();
		probe.once("error", () => {
			console.error(`hookflow: port ${port} on 127.0.0.1 is in use. Set PORT to use another one.`);
			process.exit(1);
		});
		probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
	});
}

// Detached: wrangler and workerd get their own process group, which stop() kills as a whole.
function run(args: string[]): ChildProcess {
	const child = spawn(process.execPath, [wranglerJs, ...args], {
		cwd: root,
		env: wranglerEnv,
		stdio: ["ignore", "inherit", "inherit"],
		detached: true,
	});
	children.add(child);
	child.once("exit", () => {
		children.delete(child);
		// workerd can outlive wrangler by a moment; nothing of the group may remain.
		signalGroup(child, "SIGKILL");
	});
	return child;
}

function waitForExit(child: ChildProcess): Promise<number> {
	return new Promise((resolve) => {
		child.once("exit", (code) => resolve(code ?? 1));
		child.once("error", (error) => {
			console.error("hookflow: could not start wrangler:", error.message);
			resolve(1);
		});
	});
}

async function waitForHealthy(exited: Promise<number>): Promise<boolean> {
	let gone = false;
	exited.then(() => {
		gone = true;
	});
	const deadline = Date.now() + 120_000;
	while (!gone && !stopping && Date.now() < deadline) {
		try {
			const response = await fetch(`${origin}/healthz`, {
				signal: AbortSignal.timeout(2_000),
			});
			if (response.status === 200) return true;
		} catch {
			// Not listening yet.
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	return false;
}

async function ensurePetstoreCredential(): Promise<void> {
	const name = "Local Petstore";
	const headers = {
		authorization: `Bearer ${adminToken}`,
		"content-type": "application/json",
	};
	try {
		const listed = await fetch(`${origin}/api/credentials?component=petstore`, {
			headers,
			signal: AbortSignal.timeout(10_000),
		});
		if (!listed.ok) {
			throw new Error(`listing credentials answered ${listed.status}`);
		}
		const { credentials } = (await listed.json()) as {
			credentials: { name: string }[];
		};
		if (credentials.some((credential) => credential.name === name)) return;
		// No baseUrl: it follows PETSTORE_BASE_URL, the local Petstore, whichever port it gets.
		const created = await fetch(`${origin}/api/credentials`, {
			method: "POST",
			headers,
			body: JSON.stringify({ component: "petstore", name, apiKey: "secret" }),
			signal: AbortSignal.timeout(35_000),
		});
		if (!created.ok) {
			throw new Error(`creating it answered ${created.status}: ${await created.text()}`);
		}
		console.log(`hookflow: created the "${name}" credential`);
	} catch (error) {
		console.error(`hookflow: could not set up the "${name}" credential:`, (error as Error).message);
	}
}

function printBanner(): void {
	console.log(
		[
			"",
			"  Hookflow is running.",
			"",
			`  Designer     ${origin}/#token=${adminToken}`,
			`  Admin token  ${adminToken}   (in .dev.vars; send as "Authorization: Bearer <token>" to ${origin}/api)`,
			externalPetstoreUrl
				? `  Petstore     ${petstore.url}   (from HOOKFLOW_PETSTORE_URL; not started or stopped here)`
				: `  Petstore     ${petstore.url}   (api key "secret"; in memory, empty after each restart)`,
			`  Hook URLs    ${origin}/hook/<flowId>   (a running flow shows its own, with a ready curl line)`,
			"",
			"  Press Ctrl-C to stop.",
			"",
		].join("\n"),
	);
}

// Idempotent: the first caller's exit code wins; later callers wait for the same shutdown.
function stop(code: number): Promise<never> {
	stopping ??= (async () => {
		await Promise.all([...children].map(stopGroup));
		await petstore.close();
		process.exit(code);
	})();
	return stopping;
}

// Ctrl-C as a terminal would send it to the whole group; SIGKILL whatever is left after 10 s.
async function stopGroup(child: ChildProcess): Promise<void> {
	const exited = new Promise((resolve) => child.once("exit", resolve));
	signalGroup(child, "SIGINT");
	const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 10_000);
	await exited;
	clearTimeout(timer);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		// The group is already gone.
	}
}
