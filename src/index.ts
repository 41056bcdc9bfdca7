import { app } from "./app";

export { FlowObject } from "./delivery/flow-object";

export default {
	fetch: app.fetch,
	// The consumer and the cron are imported on first use: a hook's cold start does not pay for them.
	async queue(batch, env) {
		const { handleQueue } = await import("./delivery/consumer");
		await handleQueue(batch, env);
	},
	async scheduled(controller, env) {
		const { purgeExpired } = await import("./ops/retention");
		await purgeExpired(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
