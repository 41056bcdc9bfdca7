import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: everything that can run inside workerd does (unit + integration), and the
// end-to-end tests that start `npm start` and drive curl or Chromium run in Node.
export default defineConfig({
	test: {
		projects: [
			{
				plugins: [
					cloudflareTest(async ({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								ADMIN_TOKEN: "test-admin-token",
								// A fixed 32-byte AES key, base64, only for tests.
								CREDENTIALS_KEY: "dGVzdC1rZXktMzItYnl0ZXMtZm9yLWhvb2tmbG93ISE=",
								PETSTORE_BASE_URL: inject<string>("petstoreUrl"),
								// test/alert-receiver.ts, for the alert tests.
								ALERT_RECEIVER_URL: inject<string>("alertReceiverUrl"),
								TEST_MIGRATIONS: await readD1Migrations("./migrations"),
							},
						},
					})),
				],
				test: {
					name: "workers",
					include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
					globalSetup: ["./test/global-setup.ts", "./test/provider-vectors.ts"],
					// One local Petstore (request log, injected faults) is shared: files run one at a time.
					fileParallelism: false,
					testTimeout: 30_000,
					setupFiles: ["./test/apply-migrations.ts"],
				},
			},
			{
				test: {
					name: "e2e",
					environment: "node",
					include: ["test/e2e/**/*.test.ts"],
					fileParallelism: false,
					testTimeout: 180_000,
					hookTimeout: 180_000,
				},
			},
		],
	},
});
