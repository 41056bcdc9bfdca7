// An in-isolate queue that accepts and forgets. bench/lib/hookflow.ts makes this module the entry of
// a worker whose real entry it imports as "./__target.js" (the built bundle, or the baseline), and
// hands the target an env where each binding listed in NOOP_QUEUE_BINDINGS is this no-op queue
// instead of the local queue simulator. The bundle itself is unchanged. Plain workerd has no queue
// simulator at all, so this is "plain workerd serving the built bundle": the send costs nothing and
// what is measured is the Worker's own code.
import target from "./__target.js";

export * from "./__target.js";

const noop = {
	async send() {},
	async sendBatch() {},
};
const envs = new WeakMap();

function withNoopQueues(env) {
	let swapped = envs.get(env);
	if (!swapped) {
		swapped = { ...env };
		for (const name of String(env.NOOP_QUEUE_BINDINGS ?? "").split(",")) if (name) swapped[name] = noop;
		envs.set(env, swapped);
	}
	return swapped;
}

export default {
	fetch(request, env, ctx) {
		return target.fetch(request, withNoopQueues(env), ctx);
	},
};
