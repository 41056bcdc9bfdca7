declare namespace Cloudflare {
	interface Env {
		/** The D1 migrations, read by vitest.config.ts and applied by test/apply-migrations.ts. */
		TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
		/** The local alert receiver (test/alert-receiver.ts), started by test/global-setup.ts. */
		ALERT_RECEIVER_URL: string;
	}
}
