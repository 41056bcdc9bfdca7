/**
 * @module
 * Pure decisions for alerts: when a condition starts or ends, when an alert may go out, what it says.
 */
import type { AlertEvent, AlertFormat, AlertThresholds } from "../db/schema";

/** At most one alert per target, flow and kind in this window; what happens meanwhile is counted in the next one. */
export const ALERT_WINDOW_MS = 5 * 60_000;
/** flow.auth_failures counts the 401s of this many minutes (the current one included). */
export const AUTH_FAILURE_WINDOW_MINUTES = 5;
export const DEFAULT_THRESHOLDS: AlertThresholds = { lagSeconds: 300, authFailures: 20 };

export interface CoalesceState {
	lastSentAt: number | null;
	pending: number;
}

/** Adds `occurrences` and sends them all as one alert when the window since the last one has passed. */
export function coalesce(state: CoalesceState, occurrences: number, nowMs: number): { send: number; next: CoalesceState } {
	const pending = state.pending + occurrences;
	if (pending === 0 || (state.lastSentAt !== null && nowMs - state.lastSentAt < ALERT_WINDOW_MS)) {
		return { send: 0, next: { lastSentAt: state.lastSentAt, pending } };
	}
	return { send: pending, next: { lastSentAt: nowMs, pending: 0 } };
}

export interface FlowHealth {
	/** Age of the oldest queued or retrying execution; null when there is none. */
	oldestQueuedMs: number | null;
	/** 401s in the last AUTH_FAILURE_WINDOW_MINUTES. */
	authFailures: number;
}

/** Whether each condition holds for a target's thresholds. */
export function conditions(health: FlowHealth, thresholds: AlertThresholds): Record<"flow.lagging" | "flow.auth_failures", boolean> {
	return {
		"flow.lagging": health.oldestQueuedMs !== null && health.oldestQueuedMs > thresholds.lagSeconds * 1000,
		"flow.auth_failures": health.authFailures > thresholds.authFailures,
	};
}

/** A condition is one occurrence when it starts; its end is an occurrence of flow.recovered. */
export const edges = (active: boolean, holds: boolean) => ({ started: holds && !active, ended: active && !holds });

export interface AlertPayload {
	type: AlertEvent | "test";
	/** ISO 8601. */
	timestamp: string;
	data: {
		flowId: string | null;
		flowName: string | null;
		/** Occurrences this alert stands for (more than one when coalesced). */
		count: number;
		summary: string;
		executionId?: string;
		executionUrl?: string;
		error?: string | null;
		/** flow.recovered: which conditions ended. */
		recovered?: string[];
		oldestQueuedSeconds?: number;
		authFailures?: number;
	};
}

/** The request body for a target's format: the event itself, or an incoming-webhook `{text}` message. */
export function alertBody(format: AlertFormat, payload: AlertPayload): string {
	if (format === "standardWebhooks") return JSON.stringify(payload);
	const link = payload.data.executionUrl ? ` ${payload.data.executionUrl}` : "";
	return JSON.stringify({ text: `[Hookflow] ${payload.data.summary}${link}` });
}

export function summarize(type: AlertPayload["type"], flowName: string | null, data: Omit<AlertPayload["data"], "summary">): string {
	const flow = flowName ? `Flow "${flowName}"` : "Hookflow";
	const more = data.count > 1 ? ` (${data.count} times since the last alert)` : "";
	switch (type) {
		case "execution.failed":
			return `${flow}: execution ${data.executionId} failed: ${data.error ?? "unknown error"}${data.count > 1 ? ` (and ${data.count - 1} more failures)` : ""}`;
		case "flow.lagging":
			return `${flow} is falling behind: the oldest queued execution is ${data.oldestQueuedSeconds ?? "?"} s old${more}`;
		case "flow.auth_failures":
			return `${flow} refused ${data.authFailures ?? "?"} requests with 401 in the last ${AUTH_FAILURE_WINDOW_MINUTES} minutes${more}`;
		case "flow.recovered":
			return `${flow} recovered (${(data.recovered ?? []).join(", ") || "all clear"})${more}`;
		case "test":
			return "Test alert from Hookflow: this target receives alerts";
	}
}

/** Seconds before the queue's next try: 10 s, 20 s, 40 s, … up to 10 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
