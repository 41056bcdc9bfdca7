// Run log of one flow: live counters, executions newest first, status filter, cursor paging.
import { api } from "../lib/api.js";
import { alertBox, announce, badge, fmtMs, fmtTime, h, poll, syncRows, td } from "../lib/dom.js";
import { counterTiles } from "./dashboard.js";

const STATUSES = ["queued", "running", "retrying", "succeeded", "failed"];
const PAGE_SIZE = 20;

export async function runLogView(main, { signal, params: [flowId] }) {
	const alert = alertBox();
	const title = h("h1", { tabindex: -1 }, "Run log");
	const counters = counterTiles("Executions of this flow");
	const paused = h(
		"p",
		{ class: "notice", hidden: true },
		"Paused: hooks are still accepted and wait here, in order. ",
		h("a", { href: `#/flows/${flowId}` }, "Resume in the designer"),
		".",
	);
	const filter = h(
		"select",
		{ id: "status-filter", onchange: () => reset() },
		h("option", { value: "" }, "All statuses"),
		STATUSES.map((s) => h("option", { value: s }, s[0].toUpperCase() + s.slice(1))),
	);
	const retryAll = h("button", { type: "button", onclick: retryFailed }, "Retry all failed");
	const tbody = h("tbody");
	const empty = h("p", { class: "empty", hidden: true }, "No executions yet.");
	const newer = h("button", { type: "button", onclick: () => turn(-1) }, "Newer");
	const older = h("button", { type: "button", onclick: () => turn(1) }, "Older");
	const pageInfo = h("span", { class: "muted" });
	// cursors[i] fetches page i; page 0 has no cursor.
	let cursors = [null];
	let page = 0;
	let next = null;

	async function load() {
		const query = new URLSearchParams({ limit: PAGE_SIZE });
		if (filter.value) query.set("status", filter.value);
		if (cursors[page]) query.set("cursor", cursors[page]);
		const [{ flow }, { executions, nextCursor }] = await Promise.all([
			api(`/flows/${flowId}`, { signal }),
			api(`/flows/${flowId}/executions?${query}`, { signal }),
		]);
		title.textContent = `Run log: ${flow.name}`;
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
			td("Execution", h("a", { href: `#/executions/${execution.id}`, class: "code" }, execution.id.slice(0, 8))),
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

	async function retryFailed() {
		retryAll.disabled = true;
		try {
			const { retried } = await api(`/flows/${flowId}/retry-failed`, { method: "POST", signal });
			announce(retried === 1 ? "Retried 1 failed execution." : `Retried ${retried} failed executions.`);
			await refresh();
		} catch (error) {
			report(error);
		} finally {
			retryAll.disabled = false;
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
		h("div", { class: "toolbar" }, h("div", { class: "field-inline" }, h("label", { for: "status-filter" }, "Status"), filter), retryAll),
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
	);
	await poll(load, 2000, signal, report);
}
