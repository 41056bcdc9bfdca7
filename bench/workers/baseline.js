// The baseline of the ingress ratio: the least a queue-backed webhook endpoint can do.
// It parses the JSON body and hands it to the queue, nothing else (no auth, no routing, no log).
export default {
	async fetch(request, env) {
		const body = await request.json();
		await env.Q.send(body);
		return new Response(null, { status: 202 });
	},
};
