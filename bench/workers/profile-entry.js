// Startup profiling: evaluates the bundle on the first request, so a profiler attached before
// that request sees its whole top-level evaluation (the same trick as `wrangler check startup`).
export default {
	async fetch() {
		await import("./index.js");
		return new Response("evaluated");
	},
};
