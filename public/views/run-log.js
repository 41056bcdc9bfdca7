/**
 * @module
 * Run log of one flow: live counters, charts, executions newest first, search (kept in the URL),
 * cursor paging, bulk replay and the flow's alert targets.
 */
import { api } from "../lib/api.js";
import { alertBox, announce, badge, fmtMs, fmtTime, h, poll, syncRows, td } from "../lib/dom.js";
import { alertTargets } from "./alerts.js";
import { bulkReplay } from "./bulk-replay.js";
import { statsCharts } from "./charts.js";
import { counterTiles } from "./dashboard.js";
import { runLogSearch } from "./run-log-search.js";

const PAGE_SIZE = 20;

/**
 * @param {HTMLElement} main
 * @param {import("../app.js").ViewContext} context
 */
export async function runLogView(main, { signal, params: [flowId], query }) {
	const alert = alertBox();
	const title = h("h1", { tabindex: -1 }, "Run log");
	const counters = counterTiles("Executions of this flow", [["handshakes", "Handshakes answered"]]);
	const charts = statsCharts(flowId, signal);
	const search = runLogSearch(query, (filters) => {
		// A new entry in the history, so Back returns to the previous search.
		const hash = `#/dashboard/${flowId}${filters.size ? `?${filters}` : ""}`;
		if (hash !== location.hash) history.pushState(null, "", hash);
		reset();
	});
	const replay = bulkReplay(flowId, search.filters, signal, () => refresh());
	const alerts = alertTargets(flowId, signal);
	const paused = h(
		"p",
		{ class: "notice", hidden: true },
		"Paused: hooks are still accepted and wait here, in order. ",
		h("a", { href: `#/flows/${flowId}` }, "Resume in the designer"),
		".",
	);
	const tbody = h("tbody");
	const empty = h("p", { class: "empty", hidden: true }, "No executions yet.");
	const newer = h("button", { type: "button", onclick: () => turn(-1) }, "Newer");
	const older = h("button", { type: "button", onclick: () => turn(1) }, "Older");
	const pageInfo = h("span", { class: "muted" });
	// cursors[i] fetches page i; page 0 has no cursor.
	/** @type {(string | null)[]} */
	let cursors = [null];
	let page = 0;
	/** @type {string | null} */
	let next = null;

	async function load() {
		const query = search.filters();
		query.set("limit", String(PAGE_SIZE));
		const cursor = cursors[page];
		if (cursor) query.set("cursor", cursor);
		/** @type {[{ flow: import("../../src/api/responses.ts").FlowView }, import("../../src/api/responses.ts").ExecutionsPage]} */
		const [{ flow }, { executions, nextCursor, statuses }] = await Promise.all([
			api(`/flows/${flowId}`, { signal }),
			api(`/flows/${flowId}/executions?${query}`, { signal }),
		]);
		title.textContent = `Run log: ${flow.name}`;
		search.setStatuses(statuses);
		counters.update(flow.counters);
		paused.hidden = flow.status !== "paused";
		next = nextCursor;
		syncRows(tbody, executions, row);
		empty.hidden = executions.length > 0;
		newer.disabled = page === 0;
		older.disabled = !next;
		pageInfo.textContent = `Page ${page + 1}`;
	}

	const row = (execution) =>
		h(
			"tr",
			null,
			td(
				"Execution",
				h("a", { href: `#/executions/${execution.id}`, class: "code" }, execution.id.slice(0, 8)),
				execution.replayOf ? h("span", { class: "tag", title: `Replay of ${execution.replayOf}` }, "replay") : "",
			),
			td("Received", fmtTime(execution.receivedAt)),
			td("Status", badge(execution.status)),
			td("Version", `v${execution.version}`),
			td("Attempts", String(execution.attempts)),
			td("Duration", fmtMs(execution.durationMs)),
			td("Error", execution.error ?? ""),
			td(
				"",
				execution.status === "failed"
					? h("button", { type: "button", class: "small", onclick: (e) => retry(execution.id, e.currentTarget) }, "Retry")
					: "",
			),
		);

	const report = (error) => alert.show(error);
	const refresh = () => load().then(() => report(null), report);

	function reset() {
		cursors = [null];
		page = 0;
		refresh();
	}

	function turn(delta) {
		if (delta > 0) cursors[page + 1] = next;
		page += delta;
		refresh();
	}

	async function retry(id, button) {
		button.disabled = true;
		try {
			await api(`/executions/${id}/retry`, { method: "POST", signal });
			announce("Execution queued for retry.");
			await refresh();
		} catch (error) {
			report(error);
			button.disabled = false;
		}
	}

	main.append(
		h(
			"p",
			{ class: "crumbs" },
			h("a", { href: "#/dashboard" }, "Dashboard"),
			" / ",
			h("a", { href: `#/flows/${flowId}` }, "Open in designer"),
		),
		h("div", { class: "page-head" }, title),
		alert.el,
		paused,
		counters.el,
		charts.el,
		h("h2", null, "Executions"),
		search.el,
		replay.el,
		h(
			"div",
			{ class: "table-wrap" },
			h(
				"table",
				{ class: "data" },
				h("caption", { class: "visually-hidden" }, "Executions, newest first"),
				h(
					"thead",
					null,
					h(
						"tr",
						null,
						["Execution", "Received", "Status", "Version", "Attempts", "Duration", "Error"].map((c) => h("th", { scope: "col" }, c)),
						h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
					),
				),
				tbody,
			),
		),
		empty,
		h("nav", { class: "pager", "aria-label": "Run log pages" }, newer, pageInfo, older),
		alerts.el,
	);
	charts.start(report);
	alerts.load().catch(report);
	await poll(load, 2000, signal, report);
}
