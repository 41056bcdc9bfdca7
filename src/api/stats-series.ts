/**
 * @module
 * Pure: per-minute buckets → the column series of one chart, at any whole-minute step.
 */
import { LATENCY_BINS_MS, MINUTE_MS, type StatsRows } from "../db/queries/stats";

/** The response of `GET /api/stats`. Times are epoch milliseconds; `t[i]` is the start of step `i`. */
export interface StatsResponse {
	from: number;
	to: number;
	/** Milliseconds per point, a whole number of minutes. */
	step: number;
	series: {
		t: number[];
		/** Executions accepted by the flow object in the step. */
		received: number[];
		/** Executions that finished in the step. */
		succeeded: number[];
		failed: number[];
		/** Accepted → finished, over the executions that finished in the step; null when none did. */
		p50Ms: (number | null)[];
		p95Ms: (number | null)[];
		/** The largest backlog (queued or retrying executions) seen in the step. */
		queued: number[];
	};
}

/**
 * The `p` quantile (0..1) of a histogram over LATENCY_BINS_MS, interpolated linearly inside the
 * bin it falls in; the open last bin answers its lower bound. Null for an empty histogram.
 */
export function histogramQuantile(counts: readonly number[], p: number): number | null {
	const total = counts.reduce((sum, n) => sum + n, 0);
	if (total === 0) return null;
	const rank = p * total;
	let below = 0;
	for (let bin = 0; bin < counts.length; bin++) {
		const count = counts[bin] ?? 0;
		if (count > 0 && below + count >= rank) {
			const lower = bin === 0 ? 0 : (LATENCY_BINS_MS[bin - 1] ?? 0);
			const upper = LATENCY_BINS_MS[bin];
			if (upper === undefined) return lower;
			return Math.round(lower + ((upper - lower) * (rank - below)) / count);
		}
		below += count;
	}
	return LATENCY_BINS_MS.at(-1) ?? null;
}

/**
 * Points start at `from` rounded down to the step and end before `to`. Counts add up; latency
 * histograms add up before the percentiles are taken; `queued` is the largest backlog the flows
 * had together at any minute of the step, each flow's value holding until it changes.
 */
export function toSeries(rows: StatsRows, from: number, to: number, step: number): StatsResponse {
	const start = Math.floor(from / step) * step;
	const points = Math.max(0, Math.ceil((to - start) / step));
	const index = (minute: number) => Math.floor((minute - start) / step);
	const zeros = () => new Array<number>(points).fill(0);
	const series: StatsResponse["series"] = {
		t: Array.from({ length: points }, (_, i) => start + i * step),
		received: zeros(),
		succeeded: zeros(),
		failed: zeros(),
		p50Ms: [],
		p95Ms: [],
		queued: zeros(),
	};
	for (const row of rows.counts) {
		const i = index(row.minute);
		if (i < 0 || i >= points) continue;
		series.received[i] = (series.received[i] ?? 0) + row.received;
		series.succeeded[i] = (series.succeeded[i] ?? 0) + row.succeeded;
		series.failed[i] = (series.failed[i] ?? 0) + row.failed;
	}
	const histograms = Array.from({ length: points }, () => new Array<number>(LATENCY_BINS_MS.length + 1).fill(0));
	for (const row of rows.latency) {
		const histogram = histograms[index(row.minute)];
		if (histogram && row.bin >= 0 && row.bin < histogram.length) histogram[row.bin] = (histogram[row.bin] ?? 0) + row.count;
	}
	series.p50Ms = histograms.map((h) => histogramQuantile(h, 0.5));
	series.p95Ms = histograms.map((h) => histogramQuantile(h, 0.95));

	// Backlog: walk the changes in time order, keeping each flow's current value and their sum.
	const current = new Map(rows.startGauges.map((g) => [g.flowId, g.queued]));
	let total = [...current.values()].reduce((sum, n) => sum + n, 0);
	let at = 0;
	const gauges = [...rows.gauges].sort((a, b) => a.minute - b.minute);
	for (let i = 0; i < points; i++) {
		let peak = total;
		const end = start + (i + 1) * step;
		while (at < gauges.length && (gauges[at]?.minute ?? end) < end) {
			const gauge = gauges[at++] as StatsRows["gauges"][number];
			total += gauge.queued - (current.get(gauge.flowId) ?? 0);
			current.set(gauge.flowId, gauge.queued);
			peak = Math.max(peak, total);
		}
		series.queued[i] = peak;
	}
	return { from, to, step, series };
}

/** Steps are whole minutes. */
export const isWholeMinutes = (ms: number) => ms >= MINUTE_MS && ms % MINUTE_MS === 0;
