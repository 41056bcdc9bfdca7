// The flows table shared by the flows list and the dashboard: status, version and counters.
import { api } from "../lib/api.js";
import { flowBadge, fmtCount, h, poll, syncRows, td } from "../lib/dom.js";

/** @typedef {import("../../src/api/responses.ts").FlowView} FlowView */

/** @type {[keyof FlowView["counters"], string][]} */
export const COUNTERS = [
	["received", "Received"],
	["succeeded", "Succeeded"],
	["failed", "Failed"],
	["inFlight", "In flight"],
	["authFailures", "Auth failures"],
];

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
 * @param {(flows: FlowView[]) => void} [onFlows]
 */
export function pollFlows(table, empty, signal, onError, onFlows = () => {}) {
	return poll(
		async () => {
			/** @type {{ flows: FlowView[] }} */
			const { flows } = await api("/flows", { signal });
			onFlows(flows);
			table.update(flows);
			table.el.hidden = !flows.length;
			empty.hidden = !!flows.length;
		},
		2000,
		signal,
		onError,
	);
}
