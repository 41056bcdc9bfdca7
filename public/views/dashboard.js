/**
 * @module
 * Dashboard: counters per flow and in total, refreshed every ~2 s while the page is visible.
 */
import { alertBox, fmtCount, fmtLag, h } from "../lib/dom.js";
import { alertTargets } from "./alerts.js";
import { statsCharts } from "./charts.js";
import { COUNTERS, flowTable, LAG_LABEL, pollFlows } from "./flow-table.js";

// `extra`: counters shown beside the usual ones (the run log adds providers' handshakes answered).
export function counterTiles(label, extra = []) {
	const shown = [...COUNTERS, ...extra];
	const values = Object.fromEntries(shown.map(([key]) => [key, h("span", { class: "tile-value" }, "0")]));
	const lag = h("span", { class: "tile-value" }, "—");
	const el = h(
		"dl",
		{ class: `tiles`, "aria-label": label },
		shown.map(([key, title]) => h("div", { class: `tile tile-${key}` }, h("dt", null, title), h("dd", null, values[key]))),
		h("div", { class: "tile tile-lag" }, h("dt", null, LAG_LABEL), h("dd", null, lag)),
	);
	const update = (counters) => {
		for (const [key] of shown) values[key].textContent = fmtCount(counters?.[key]);
		lag.textContent = fmtLag(counters?.oldestQueuedAt);
	};
	return { el, update };
}

export async function dashboardView(main, { signal }) {
	const alert = alertBox();
	const totals = counterTiles("Totals over all flows");
	const table = flowTable("Executions per flow", (flow) => `#/dashboard/${flow.id}`);
	const empty = h("p", { class: "empty", hidden: true }, "No flows yet.");
	const charts = statsCharts(null, signal);
	const alerts = alertTargets(null, signal);
	main.append(
		h(
			"div",
			{ class: "page-head" },
			h("h1", { tabindex: -1 }, "Dashboard"),
			h("p", { class: "muted" }, "Live: refreshes every 2 seconds."),
		),
		alert.el,
		h("h2", null, "Totals"),
		totals.el,
		charts.el,
		h("h2", null, "Flows"),
		h("p", { class: "muted" }, "Open a flow to see its run log."),
		table.el,
		empty,
		alerts.el,
	);
	charts.start(alert.show);
	alerts.load().catch(alert.show);
	// The API adds the totals up, the oldest queued execution included.
	await pollFlows(table, empty, signal, alert.show, (_flows, sum) => totals.update(sum));
}
