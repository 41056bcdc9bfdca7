import { randomUUID } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Three projects: everything that can run inside workerd does (unit + integration); the end-to-end
// tests that start `npm start` and drive curl or Chromium run in Node, as do the scripts' tests.
// Every file runs in parallel with the others: each workers file gets its own workerd (its own D1,
// queue and Durable Objects, in memory) and its own tenant of the one local Petstore; each e2e file
// starts its own npm start on a free port with its own state.
// The pool reads wrangler.toml with wrangler, which would print per test file that the required
// secrets are missing from .dev.vars (the tests pass them as bindings below). npm start in the e2e
// tests logs as usual (test/e2e/support/stack.ts).
process.env.WRANGLER_LOG ??= "error";

export default defineConfig({
	test: {
		// The files mostly wait (on workerd, wrangler, Chromium, Petstore timeouts), so more files than
		// cores run at once. Projects of one run must agree on this number.
		maxWorkers: 4,
		projects: [
			{
				plugins: [
					// Called once per workerd the pool starts, i.e. once per test file.
					cloudflareTest(async ({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								ADMIN_TOKEN: "test-admin-token",
								// A fixed 32-byte AES key, base64, only for tests.
								CREDENTIALS_KEY: "dGVzdC1rZXktMzItYnl0ZXMtZm9yLWhvb2tmbG93ISE=",
								PETSTORE_BASE_URL: `${inject("petstoreOrigin")}/t/${randomUUID()}/v2`,
								// test/alert-receiver.ts, for the alert tests (each test uses paths of its own).
								ALERT_RECEIVER_URL: inject("alertReceiverUrl"),
								// Local mode, like npm start: that receiver listens on 127.0.0.1 (src/ops/alert-url.ts).
								ALLOW_PRIVATE_ALERT_TARGETS: "true",
								// A test that reads log lines turns them on with setLogLevel (src/log.ts).
								LOG_LEVEL: "silent",
								TEST_MIGRATIONS: await readD1Migrations("./migrations"),
							},
						},
					})),
				],
				test: {
					name: "workers",
					include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
					globalSetup: ["./test/global-setup.ts", "./test/provider-vectors.ts"],
					testTimeout: 30_000,
					setupFiles: ["./test/apply-migrations.ts"],
				},
			},
			{
				test: {
					name: "e2e",
					environment: "node",
					include: ["test/e2e/**/*.test.ts"],
					testTimeout: 180_000,
					hookTimeout: 180_000,
				},
			},
			{
				test: {
					name: "scripts",
					environment: "node",
					include: ["test/scripts/**/*.test.ts"],
				},
			},
		],
	},
});
