import { app } from "./app";
import { handleQueue } from "./delivery/consumer";

export { FlowObject } from "./delivery/flow-object";

export default {
	fetch: app.fetch,
	async queue(batch, env) {
		await handleQueue(batch, env);
	},
} satisfies ExportedHandler<Env>;
