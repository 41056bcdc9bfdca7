import { describe, expect, it } from "vitest";
import { metricsText } from "../../src/api/metrics-text";
import { histogramQuantile, toSeries } from "../../src/api/stats-series";
import { jsonPath } from "../../src/db/queries/run-log-search";
import { LATENCY_BINS_MS } from "../../src/db/queries/stats";
import { ALERT_WINDOW_MS, coalesce, conditions, DEFAULT_THRESHOLDS, edges, retryDelaySeconds } from "../../src/ops/alert-policy";

const bins = (entries: Record<number, number>) => Array.from({ length: LATENCY_BINS_MS.length + 1 }, (_, i) => entries[i] ?? 0);

describe("histogramQuantile", () => {
	it("interpolates inside the bin the rank falls in", () => {
		// 100 values in [100, 200): p50 at the middle, p95 near the top.
		expect(histogramQuantile(bins({ 3: 100 }), 0.5)).toBe(150);
		expect(histogramQuantile(bins({ 3: 100 }), 0.95)).toBe(195);
		// 90 fast, 10 slow: p50 fast, p95 in the slow bin [800, 1500).
		expect(histogramQuantile(bins({ 0: 90, 6: 10 }), 0.5)).toBeLessThan(25);
		const p95 = histogramQuantile(bins({ 0: 90, 6: 10 }), 0.95);
		expect(p95).toBeGreaterThanOrEqual(800);
		expect(p95).toBeLessThan(1500);
	});

	it("answers null for no data and the lower bound of the open last bin", () => {
		expect(histogramQuantile(bins({}), 0.5)).toBeNull();
		expect(histogramQuantile(bins({ [LATENCY_BINS_MS.length]: 3 }), 0.95)).toBe(LATENCY_BINS_MS.at(-1));
	});
});

describe("toSeries", () => {
	const M = 60_000;
	it("re-buckets minutes to the step, sums counts and histograms, carries the backlog per flow", () => {
		const series = toSeries(
			{
				counts: [
					{ minute: 0, received: 2, succeeded: 1, failed: 0 },
					{ minute: 4 * M, received: 1, succeeded: 1, failed: 1 },
					{ minute: 5 * M, received: 3, succeeded: 0, failed: 0 },
				],
				latency: [
					{ minute: 0, bin: 3, count: 1 },
					{ minute: 4 * M, bin: 3, count: 1 },
				],
				// Flow a had 2 waiting before the range; b goes 0 → 4 → 1; a drops to 0 in minute 6.
				gauges: [
					{ flowId: "b", minute: 1 * M, queued: 4 },
					{ flowId: "b", minute: 2 * M, queued: 1 },
					{ flowId: "a", minute: 6 * M, queued: 0 },
				],
				startGauges: [{ flowId: "a", queued: 2 }],
			},
			0,
			10 * M,
			5 * M,
		);
		expect(series.series).toEqual({
			t: [0, 5 * M],
			received: [3, 3],
			succeeded: [2, 0],
			failed: [1, 0],
			p50Ms: [150, null],
			p95Ms: [195, null],
			// Peak 2 + 4 in the first step; the second starts at 2 + 1 and ends at 1.
			queued: [6, 3],
		});
	});
});

describe("alert policy", () => {
	it("coalesces: the first occurrence goes out, the rest wait for the window and go as one", () => {
		const sent = coalesce({ lastSentAt: null, pending: 0 }, 1, 1_000);
		expect(sent).toEqual({ send: 1, next: { lastSentAt: 1_000, pending: 0 } });
		const held = coalesce(sent.next, 2, 1_000 + ALERT_WINDOW_MS - 1);
		expect(held).toEqual({ send: 0, next: { lastSentAt: 1_000, pending: 2 } });
		expect(coalesce(held.next, 1, 1_000 + ALERT_WINDOW_MS)).toEqual({ send: 3, next: { lastSentAt: 1_000 + ALERT_WINDOW_MS, pending: 0 } });
		expect(coalesce({ lastSentAt: null, pending: 0 }, 0, 5)).toEqual({ send: 0, next: { lastSentAt: null, pending: 0 } });
	});

	it("decides conditions by the thresholds and detects their edges", () => {
		expect(conditions({ oldestQueuedMs: 300_001, authFailures: 20 }, DEFAULT_THRESHOLDS)).toEqual({
			"flow.lagging": true,
			"flow.auth_failures": false,
		});
		expect(conditions({ oldestQueuedMs: null, authFailures: 21 }, DEFAULT_THRESHOLDS)).toEqual({
			"flow.lagging": false,
			"flow.auth_failures": true,
		});
		expect(edges(false, true)).toEqual({ started: true, ended: false });
		expect(edges(true, true)).toEqual({ started: false, ended: false });
		expect(edges(true, false)).toEqual({ started: false, ended: true });
	});

	it("backs off 10 s, 20 s, … up to 10 minutes", () => {
		expect([1, 2, 3, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 600]);
	});
});

describe("run-log search paths", () => {
	it("quotes names and indexes arrays", () => {
		expect(jsonPath("petname")).toBe('$."petname"');
		expect(jsonPath("customer.items.0.sku")).toBe('$."customer"."items"[0]."sku"');
		expect(jsonPath('we"ird')).toBe('$."we\\"ird"');
	});
});

describe("metricsText", () => {
	it("serves each metric for all flows and per flow, with escaped labels", () => {
		const text = metricsText([
			{ id: "b", name: 'Say "hi"', received: 1, succeeded: 0, failed: 1, authFailures: 0, queued: 0, oldestQueuedAgeSeconds: 0 },
			{ id: "a", name: "Orders", received: 3, succeeded: 2, failed: 0, authFailures: 4, queued: 1, oldestQueuedAgeSeconds: 42 },
		]);
		expect(text.split("\n").slice(0, 7)).toEqual([
			"# HELP hookflow_executions_received_total Executions accepted, all flows.",
			"# TYPE hookflow_executions_received_total counter",
			"hookflow_executions_received_total 4",
			"# HELP hookflow_flow_executions_received_total Executions accepted, per flow.",
			"# TYPE hookflow_flow_executions_received_total counter",
			'hookflow_flow_executions_received_total{flow_id="a",flow_name="Orders"} 3',
			'hookflow_flow_executions_received_total{flow_id="b",flow_name="Say \\"hi\\""} 1',
		]);
		expect(text).toContain("\nhookflow_oldest_queued_age_seconds 42\n");
		expect(text.endsWith("\n")).toBe(true);
	});
});
