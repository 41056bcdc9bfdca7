// What the designer test runs against: `npm start` with fresh state, a headless Chromium, and a
// deliberately slow Petstore stand-in.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { removeSnapshot, type Stack, snapshotRepo, startOnAFreePort } from "../support/stack.ts";

export type App = Stack;

/** npm start on a free port with empty state, run from a snapshot so edits made meanwhile cannot reload the Worker under the test. */
export async function startApp(): Promise<App> {
	const root = snapshotRepo();
	const stateDir = mkdtempSync(join(tmpdir(), "hookflow-designer-"));
	const cleanUp = () => {
		removeSnapshot(root);
		rmSync(stateDir, { recursive: true, force: true });
	};
	try {
		const stack = await startOnAFreePort({ root, stateDir });
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

/** A Petstore stand-in whose key check takes `delayMs`, so the designer's progress can be seen. */
export async function startSlowPetstore(delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
	const server = createServer((request, response) => {
		setTimeout(() => {
			const ok = request.url === "/v2/user/me";
			response.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
			response.end(JSON.stringify(ok ? { username: "slow" } : { message: "Not found" }));
		}, delayMs);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	return {
		url: `http://127.0.0.1:${port}/v2`,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}
