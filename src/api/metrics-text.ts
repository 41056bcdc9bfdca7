/** @module Pure: flow numbers → the Prometheus text exposition format (version 0.0.4). */

export interface FlowMetrics {
	id: string;
	name: string;
	received: number;
	succeeded: number;
	failed: number;
	authFailures: number;
	queued: number;
	/** Seconds since the oldest queued or retrying execution was received; 0 when none waits. */
	oldestQueuedAgeSeconds: number;
}

type Key = Exclude<keyof FlowMetrics, "id" | "name">;

/** Each metric is served twice: `hookflow_<name>` for all flows, `hookflow_flow_<name>{flow_id, flow_name}` per flow. */
const METRICS: readonly { key: Key; name: string; type: "counter" | "gauge"; help: string; total: "sum" | "max" }[] = [
	{ key: "received", name: "executions_received_total", type: "counter", help: "Executions accepted", total: "sum" },
	{ key: "succeeded", name: "executions_succeeded_total", type: "counter", help: "Executions that succeeded", total: "sum" },
	{ key: "failed", name: "executions_failed_total", type: "counter", help: "Executions that failed", total: "sum" },
	{ key: "queued", name: "executions_queued", type: "gauge", help: "Executions queued or retrying", total: "sum" },
	{
		key: "oldestQueuedAgeSeconds",
		name: "oldest_queued_age_seconds",
		type: "gauge",
		help: "Age of the oldest queued or retrying execution",
		total: "max",
	},
	{ key: "authFailures", name: "auth_failures_total", type: "counter", help: "Hook requests refused with 401", total: "sum" },
];

const label = (value: string) => value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');

export function metricsText(flows: readonly FlowMetrics[]): string {
	const sorted = [...flows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
	const lines: string[] = [];
	for (const metric of METRICS) {
		const values = sorted.map((f) => f[metric.key]);
		const total = metric.total === "sum" ? values.reduce((a, b) => a + b, 0) : Math.max(0, ...values);
		lines.push(`# HELP hookflow_${metric.name} ${metric.help}, all flows.`, `# TYPE hookflow_${metric.name} ${metric.type}`);
		lines.push(`hookflow_${metric.name} ${total}`);
		lines.push(`# HELP hookflow_flow_${metric.name} ${metric.help}, per flow.`, `# TYPE hookflow_flow_${metric.name} ${metric.type}`);
		for (const flow of sorted)
			lines.push(`hookflow_flow_${metric.name}{flow_id="${label(flow.id)}",flow_name="${label(flow.name)}"} ${flow[metric.key]}`);
	}
	return `${lines.join("\n")}\n`;
}
