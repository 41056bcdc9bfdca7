// Starts `npm start` like the designer harness does, but on a given port and state dir with
// extra env, and without deleting the state on stop: a test can stop the whole local stack and
// start it again on the same state (D1, Durable Objects) and the same hook URLs.
//
// `wrangler dev` reloads the Worker whenever a file of its project changes, which cuts in-flight
// calls short. A test that must control every interruption runs npm start from a snapshot of
// the working tree (snapshotRepo) instead, so edits made while it runs cannot reach it.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
// Not copied as is: node_modules (see snapshotRepo), VCS data, local state and output, local secrets.
const NOT_SNAPSHOTTED = new Set(["node_modules", ".git", ".wrangler", ".dev.vars", "test-results", "dist"]);

export interface Stack {
	origin: string;
	token: string;
	/** Everything this npm start printed, for failure messages. */
	output: () => string;
	/** SIGTERM to npm start's process group (SIGKILL after 20 s); resolves once it has exited. */
	stop: () => Promise<void>;
}

export interface StackOptions {
	/** The project npm start runs in: the repository itself unless a snapshot is given. */
	root?: string;
	port: number;
	stateDir: string;
	env?: Record<string, string>;
	readyTimeoutMs?: number;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

/**
 * Copies the working tree (as it is now, uncommitted files included) to a temp dir. In its
 * node_modules the Worker's own dependencies are copied and everything else is linked: the
 * bundler watches what it resolves, so even a package installed meanwhile would reload it.
 */
export function snapshotRepo(): string {
	const dir = mkdtempSync(join(tmpdir(), "hookflow-snapshot-"));
	cpSync(repoRoot, dir, {
		recursive: true,
		filter: (source) => !(dirname(source) === resolve(repoRoot) && NOT_SNAPSHOTTED.has(basename(source))),
	});
	const { dependencies = {} } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
		dependencies?: Record<string, string>;
	};
	const modules = join(repoRoot, "node_modules");
	const entries = readdirSync(modules).flatMap((name) =>
		name.startsWith("@") ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
	);
	for (const name of entries) {
		const target = join(dir, "node_modules", name);
		mkdirSync(dirname(target), { recursive: true });
		if (Object.hasOwn(dependencies, name)) cpSync(join(modules, name), target, { recursive: true });
		else symlinkSync(join(modules, name), target);
	}
	return dir;
}

export function removeSnapshot(dir: string): void {
	// rmSync removes links themselves, never what they point to.
	rmSync(dir, { recursive: true, force: true });
}

export async function startStack({ root = repoRoot, port, stateDir, env = {}, readyTimeoutMs = 150_000 }: StackOptions): Promise<Stack> {
	// Detached: the app gets its own process group, which stop() ends as a whole.
	const child: ChildProcess = spawn(join(root, "node_modules/.bin/node"), ["scripts/start.ts"], {
		cwd: root,
		env: {
			...process.env,
			// vitest.config.ts quiets the wrangler it runs; this one logs like a user's.
			WRANGLER_LOG: "log",
			PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}`,
			...env,
			PORT: String(port),
			HOOKFLOW_STATE_DIR: stateDir,
		},
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	let log = "";
	const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
	const ready = new Promise<{ origin: string; token: string }>((resolve, reject) => {
		const onData = (chunk: Buffer) => {
			log += chunk.toString();
			const match = /(http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)/.exec(log);
			if (match?.[1] && match[2]) resolve({ origin: match[1], token: match[2] });
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		exited.then(() => reject(new Error(`npm start exited before it was ready:\n${log}`)));
		setTimeout(() => reject(new Error(`npm start was not ready within ${readyTimeoutMs / 1000} s:\n${log}`)), readyTimeoutMs).unref();
	});

	const signalGroup = (signal: NodeJS.Signals) => {
		try {
			if (child.pid) process.kill(-child.pid, signal);
		} catch {
			// The group is already gone.
		}
	};
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			// SIGTERM lets start.ts stop wrangler's own process group; SIGKILL only if it hangs.
			signalGroup("SIGTERM");
			const timer = setTimeout(() => signalGroup("SIGKILL"), 20_000);
			await exited;
			clearTimeout(timer);
		}
	};

	try {
		return { ...(await ready), output: () => log, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

/**
 * startStack on a port that is free now. A free port is only free until someone binds it: with other
 * test files (and other stacks on the machine) starting at the same time, wrangler can lose the race
 * for it. Then it tries again on another port; any other failure is the test's.
 */
export async function startOnAFreePort(options: Omit<StackOptions, "port">): Promise<Stack> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await startStack({ ...options, port: await freePort() });
		} catch (error) {
			if (attempt === 3 || !String(error).includes("Address already in use")) throw error;
		}
	}
}
