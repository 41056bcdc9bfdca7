/**
 * @module
 * Alert targets: where alerts go, in which format, for which flow and events. The signing secret is shown once.
 */
import { desc, eq } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import { randomHexId, toBase64 } from "../crypto/encoding";
import { seal } from "../crypto/seal";
import { getDb } from "../db/client";
import { type AlertTargetRow, alertEvents, alertFormats, alertTargets } from "../db/schema";
import { DEFAULT_THRESHOLDS, summarize } from "../ops/alert-policy";
import { deliverAlert, newWebhookId, targetProblem } from "../ops/alerts";
import { ApiError, notFound, valid } from "./errors";
import { findFlow } from "./flows";

export const alertTargetSchema = z
	.object({
		url: z
			.string()
			.url("url must be an absolute URL")
			.refine((url) => /^https?:\/\//i.test(url), "url must be http:// or https://"),
		format: z.enum(alertFormats),
		/** Absent: every flow. */
		flowId: z.string().min(1).optional(),
		/** Absent: every event. */
		events: z.array(z.enum(alertEvents)).min(1).optional(),
		thresholds: z
			.object({
				lagSeconds: z
					.number()
					.int()
					.min(30)
					.max(7 * 86_400)
					.optional(),
				authFailures: z.number().int().min(0).max(1_000_000).optional(),
			})
			.strict()
			.optional(),
	})
	.strict();

function toView(row: AlertTargetRow) {
	return {
		id: row.id,
		url: row.url,
		format: row.format,
		flowId: row.flowId,
		events: row.events ?? [...alertEvents],
		thresholds: row.thresholds,
		lastDelivery: row.lastDelivery ? { ...row.lastDelivery, at: new Date(row.lastDelivery.at).toISOString() } : null,
		createdAt: new Date(row.createdAt).toISOString(),
	};
}

async function findTarget(env: Env, id: string): Promise<AlertTargetRow> {
	const [row] = await getDb(env.DB).select().from(alertTargets).where(eq(alertTargets.id, id)).limit(1);
	if (!row) throw notFound("Alert target", id);
	return row;
}

export const alertTargetsRoutes = new Hono<{ Bindings: Env }>()
	.get("/", async (c) => {
		const rows = await getDb(c.env.DB).select().from(alertTargets).orderBy(desc(alertTargets.createdAt));
		// The catalogue the designer builds its form from: events, formats and the default thresholds.
		return c.json({ alertTargets: rows.map(toView), events: alertEvents, formats: alertFormats, thresholds: DEFAULT_THRESHOLDS });
	})
	.post("/", valid("json", alertTargetSchema), async (c) => {
		const body = c.req.valid("json");
		const origin = new URL(c.req.url).origin;
		const problem = targetProblem(c.env, { url: body.url, origin });
		if (problem) throw new ApiError(422, problem, [{ path: "url", message: problem }]);
		if (body.flowId !== undefined) await findFlow(c.env, body.flowId);
		// Standard Webhooks secrets are whsec_ + base64 of 24 random bytes; Slack-style receivers verify nothing.
		const secret = body.format === "standardWebhooks" ? `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}` : null;
		const [row] = await getDb(c.env.DB)
			.insert(alertTargets)
			.values({
				id: randomHexId(),
				url: body.url,
				format: body.format,
				flowId: body.flowId ?? null,
				events: body.events ?? null,
				thresholds: { ...DEFAULT_THRESHOLDS, ...body.thresholds },
				sealedSecret: secret === null ? null : await seal(secret, c.env),
				origin,
			})
			.returning();
		if (!row) throw new ApiError(500, "The alert target was not stored");
		return c.json({ alertTarget: toView(row), secret }, 201);
	})
	.delete("/:id", async (c) => {
		const row = await findTarget(c.env, c.req.param("id"));
		await getDb(c.env.DB).delete(alertTargets).where(eq(alertTargets.id, row.id));
		return c.body(null, 204);
	})
	.post("/:id/test", async (c) => {
		const target = await findTarget(c.env, c.req.param("id"));
		const data = { flowId: target.flowId, flowName: null, count: 1 };
		const { delivery } = await deliverAlert(c.env, target, {
			targetId: target.id,
			webhookId: newWebhookId(),
			payload: { type: "test", timestamp: new Date().toISOString(), data: { ...data, summary: summarize("test", null, data) } },
		});
		return c.json({ delivery: { ...delivery, at: new Date(delivery.at).toISOString() } });
	});
