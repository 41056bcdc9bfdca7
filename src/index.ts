/**
 * @module
 * The Worker: `fetch` (hook, sample, health, admin API, designer), `queue` (executions and
 * their dead letters), `scheduled` (retention), and the flow object class.
 */
import { app } from "./app";
import { ALERT_CRON } from "./ops/crons";

export { FlowObject } from "./delivery/flow-object";

export default {
	fetch: app.fetch,
	// The consumers and the crons are imported on first use: a hook's cold start does not pay for them.
	async queue(batch, env) {
		if (batch.queue.endsWith("-alerts")) {
			const { handleAlertQueue } = await import("./ops/alerts");
			return handleAlertQueue(batch, env);
		}
		if (batch.queue.endsWith("-jobs")) {
			const { handleJobQueue } = await import("./ops/replay-jobs");
			return handleJobQueue(batch, env);
		}
		const { handleQueue } = await import("./delivery/consumer");
		await handleQueue(batch, env);
	},
	async scheduled(controller, env) {
		if (controller.cron === ALERT_CRON) {
			const { runAlertChecks } = await import("./ops/alerts");
			await runAlertChecks(env, controller.scheduledTime);
			return;
		}
		const { purgeExpired } = await import("./ops/retention");
		await purgeExpired(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
