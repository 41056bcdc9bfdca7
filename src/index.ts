import { app } from "./app";
import { handleQueue } from "./delivery/consumer";
import { purgeExpired } from "./ops/retention";

export { FlowObject } from "./delivery/flow-object";

export default {
	fetch: app.fetch,
	async queue(batch, env) {
		await handleQueue(batch, env);
	},
	async scheduled(controller, env) {
		await purgeExpired(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
