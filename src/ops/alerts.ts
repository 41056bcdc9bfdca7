/**
 * @module
 * Alerts. The minute cron (`runAlertChecks`) reads what the run-log writer keeps in D1 —
 * failure events, the per-minute 401 counts, the oldest queued execution — decides per target,
 * flow and kind what to send (./alert-policy.ts), and puts the alerts on the hookflow-alerts
 * queue. That queue's consumer (`handleAlertQueue`) signs and posts them, retrying with backoff;
 * nothing here runs on a flow's delivery path, so a slow or failing receiver cannot delay it.
 */
import { eq, lt } from "drizzle-orm";
import * as z from "zod";
import { randomHexId, toBase64, utf8 } from "../crypto/encoding";
import { unseal } from "../crypto/seal";
import { getDb } from "../db/client";
import { MINUTE_MS, prepareNumbered, purgeOldStats } from "../db/queries/stats";
import {
	type AlertDelivery,
	type AlertEvent,
	type AlertTargetRow,
	alertEvents,
	alertState,
	alertTargets,
	failureEvents,
} from "../db/schema";
import { errorMessage, isTimeout, log } from "../log";
import {
	type AlertPayload,
	AUTH_FAILURE_WINDOW_MINUTES,
	alertBody,
	coalesce,
	conditions,
	edges,
	type FlowHealth,
	retryDelaySeconds,
	summarize,
} from "./alert-policy";
import { alertUrlProblem, allowsPrivateAlertTargets } from "./alert-url";

const DAY_MS = 86_400_000;
const DELIVERY_TIMEOUT_MS = 10_000;
const SEND_BATCH = 100;

const alertPayloadSchema = z
	.object({
		type: z.enum([...alertEvents, "test"]),
		timestamp: z.iso.datetime(),
		data: z
			.object({
				flowId: z.string().nullable(),
				flowName: z.string().nullable(),
				count: z.number().int().min(1),
				summary: z.string(),
				executionId: z.string().optional(),
				executionUrl: z.string().optional(),
				error: z.string().nullable().optional(),
				recovered: z.array(z.string()).optional(),
				oldestQueuedSeconds: z.number().optional(),
				authFailures: z.number().optional(),
			})
			.strict(),
	})
	.strict() satisfies z.ZodType<AlertPayload>;

/** The hookflow-alerts message, validated where it is consumed like the executions queue's. */
export const alertMessageSchema = z
	.object({
		targetId: z.string().min(1),
		/** The webhook-id: the same on every retry, so a receiver can drop duplicates. */
		webhookId: z.string().min(1).max(100),
		payload: alertPayloadSchema,
	})
	.strict();
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/** `v1,<base64 HMAC-SHA256(id.timestamp.body)>` with the key inside `whsec_<base64>`. */
export async function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
	const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
	const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return `v1,${toBase64(await crypto.subtle.sign("HMAC", key, utf8.encode(`${id}.${timestampSeconds}.${body}`)))}`;
}

export const newWebhookId = () => `msg_${randomHexId()}`;
export const executionUrl = (origin: string, executionId: string) => `${origin}/#/executions/${executionId}`;

/** Why alerts may not go to this target now (src/ops/alert-url.ts), or null. */
export const targetProblem = (env: Env, target: Pick<AlertTargetRow, "url" | "origin">) =>
	alertUrlProblem(target.url, {
		allowPrivate: allowsPrivateAlertTargets(env),
		ownHost: URL.canParse(target.origin) ? new URL(target.origin).hostname : null,
	});

/**
 * One POST to the target; its outcome becomes the target's last delivery status. `final`: retrying
 * cannot help (the URL is not allowed). A redirect is not followed, and a network error is not
 * described: the answer must not tell a caller what listens where.
 */
export async function deliverAlert(
	env: Env,
	target: AlertTargetRow,
	message: AlertMessage,
	nowMs = Date.now(),
): Promise<{ delivery: AlertDelivery; final: boolean }> {
	const event = message.payload.type;
	const problem = targetProblem(env, target);
	const delivery = problem
		? { at: nowMs, ok: false, status: null, event, error: `Not sent: ${problem}` }
		: await post(env, target, message, nowMs);
	await getDb(env.DB).update(alertTargets).set({ lastDelivery: delivery }).where(eq(alertTargets.id, target.id));
	return { delivery, final: problem !== null };
}

async function post(env: Env, target: AlertTargetRow, message: AlertMessage, nowMs: number): Promise<AlertDelivery> {
	const body = alertBody(target.format, message.payload);
	const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Hookflow-Alerts/1" };
	if (target.format === "standardWebhooks" && target.sealedSecret !== null) {
		const timestamp = Math.floor(nowMs / 1000);
		headers["webhook-id"] = message.webhookId;
		headers["webhook-timestamp"] = String(timestamp);
		headers["webhook-signature"] = await signStandardWebhook(await unseal(target.sealedSecret, env), message.webhookId, timestamp, body);
	}
	const event = message.payload.type;
	try {
		const response = await fetch(target.url, {
			method: "POST",
			headers,
			body,
			// A 3xx is the receiver's answer: following it would post the signed alert to a host nobody chose.
			redirect: "manual",
			signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
		});
		await response.body?.cancel();
		const redirected = response.status >= 300 && response.status < 400;
		return {
			at: nowMs,
			ok: response.ok,
			status: response.status,
			event,
			error: response.ok
				? null
				: redirected
					? `The receiver answered ${response.status}, a redirect; alerts are not redirected, set the final URL as the target`
					: `The receiver answered ${response.status}`,
		};
	} catch (error) {
		// The cause stays in the log: connection refused, reset or a TLS failure would map the network.
		log("warn", "alert.unreachable", { targetId: target.id, error: errorMessage(error) });
		return {
			at: nowMs,
			ok: false,
			status: null,
			event,
			error: isTimeout(error) ? `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : "Could not reach the receiver",
		};
	}
}

/** The hookflow-alerts consumer: a failed delivery is retried by the queue with backoff, up to max_retries. */
export async function handleAlertQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	for (const message of batch.messages) {
		const parsed = alertMessageSchema.safeParse(message.body);
		if (!parsed.success) {
			// Only a bug could produce this, and retrying cannot fix it.
			log("error", "queue.invalid_message", { queue: batch.queue, messageId: message.id, error: parsed.error.issues[0]?.message });
			message.ack();
			continue;
		}
		const alert = parsed.data;
		const [target] = await getDb(env.DB).select().from(alertTargets).where(eq(alertTargets.id, alert.targetId)).limit(1);
		if (!target) {
			message.ack();
			continue;
		}
		try {
			const { delivery, final } = await deliverAlert(env, target, alert);
			if (delivery.ok || final) {
				if (final) log("warn", "alert.refused", { targetId: target.id, type: alert.payload.type, error: delivery.error });
				message.ack();
				continue;
			}
			log("warn", "alert.delivery_failed", {
				targetId: target.id,
				type: alert.payload.type,
				attempt: message.attempts,
				status: delivery.status,
			});
		} catch (error) {
			log("error", "alert.delivery_error", { targetId: target.id, error: errorMessage(error) });
		}
		message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
	}
}

interface FlowRow {
	id: string;
	name: string;
	oldest: number | null;
	auth: number;
}

interface FailureRow {
	flowId: string;
	n: number;
	lastSeq: number;
	executionId: string;
	error: string | null;
}

type StateRow = typeof alertState.$inferSelect;

/**
 * The minute cron: conditions and failures → alerts on the queue, and the state that coalesces them.
 * It also drops failure events older than a day and per-minute stats older than the longest view.
 */
export async function runAlertChecks(env: Env, nowMs: number): Promise<{ alerts: number }> {
	const db = getDb(env.DB);
	await db.delete(failureEvents).where(lt(failureEvents.at, nowMs - DAY_MS));
	await purgeOldStats(env.DB, nowMs);
	const targets = await db.select().from(alertTargets);
	if (targets.length === 0) return { alerts: 0 };

	const since = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS - (AUTH_FAILURE_WINDOW_MINUTES - 1) * MINUTE_MS;
	const flows = (
		await prepareNumbered(
			env.DB,
			`SELECT f.id, f.name,
				(SELECT min(received_at) FROM executions e WHERE e.flow_id = f.id AND e.status IN ('queued', 'retrying')) AS oldest,
				(SELECT coalesce(sum(auth_failures), 0) FROM stats_minutes s WHERE s.flow_id = f.id AND s.minute >= ?1) AS auth
			FROM flows f`,
			[since],
		).all<FlowRow>()
	).results;
	const states = new Map((await db.select().from(alertState)).map((s) => [`${s.targetId}\n${s.flowId}\n${s.kind}`, s]));
	const messages: AlertMessage[] = [];
	const changed: StateRow[] = [];

	for (const target of targets) {
		const enabled = (kind: AlertEvent) => target.events === null || target.events.includes(kind);
		const scope = flows.filter((f) => target.flowId === null || f.id === target.flowId);
		const state = (flowId: string, kind: AlertEvent): StateRow =>
			states.get(`${target.id}\n${flowId}\n${kind}`) ?? {
				targetId: target.id,
				flowId,
				kind,
				active: false,
				lastSentAt: null,
				pending: 0,
				cursor: 0,
			};
		const update = (before: StateRow, after: StateRow) => {
			if (JSON.stringify(before) !== JSON.stringify(after)) changed.push(after);
		};
		const send = (flow: FlowRow, type: AlertEvent, data: Omit<AlertPayload["data"], "summary" | "flowId" | "flowName">) =>
			messages.push({
				targetId: target.id,
				webhookId: newWebhookId(),
				payload: {
					type,
					timestamp: new Date(nowMs).toISOString(),
					data: {
						flowId: flow.id,
						flowName: flow.name,
						...data,
						summary: summarize(type, flow.name, { flowId: flow.id, flowName: flow.name, ...data }),
					},
				},
			});

		const failures = enabled("execution.failed") ? await newFailures(env.DB, target) : new Map<string, FailureRow>();
		for (const flow of scope) {
			// execution.failed: the failures after the cursor stay there until an alert may go out.
			const failed = failures.get(flow.id);
			if (failed) {
				const before = state(flow.id, "execution.failed");
				const { send: count, next } = coalesce({ lastSentAt: before.lastSentAt, pending: 0 }, failed.n, nowMs);
				if (count > 0) {
					send(flow, "execution.failed", {
						count,
						executionId: failed.executionId,
						executionUrl: executionUrl(target.origin, failed.executionId),
						error: failed.error,
					});
					update(before, { ...before, lastSentAt: next.lastSentAt, cursor: failed.lastSeq });
				}
			}

			const health: FlowHealth = { oldestQueuedMs: flow.oldest === null ? null : nowMs - flow.oldest, authFailures: Number(flow.auth) };
			const holds = conditions(health, target.thresholds);
			const ended: string[] = [];
			for (const kind of ["flow.lagging", "flow.auth_failures"] as const) {
				if (!enabled(kind)) continue;
				const before = state(flow.id, kind);
				const edge = edges(before.active, holds[kind]);
				if (edge.ended) ended.push(kind);
				const { send: count, next } = coalesce(before, edge.started ? 1 : 0, nowMs);
				if (count > 0) {
					send(flow, kind, {
						count,
						oldestQueuedSeconds: health.oldestQueuedMs === null ? 0 : Math.round(health.oldestQueuedMs / 1000),
						authFailures: health.authFailures,
					});
				}
				update(before, { ...before, ...next, active: holds[kind] });
			}
			if (enabled("flow.recovered")) {
				const before = state(flow.id, "flow.recovered");
				const { send: count, next } = coalesce(before, ended.length > 0 ? 1 : 0, nowMs);
				if (count > 0) send(flow, "flow.recovered", { count, recovered: ended });
				update(before, { ...before, ...next });
			}
		}
	}

	// Queued before the state is saved: a failure in between repeats an alert rather than losing it.
	for (let i = 0; i < messages.length; i += SEND_BATCH) {
		await env.ALERTS.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body, contentType: "json" as const })));
	}
	for (let i = 0; i < changed.length; i += 50) {
		const statements = changed.slice(i, i + 50).map((row) =>
			db
				.insert(alertState)
				.values(row)
				.onConflictDoUpdate({
					target: [alertState.targetId, alertState.flowId, alertState.kind],
					set: { active: row.active, lastSentAt: row.lastSentAt, pending: row.pending, cursor: row.cursor },
				}),
		);
		await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
	}
	if (messages.length > 0) log("info", "alerts.queued", { alerts: messages.length });
	return { alerts: messages.length };
}

/** Per flow: failures since the target was created and after its cursor, with the latest one. */
async function newFailures(d1: D1Database, target: AlertTargetRow): Promise<Map<string, FailureRow>> {
	const { results } = await prepareNumbered(
		d1,
		`SELECT flow_id AS flowId, count(*) AS n, max(seq) AS lastSeq, execution_id AS executionId, error
		FROM failure_events
		WHERE at >= ?2 AND (?3 IS NULL OR flow_id = ?3)
			AND seq > coalesce((SELECT cursor FROM alert_state a
				WHERE a.target_id = ?1 AND a.flow_id = failure_events.flow_id AND a.kind = 'execution.failed'), 0)
		GROUP BY flow_id`,
		[target.id, target.createdAt, target.flowId],
	).all<FailureRow>();
	return new Map(results.map((r) => [r.flowId, r]));
}
