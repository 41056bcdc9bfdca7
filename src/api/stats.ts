/**
 * @module `GET /api/stats?flowId=&from=&to=&step=`: the per-minute buckets the run-log writer keeps
 * (src/db/queries/stats.ts), re-bucketed to `step`. Columns, not rows, so a chart library such as
 * uPlot takes `series` as it is.
 */

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
