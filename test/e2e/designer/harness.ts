// What the designer test runs against: `npm start` with fresh state, a headless Chromium, and a
// Petstore stand-in that answers only when the test lets it.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { removeSnapshot, type Stack, snapshotRepo, startOnAFreePort } from "../support/stack.ts";

export type App = Stack;

/**
 * npm start on a free port with empty state, run from a snapshot so edits made meanwhile cannot
 * reload the Worker under the test. `env` reaches npm start (HOOKFLOW_PETSTORE_URL: a Petstore the test runs).
 */
export async function startApp(env: Record<string, string> = {}): Promise<App> {
	const root = snapshotRepo();
	const stateDir = mkdtempSync(join(tmpdir(), "hookflow-designer-"));
	const cleanUp = () => {
		removeSnapshot(root);
		rmSync(stateDir, { recursive: true, force: true });
	};
	try {
		const stack = await startOnAFreePort({ root, stateDir, env });
		return {
			...stack,
			stop: async () => {
				await stack.stop();
				cleanUp();
			},
		};
	} catch (error) {
		cleanUp();
		throw error;
	}
}

export function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		// The system Chromium: the test never downloads a browser.
		executablePath: "/usr/bin/chromium",
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
}

/**
 * A Petstore stand-in that holds every key check until the test calls `release()` (later checks
 * are answered at once), so the designer's progress is seen however loaded the machine is.
 * `held()` counts the checks waiting.
 */
export async function startHeldPetstore(): Promise<{ url: string; held: () => number; release: () => void; close: () => Promise<void> }> {
	const waiting: (() => void)[] = [];
	let released = false;
	const server = createServer((request, response) => {
		const answer = () => {
			const ok = request.url === "/v2/user/me";
			response.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
			response.end(JSON.stringify(ok ? { username: "held" } : { message: "Not found" }));
		};
		if (released) answer();
		else waiting.push(answer);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	return {
		url: `http://127.0.0.1:${port}/v2`,
		held: () => waiting.length,
		release: () => {
			released = true;
			for (const answer of waiting.splice(0)) answer();
		},
		close: () =>
			new Promise((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
