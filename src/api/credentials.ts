import { and, eq, inArray, or, sql } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import {
	HTTP_BASE_URL_CHANGE_REQUIRES_AUTH,
	type HttpAuthInput,
	httpAuthSchema,
	httpCredentialSchema,
	splitHttpAuth,
} from "../components/http/credential";
import { BASE_URL_CHANGE_REQUIRES_KEY, petstoreCredentialSchema } from "../components/petstore";
import { verifyPetstoreKey } from "../components/petstore/verify-key";
import { splitWebhookAuth, webhookAuthSchema } from "../components/webhook";
import { webhookTryIt } from "../components/webhook-try-it";
import type { WebhookAuthType } from "../components/webhook-types";
import { randomBase64Url } from "../crypto/encoding";
import { sealJson } from "../crypto/seal";
import { getDb } from "../db/client";
import { unsealSecrets } from "../db/queries/credentials";
import { acceptingStatuses, type CredentialRow, credentialComponents, credentials, flows, flowVersions } from "../db/schema";
import { nameSchema } from "../flows/names";
import { invalidateIngressConfig } from "../hook/config-cache";
import { ApiError, firstOrNotFound, parsedOr400, valid } from "./errors";
import type { CredentialView } from "./responses";

/** The API's view of a credential: everything but the secrets. */
function toCredentialView(row: CredentialRow): CredentialView {
	return {
		id: row.id,
		component: row.component,
		name: row.name,
		type: row.type,
		details: row.details,
		previousSecretExpiresAt: row.previousExpiresAt ? new Date(row.previousExpiresAt).toISOString() : null,
		createdAt: new Date(row.createdAt).toISOString(),
		updatedAt: new Date(row.updatedAt).toISOString(),
	};
}

export const credentialsQuery = z.object({ component: z.enum(credentialComponents).optional() });

const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 60 * 60;

/** Trigger credentials (the webhook's), then action credentials (Petstore, HTTP). */
export const createSchema = z.discriminatedUnion("component", [
	z.object({ component: z.literal("webhook"), name: nameSchema, auth: webhookAuthSchema }).strict(),
	z.discriminatedUnion("component", [
		petstoreCredentialSchema.extend({ component: z.literal("petstore"), name: nameSchema }).strict(),
		httpCredentialSchema.extend({ component: z.literal("http"), name: nameSchema }).strict(),
	]),
]);

export const updateSchema = z
	.object({
		name: nameSchema.optional(),
		/** A webhook or HTTP credential's new auth (checked against its component's types). */
		auth: z.record(z.string(), z.unknown()).optional(),
		apiKey: petstoreCredentialSchema.shape.apiKey.optional(),
		baseUrl: petstoreCredentialSchema.shape.baseUrl,
		/** How long the replaced secret keeps working, so senders can switch without downtime. */
		previousValidForSeconds: z
			.number()
			.int()
			.min(0)
			.max(30 * 86_400)
			.optional(),
	})
	// A new baseUrl needs the secret in the same request: apiKey (Petstore) or auth (HTTP), checked per component below.
	.strict();

/** The API's view; a webhook credential adds how to send it a test request (components/webhook-try-it.ts). */
function view(row: CredentialRow): CredentialView {
	const base = toCredentialView(row);
	return row.component === "webhook" ? { ...base, tryIt: webhookTryIt(row.type as WebhookAuthType, row.details) } : base;
}

async function checkPetstoreKey(env: Env, baseUrl: string | undefined, apiKey: string): Promise<void> {
	const verdict = await verifyPetstoreKey(baseUrl ?? env.PETSTORE_BASE_URL, apiKey);
	if (!verdict.ok) throw new ApiError(422, verdict.reason);
}

/** An OAuth2 client is checked by fetching a token, as a Petstore key is checked: 422 with the reason when refused. */
async function checkHttpAuth(auth: HttpAuthInput): Promise<void> {
	if (auth.type !== "oauth2ClientCredentials") return;
	const { OAuth2TokenClient, memoryTokenCache } = await import("../components/http/oauth2");
	const { details, secret } = splitHttpAuth("", auth);
	const token = await new OAuth2TokenClient(memoryTokenCache()).token("check", details, secret);
	if (!token.ok) throw new ApiError(422, token.error);
}

function findCredential(env: Env, id: string): Promise<CredentialRow> {
	return firstOrNotFound(getDb(env.DB).select().from(credentials).where(eq(credentials.id, id)).limit(1), "Credential", id);
}

/** A version's steps, nested ones included, name the credential (json_tree walks the whole definition). */
const usesCredential = (credentialId: string) =>
	sql`EXISTS (SELECT 1 FROM json_tree(${flowVersions.definition}, '$.steps') AS t WHERE t.key = 'credentialId' AND t.atom = ${credentialId})`;

/** Ids of flows with a version whose step uses the credential (drafts never reach a flow object). */
async function flowsWithStepUsing(env: Env, credentialId: string): Promise<string[]> {
	const rows = await getDb(env.DB).selectDistinct({ id: flowVersions.flowId }).from(flowVersions).where(usesCredential(credentialId));
	return rows.map((r) => r.id);
}

/**
 * A Petstore credential changed: every flow object that may hold it in its cache forgets it now,
 * so a rotated key (after a leak) or a new base URL is used from the next call, not after a TTL.
 */
async function invalidateFlowCredential(env: Env, credentialId: string): Promise<void> {
	const flowIds = await flowsWithStepUsing(env, credentialId);
	const results = await Promise.allSettled(flowIds.map((id) => env.FLOW.getByName(id).invalidateCredential(credentialId)));
	const failed = results.filter((r) => r.status === "rejected").length;
	if (failed > 0) throw new ApiError(503, `The credential was saved, but ${failed} flow(s) could not be told yet; send the change again`);
}

/** Ids of running or paused flows (both accept hooks and deliver) whose live version uses the credential. */
async function runningFlowsUsing(env: Env, credentialId: string): Promise<string[]> {
	const rows = await getDb(env.DB)
		.select({ id: flows.id })
		.from(flows)
		.innerJoin(flowVersions, and(eq(flowVersions.flowId, flows.id), eq(flowVersions.version, flows.liveVersion)))
		.where(
			and(
				inArray(flows.status, [...acceptingStatuses]),
				or(sql`json_extract(${flowVersions.definition}, '$.trigger.credentialId') = ${credentialId}`, usesCredential(credentialId)),
			),
		);
	return rows.map((r) => r.id);
}

export const credentialsRoutes = new Hono<{ Bindings: Env }>()
	.get("/", valid("query", credentialsQuery), async (c) => {
		const { component } = c.req.valid("query");
		const rows = await getDb(c.env.DB)
			.select()
			.from(credentials)
			.where(component ? eq(credentials.component, component) : undefined)
			.orderBy(credentials.createdAt);
		return c.json({ credentials: rows.map(view) });
	})
	.post("/", valid("json", createSchema), async (c) => {
		const body = c.req.valid("json");
		const id = randomBase64Url(12);
		let row: typeof credentials.$inferInsert;
		if (body.component === "webhook") {
			const { details, secret } = await splitWebhookAuth(body.auth, c.env);
			row = { id, component: "webhook", name: body.name, type: body.auth.type, details, sealedSecrets: await sealJson(secret, c.env) };
		} else if (body.component === "http") {
			await checkHttpAuth(body.auth);
			const { details, secret } = splitHttpAuth(body.baseUrl, body.auth);
			row = { id, component: "http", name: body.name, type: body.auth.type, details, sealedSecrets: await sealJson(secret, c.env) };
		} else {
			await checkPetstoreKey(c.env, body.baseUrl, body.apiKey);
			const details = body.baseUrl ? { baseUrl: body.baseUrl } : {};
			row = {
				id,
				component: "petstore",
				name: body.name,
				type: "petstore",
				details,
				sealedSecrets: await sealJson({ apiKey: body.apiKey }, c.env),
			};
		}
		const created = await firstOrNotFound(getDb(c.env.DB).insert(credentials).values(row).returning(), "Credential", row.id);
		return c.json({ credential: view(created) }, 201);
	})
	.get("/:id", async (c) => c.json({ credential: view(await findCredential(c.env, c.req.param("id"))) }))
	.patch("/:id", valid("json", updateSchema), async (c) => {
		const body = c.req.valid("json");
		const current = await findCredential(c.env, c.req.param("id"));
		const now = Date.now();
		const changes: Partial<typeof credentials.$inferInsert> = { updatedAt: now };
		if (body.name) changes.name = body.name;
		if (current.component === "http") {
			if (body.apiKey !== undefined)
				throw new ApiError(400, "apiKey belongs to Petstore credentials; send auth to change an HTTP credential");
			if (body.baseUrl !== undefined && !body.auth)
				throw new ApiError(400, HTTP_BASE_URL_CHANGE_REQUIRES_AUTH, [{ path: "auth", message: HTTP_BASE_URL_CHANGE_REQUIRES_AUTH }]);
			if (body.auth) {
				const auth = parsedOr400(httpAuthSchema, body.auth, "auth");
				await checkHttpAuth(auth);
				const { details, secret } = splitHttpAuth(body.baseUrl ?? current.details.baseUrl ?? "", auth);
				changes.type = auth.type;
				changes.details = details;
				changes.sealedSecrets = await sealJson(secret, c.env);
			}
		} else if (current.component === "webhook") {
			if (body.apiKey !== undefined || body.baseUrl !== undefined)
				throw new ApiError(400, "apiKey and baseUrl belong to Petstore credentials; send auth to change a webhook credential");
			if (body.auth) {
				const auth = parsedOr400(webhookAuthSchema, body.auth, "auth");
				const { details, secret } = await splitWebhookAuth(auth, c.env);
				changes.type = auth.type;
				changes.details = details;
				changes.sealedSecrets = await sealJson(secret, c.env);
				// Same type: the old secret keeps working for the overlap. A new type has nothing to overlap with.
				const overlap = body.previousValidForSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
				const keepPrevious = auth.type === current.type && auth.type !== "none" && overlap > 0;
				changes.sealedPrevious = keepPrevious ? current.sealedSecrets : null;
				changes.previousExpiresAt = keepPrevious ? now + overlap * 1000 : null;
			}
		} else {
			if (body.auth) throw new ApiError(400, "auth belongs to webhook credentials; send apiKey or baseUrl to change a Petstore credential");
			if (body.baseUrl !== undefined && body.apiKey === undefined)
				throw new ApiError(400, `Invalid request body: apiKey: ${BASE_URL_CHANGE_REQUIRES_KEY}`, [
					{ path: "apiKey", message: BASE_URL_CHANGE_REQUIRES_KEY },
				]);
			if (body.apiKey !== undefined || body.baseUrl !== undefined) {
				const [existing] = await unsealSecrets<{ apiKey: string }>(current, c.env, now);
				const apiKey = body.apiKey ?? existing?.apiKey ?? "";
				const baseUrl = body.baseUrl ?? current.details.baseUrl;
				await checkPetstoreKey(c.env, baseUrl, apiKey);
				changes.details = baseUrl ? { baseUrl } : {};
				changes.sealedSecrets = await sealJson({ apiKey }, c.env);
			}
		}
		const updated = await firstOrNotFound(
			getDb(c.env.DB).update(credentials).set(changes).where(eq(credentials.id, current.id)).returning(),
			"Credential",
			current.id,
		);
		invalidateIngressConfig();
		if (current.component !== "webhook") await invalidateFlowCredential(c.env, current.id);
		return c.json({ credential: view(updated) });
	})
	.delete("/:id", async (c) => {
		const current = await findCredential(c.env, c.req.param("id"));
		const users = await runningFlowsUsing(c.env, current.id);
		if (users.length > 0)
			throw new ApiError(409, `Credential ${current.id} is used by running or paused flow ${users.join(", ")}; stop the flow first`);
		await getDb(c.env.DB).delete(credentials).where(eq(credentials.id, current.id));
		invalidateIngressConfig();
		if (current.component !== "webhook") await invalidateFlowCredential(c.env, current.id);
		return c.body(null, 204);
	});
