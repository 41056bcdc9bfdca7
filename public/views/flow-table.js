/**
 * @module
 * The flows table shared by the flows list and the dashboard: status, version and counters.
 */
import { api } from "../lib/api.js";
import { flowBadge, fmtCount, fmtLag, h, poll, syncRows, td } from "../lib/dom.js";

/** @typedef {import("../../src/api/responses.ts").FlowView} FlowView */

/** The counts shown per flow and in total. @type {[Exclude<keyof FlowView["counters"], "paused" | "oldestQueuedAt">, string][]} */
export const COUNTERS = [
	["received", "Received"],
	["succeeded", "Succeeded"],
	["failed", "Failed"],
	["inFlight", "In flight"],
	["queued", "Queued"],
	["authFailures", "Auth failures"],
];
// Next to the counters: how long the oldest queued execution has been waiting.
export const LAG_LABEL = "Lag";

export function flowTable(caption, linkTo) {
	const tbody = h("tbody");
	const table = h(
		"table",
		{ class: "data" },
		h("caption", { class: "visually-hidden" }, caption),
		h(
			"thead",
			null,
			h(
				"tr",
				null,
				h("th", { scope: "col" }, "Flow"),
				h("th", { scope: "col" }, "Status"),
				h("th", { scope: "col" }, "Version"),
				COUNTERS.map(([, label]) => h("th", { scope: "col", class: "num" }, label)),
				h("th", { scope: "col", class: "num" }, LAG_LABEL),
			),
		),
		tbody,
	);
	const update = (/** @type {FlowView[]} */ flows) =>
		syncRows(tbody, flows, (flow) =>
			h(
				"tr",
				null,
				td("Flow", h("a", { href: linkTo(flow) }, flow.name)),
				td("Status", flowBadge(flow)),
				td("Version", flow.version == null ? "Not published" : `v${flow.version}`),
				COUNTERS.map(([key, label]) => h("td", { "data-label": label, class: "num" }, fmtCount(flow.counters?.[key]))),
				h("td", { "data-label": LAG_LABEL, class: "num" }, fmtLag(flow.counters?.oldestQueuedAt)),
			),
		);
	return { el: h("div", { class: "table-wrap" }, table), update };
}

/**
 * Polls the flows every 2 s into `table`, showing `empty` instead while there are none.
 * @param {ReturnType<typeof flowTable>} table
 * @param {HTMLElement} empty
 * @param {AbortSignal} signal
 * @param {(error: unknown) => void} onError
 * @param {(flows: FlowView[], totals: import("../../src/api/responses.ts").TotalCounters) => void} [onFlows]
 */
export function pollFlows(table, empty, signal, onError, onFlows = () => {}) {
	return poll(
		async () => {
			/** @type {import("../../src/api/responses.ts").FlowList} */
			const { flows, totals } = await api("/flows", { signal });
			onFlows(flows, totals);
			table.update(flows);
			table.el.hidden = !flows.length;
			empty.hidden = !!flows.length;
		},
		2000,
		signal,
		onError,
	);
}
