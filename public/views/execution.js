/**
 * @module
 * Execution details: input, mapped request, response or error, every attempt; retry when failed.
 */
import { api } from "../lib/api.js";
import { alertBox, announce, badge, fmtMs, fmtTime, h, poll, pretty, td, uid } from "../lib/dom.js";

/** @typedef {import("../../src/api/responses.ts").ExecutionView} ExecutionView */

/**
 * @param {string} title
 * @param {...import("../lib/dom.js").Child} content
 */
function section(title, ...content) {
	const id = uid("section");
	return h("section", { class: "card stack", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}
/** @param {unknown} value */
const code = (value) => h("pre", { class: "code", tabindex: 0 }, typeof value === "string" ? value : pretty(value));

/**
 * @param {HTMLElement} main
 * @param {{ signal: AbortSignal, params: string[] }} context
 */
export async function executionView(main, { signal, params: [id] }) {
	const alert = alertBox();
	const body = h("div", { class: "stack" });
	let shown = "";

	async function load() {
		/** @type {{ execution: ExecutionView }} */
		const { execution } = await api(`/executions/${id}`, { signal });
		const json = JSON.stringify(execution);
		// Re-render only on change so selection and scrolling in the code blocks survive polling.
		if (json !== shown) {
			shown = json;
			render(execution);
		}
	}

	/** @param {HTMLButtonElement} button */
	async function retry(button) {
		button.disabled = true;
		try {
			await api(`/executions/${id}/retry`, { method: "POST", signal });
			announce("Execution queued for retry.");
			await load();
		} catch (error) {
			alert.show(error);
			button.disabled = false;
		}
	}

	/** @param {ExecutionView} x */
	function render(x) {
		/** @type {[string, import("../lib/dom.js").Child][]} */
		const facts = [
			["Status", badge(x.status)],
			["Flow version", `v${x.version}`],
			["Received", fmtTime(x.receivedAt)],
			["Finished", fmtTime(x.finishedAt)],
			["Duration", fmtMs(x.durationMs)],
			["Attempts", String(x.attempts.length)],
		];
		const response = x.response
			? [h("p", null, `HTTP ${x.response.status}`), code(x.response.body ?? "")]
			: [h("p", { class: "muted" }, "No response from the Petstore.")];
		const parts = [
			h(
				"dl",
				{ class: "facts" },
				facts.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v))),
			),
			x.error ? h("div", { class: "alert" }, h("p", null, h("strong", null, "Error: "), x.error)) : null,
			x.status === "failed"
				? h(
						"div",
						{ class: "row" },
						h(
							"button",
							{
								class: "primary",
								type: "button",
								onclick: (/** @type {MouseEvent} */ e) => retry(/** @type {HTMLButtonElement} */ (e.currentTarget)),
							},
							"Retry",
						),
					)
				: null,
			section("Input message", code(x.input)),
			section("Mapped request", x.request ? code(x.request) : h("p", { class: "muted" }, "The mapping produced no request.")),
			section("Response", ...response),
			section(
				"Attempts",
				h(
					"div",
					{ class: "table-wrap" },
					h(
						"table",
						{ class: "data" },
						h(
							"thead",
							null,
							h(
								"tr",
								null,
								["#", "Started", "Duration", "HTTP status", "Outcome", "Error"].map((c) => h("th", { scope: "col" }, c)),
							),
						),
						h(
							"tbody",
							null,
							x.attempts.map((a) =>
								h(
									"tr",
									null,
									td("#", String(a.n)),
									td("Started", fmtTime(a.startedAt)),
									td("Duration", fmtMs(a.durationMs)),
									td("HTTP status", a.status == null ? "—" : String(a.status)),
									td("Outcome", badge(a.outcome)),
									td("Error", a.error ?? ""),
								),
							),
						),
					),
				),
				x.attempts.length ? null : h("p", { class: "muted" }, "No attempt yet."),
			),
		];
		body.replaceChildren(...parts.flatMap((part) => (part ? [part] : [])));
	}

	const back = h("a", { href: "#/dashboard" }, "Dashboard");
	main.append(
		h("p", { class: "crumbs" }, back),
		h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Execution ", h("code", null, id))),
		alert.el,
		body,
	);
	await poll(
		async () => {
			await load();
			const flowId = JSON.parse(shown).flowId;
			back.href = `#/dashboard/${flowId}`;
			back.textContent = "Run log";
		},
		2000,
		signal,
		alert.show,
	);
}
