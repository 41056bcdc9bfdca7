/**
 * @module
 * The edge Worker (wrangler.edge.toml): the hostname senders know. `/hook/:flowId[/…]` is answered
 * here, from the isolate (config cache, WebCrypto, the queue); nothing else of Hookflow is in this
 * bundle: no admin API, designer, delivery engine, zod, JSONata or drizzle (scripts/check-deps.ts
 * enforces it, test/e2e/edge-surface.test.ts checks the bundle). Every other path goes to the control
 * Worker over the CONTROL service binding; without that binding (the edge deployed alone) it is a 404.
 */
import { invalidateIngressConfig } from "../hook/config-cache";
import { handleHookRequest, hookError } from "../hook/ingress";

/** `/hook/<flowId>` followed by `/…`, a query or nothing, case-sensitive as the control Worker's router; read from the URL string (its scheme is always lower case), no URL parse for routing. */
const HOOK_URL = /^[a-z]+:\/\/[^/]+\/hook\/([^/?#]+)(?:[/?#]|$)/;

function hookFlowId(url: string): string | null {
	const id = HOOK_URL.exec(url)?.[1];
	if (id === undefined) return null;
	try {
		return id.includes("%") ? decodeURIComponent(id) : id;
	} catch {
		return id;
	}
}

/** An admin call that may change what a hook accepts (start, stop, publish, a credential's secret, a key rotation). */
const changesIngressConfig = (request: Request) =>
	request.method !== "GET" && request.method !== "HEAD" && /^[a-z]+:\/\/[^/]+\/api\//.test(request.url);

export default {
	async fetch(request, env, ctx) {
		const flowId = hookFlowId(request.url);
		// Every answer of the hook carries x-content-type-options: nosniff itself (hook/ingress.ts).
		if (flowId !== null) return handleHookRequest({ request, env, ctx, flowId });
		const control: Fetcher | undefined = env.CONTROL;
		if (!control) {
			return hookError(
				404,
				"Not found: this hostname only serves /hook/<flowId>; the admin API and the designer are on the control Worker",
			);
		}
		const response = await control.fetch(request);
		// The admin API invalidates the config cache of the isolate that ran it, which is the control
		// Worker's; the edge isolate that passed the call on drops its own cache too, so a flow started or
		// stopped through this hostname takes effect here at once (other isolates follow within the TTL).
		if (changesIngressConfig(request) && response.ok) invalidateIngressConfig();
		return response;
	},
} satisfies ExportedHandler<EdgeEnv>;
