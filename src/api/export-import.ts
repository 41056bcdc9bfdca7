/**
 * @module
 * Moving flows between environments: the export holds every flow's draft and live definition and
 * the credentials' metadata (never a secret); the import creates new flows and points their
 * credential references at the target's credentials with the same component and name.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import { HTTP_AUTH_TYPES } from "../components/http/credential";
import { webhookAuthTypes } from "../components/webhook-types";
import { randomBase64Url } from "../crypto/encoding";
import { getDb } from "../db/client";
import { credentialComponents, credentials, flowStatuses, flows, flowVersions } from "../db/schema";
import { pauseFlow } from "../delivery/flow-control";
import { type Draft, draftSchema, type FlowDefinition, publishableSchema } from "../flows/definition";
import { nameSchema } from "../flows/names";
import { checkPublishable } from "../flows/publish";
import { mapSteps } from "../flows/step-tree";
import { valid } from "./errors";

const exportedCredentialSchema = z.object({
	id: z.string(),
	component: z.enum(credentialComponents),
	name: z.string(),
	type: z.enum([...webhookAuthTypes, "petstore", ...HTTP_AUTH_TYPES]).optional(),
});

export const exportDocumentSchema = z.object({
	version: z.literal(1),
	exportedAt: z.string().optional(),
	credentials: z.array(exportedCredentialSchema).max(1000),
	flows: z
		.array(
			z.object({
				name: nameSchema,
				status: z.enum(flowStatuses),
				draft: draftSchema.nullable(),
				live: publishableSchema.nullable(),
			}),
		)
		.max(500),
});

export const importQuerySchema = z.object({
	publish: z
		.enum(["true", "false"])
		.default("false")
		.describe("true: publish each flow's live version and keep its running, paused or stopped state"),
});

type ExportedCredential = z.infer<typeof exportedCredentialSchema>;
type TargetCredential = { id: string; component: string; name: string; type: string };

/** Resolves exported credential ids to the target's, collecting a warning for each that has no match. */
function credentialResolver(exported: readonly ExportedCredential[], targets: readonly TargetCredential[]) {
	const byId = new Map(exported.map((c) => [c.id, c]));
	const byKey = new Map<string, TargetCredential>();
	// Oldest first, so among same-named credentials the first one created wins.
	for (const t of targets) if (!byKey.has(`${t.component}\n${t.name}`)) byKey.set(`${t.component}\n${t.name}`, t);
	return (flowName: string, id: string, warnings: Set<string>): string | null => {
		const source = byId.get(id);
		if (!source) {
			warnings.add(`Flow "${flowName}": credential ${id} is not in the export's credentials`);
			return null;
		}
		const target = byKey.get(`${source.component}\n${source.name}`);
		if (!target) {
			warnings.add(
				`Flow "${flowName}": there is no ${source.component} credential named "${source.name}" here; create it and choose it in the flow`,
			);
			return null;
		}
		if (source.type && source.type !== target.type) {
			warnings.add(`Flow "${flowName}": ${source.component} credential "${source.name}" is ${target.type} here but was ${source.type}`);
		}
		return target.id;
	};
}

/** A copy of the definition with every credential id resolved; `missing` counts the ones that were not. */
function remap(definition: Draft | FlowDefinition, resolve: (id: string) => string | null): { definition: Draft; missing: number } {
	let missing = 0;
	const map = (id: string | null | undefined) => {
		const resolved = id ? resolve(id) : null;
		if (!resolved) missing++;
		return resolved;
	};
	return {
		definition: {
			...definition,
			trigger: { ...definition.trigger, credentialId: map(definition.trigger.credentialId) },
			steps: mapSteps(definition.steps, (step) =>
				// A credential that was set must resolve; a Petstore step always needs one, an HTTP request may have none.
				step.credentialId || step.component === "petstore" ? { ...step, credentialId: map(step.credentialId) } : step,
			),
		},
		missing,
	};
}

export const exportImportRoutes = new Hono<{ Bindings: Env }>()
	.get("/export", async (c) => {
		const db = getDb(c.env.DB);
		const [credentialRows, flowRows, liveRows] = await db.batch([
			// Only the metadata columns are read: the sealed secrets never leave the database.
			db
				.select({
					id: credentials.id,
					component: credentials.component,
					name: credentials.name,
					type: credentials.type,
					details: credentials.details,
				})
				.from(credentials)
				.orderBy(credentials.createdAt),
			db.select().from(flows).orderBy(flows.createdAt),
			db
				.select({ flowId: flowVersions.flowId, definition: flowVersions.definition })
				.from(flowVersions)
				.innerJoin(flows, and(eq(flows.id, flowVersions.flowId), eq(flows.liveVersion, flowVersions.version))),
		]);
		const live = new Map(liveRows.map((r) => [r.flowId, r.definition]));
		return c.json({
			version: 1,
			exportedAt: new Date().toISOString(),
			credentials: credentialRows,
			flows: flowRows.map((f) => ({ name: f.name, status: f.status, draft: f.draft, live: live.get(f.id) ?? null })),
		});
	})
	.post("/import", valid("query", importQuerySchema), valid("json", exportDocumentSchema), async (c) => {
		const publish = c.req.valid("query").publish === "true";
		const document = c.req.valid("json");
		const db = getDb(c.env.DB);
		const [targets, existing] = await db.batch([
			db
				.select({ id: credentials.id, component: credentials.component, name: credentials.name, type: credentials.type })
				.from(credentials)
				.orderBy(credentials.createdAt),
			db.select({ name: flows.name }).from(flows),
		]);
		const resolver = credentialResolver(document.credentials, targets);
		const existingNames = new Set(existing.map((f) => f.name));
		const warnings = new Set<string>();
		const created: { id: string; name: string; status: (typeof flowStatuses)[number]; version: number | null }[] = [];
		const statements = [];

		for (const flow of document.flows) {
			const resolve = (id: string) => resolver(flow.name, id, warnings);
			if (existingNames.has(flow.name)) warnings.add(`Flow "${flow.name}" already existed here; the import added another one`);
			const source = flow.draft ?? flow.live;
			const draft = source ? remap(source, resolve).definition : null;
			let live: FlowDefinition | null = null;
			if (publish && flow.live) {
				const mapped = remap(flow.live, resolve);
				// With every credential resolved the definition is publishable again.
				const checked =
					mapped.missing > 0 ? { ok: false as const, problem: "a credential is missing" } : checkPublishable(mapped.definition);
				if (checked.ok) live = checked.definition;
				else warnings.add(`Flow "${flow.name}" was imported as a draft only: ${checked.problem}`);
			}
			// A published import keeps the source's running, paused or stopped state; everything else starts as a draft.
			const status = live ? (flow.status === "running" || flow.status === "paused" ? flow.status : "stopped") : "draft";
			const id = randomBase64Url(16);
			statements.push(db.insert(flows).values({ id, name: flow.name, status, draft, liveVersion: live ? 1 : null }));
			if (live) statements.push(db.insert(flowVersions).values({ flowId: id, version: 1, definition: live }));
			created.push({ id, name: flow.name, status, version: live ? 1 : null });
		}
		// One batch, one transaction: an import creates all of its flows or none.
		if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
		// A paused source holds its deliveries here too (the objects keep that state, not D1).
		for (const flow of created) if (flow.status === "paused") await pauseFlow(c.env, flow.id);
		return c.json({ flows: created, warnings: [...warnings] }, 201);
	});
