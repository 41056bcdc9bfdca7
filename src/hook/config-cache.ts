/**
 * @module
 * The ingress answers from the isolate: each flow's config (status, live version, verifier with
 * imported keys) is cached for CONFIG_CACHE_TTL_MS, or until a rotated-out secret it holds expires,
 * so a warm hook request makes no D1 query.
 * The admin API invalidates its own isolate's entry at once; other isolates follow within the TTL.
 */
import { eq, sql } from "drizzle-orm";
import {
	acceptedMethods,
	type HookMethod,
	signsOnlyBody,
	type WebhookAuthType,
	type WebhookSecret,
	webhookTypeSpec,
} from "../components/webhook-types";
import { getDb } from "../db/client";
import { unsealSecrets } from "../db/queries/credentials";
import { acceptingStatuses, credentials, flows, flowVersions } from "../db/schema";
import type { FlowDefinition } from "../flows/definition";
import { createWebhookVerifier } from "./auth/create-verifier";
import type { Verifier } from "./auth/types";

export interface IngressConfig {
	/** Running or paused: a paused flow keeps accepting hooks and only holds its deliveries. */
	accepting: boolean;
	version: number | null;
	authType: WebhookAuthType | null;
	verifier: Verifier | null;
	rateLimit: FlowDefinition["rateLimit"] | null;
	/** The flow keeps client IP headers in `_headers` (off by default). */
	keepClientIpHeaders: boolean;
	/** The methods that become executions (webhook-types.ts acceptedMethods), and why, for the 405. */
	methods: readonly HookMethod[];
	methodsHint: string;
	/** The signature covers only the body: dedupe binds a sender's id to the body alone (request-id.ts). */
	signsOnlyBody: boolean;
	/** When the previous secret's rotation window closes: the cached verifier, which still holds it, must not outlive it. */
	previousSecretExpiresAt: number | null;
}

const NOT_ACCEPTING: IngressConfig = {
	accepting: false,
	version: null,
	authType: null,
	verifier: null,
	rateLimit: null,
	keepClientIpHeaders: false,
	methods: [],
	methodsHint: "",
	signsOnlyBody: false,
	previousSecretExpiresAt: null,
};
const MAX_ENTRIES = 10_000;

const cache = new Map<string, { config: Promise<IngressConfig>; expiresAt: number }>();

export function invalidateIngressConfig(flowId?: string): void {
	if (flowId === undefined) cache.clear();
	else cache.delete(flowId);
}

export function getIngressConfig(env: Env, flowId: string, nowMs: number): Promise<IngressConfig> {
	const hit = cache.get(flowId);
	if (hit && hit.expiresAt > nowMs) return hit.config;
	const config = loadIngressConfig(env, flowId, nowMs);
	const oldest = cache.keys().next();
	if (cache.size >= MAX_ENTRIES && !oldest.done) cache.delete(oldest.value);
	const entry = { config, expiresAt: nowMs + (Number(env.CONFIG_CACHE_TTL_MS) || 5000) };
	cache.set(flowId, entry);
	config.then(
		// A rotation window closes on time, not up to a TTL later: the entry expires with the previous secret.
		(loaded) => {
			if (loaded.previousSecretExpiresAt !== null) entry.expiresAt = Math.min(entry.expiresAt, loaded.previousSecretExpiresAt);
		},
		// A failed load (D1 unreachable) must not be cached.
		() => {
			if (cache.get(flowId) === entry) cache.delete(flowId);
		},
	);
	return config;
}

async function loadIngressConfig(env: Env, flowId: string, nowMs: number): Promise<IngressConfig> {
	const db = getDb(env.DB);
	const [row] = await db
		.select({
			status: flows.status,
			version: flows.liveVersion,
			definition: flowVersions.definition,
			credential: credentials,
		})
		.from(flows)
		.leftJoin(flowVersions, sql`${flowVersions.flowId} = ${flows.id} and ${flowVersions.version} = ${flows.liveVersion}`)
		.leftJoin(credentials, sql`${credentials.id} = json_extract(${flowVersions.definition}, '$.trigger.credentialId')`)
		.where(eq(flows.id, flowId))
		.limit(1);
	if (
		!row ||
		!acceptingStatuses.includes(row.status) ||
		row.version === null ||
		!row.definition ||
		!row.credential ||
		row.credential.component !== "webhook"
	)
		return NOT_ACCEPTING;
	const type = row.credential.type as WebhookAuthType;
	const secrets = await unsealSecrets<WebhookSecret>(row.credential, env, nowMs);
	const { definition } = row;
	return {
		accepting: true,
		version: row.version,
		authType: type,
		verifier: await createWebhookVerifier(type, row.credential.details, secrets, env),
		rateLimit: definition.rateLimit ?? null,
		keepClientIpHeaders: definition.trigger.keepClientIpHeaders === true,
		methods: acceptedMethods(type, row.credential.details),
		methodsHint: webhookTypeSpec(type).methodsHint,
		signsOnlyBody: signsOnlyBody(type, row.credential.details),
		previousSecretExpiresAt: secrets.length > 1 ? row.credential.previousExpiresAt : null,
	};
}
