/**
 * @module
 * Execution details: the timeline of its steps (status, duration, attempts, request, response,
 * error; split items grouped), input, last request and response, every attempt; retry when failed.
 */
import { api } from "../lib/api.js";
import { alertBox, announce, badge, fmtMs, fmtTime, h, poll, pretty, td, uid } from "../lib/dom.js";

/** @typedef {import("../../src/api/responses.ts").ExecutionView} ExecutionView */
/** @typedef {import("../../src/api/responses.ts").StepRunView} StepRunView */

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

/** A run's place in the definition, to compare: its path with each split's item (from its key). @param {StepRunView} run */
function placeOf(run) {
	const items = run.key
		.split("/")
		.slice(0, -1)
		.map((scope) => Number(/\[(\d+)\]$/.exec(scope)?.[1] ?? 0));
	const parts = run.path.split(".");
	/** @type {number[]} */
	const place = [Number(parts[1])];
	for (let i = 2; i < parts.length; ) {
		const part = parts[i];
		if (part === "steps") place.push(0, items.shift() ?? 0, Number(parts[i + 1]));
		else if (part === "routes") place.push(1, Number(parts[i + 1]), Number(parts[i + 3]));
		else place.push(2, 0, Number(parts[i + 1]));
		i += part === "routes" ? 4 : 2;
	}
	return place;
}

/** The engine records a router or split after the steps inside it. @param {StepRunView[]} runs */
function definitionOrder(runs) {
	const places = new Map(runs.map((run) => [run, placeOf(run)]));
	return [...runs].sort((a, b) => {
		const x = places.get(a) ?? [];
		const y = places.get(b) ?? [];
		for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
		return x.length - y.length;
	});
}

/**
 * @param {HTMLElement} main
 * @param {{ signal: AbortSignal, params: string[] }} context
 */
export async function executionView(main, { signal, params: [id] }) {
	const alert = alertBox();
	const body = h("div", { class: "stack" });
	let shown = "";
	/** Step names by id, from the flow's draft. @type {Record<string, string>} */
	const names = {};
	let flowId = "";

	async function load() {
		/** @type {{ execution: ExecutionView }} */
		const { execution } = await api(`/executions/${id}`, { signal });
		if (!flowId) await loadNames(execution.flowId);
		const json = JSON.stringify(execution);
		// Re-render only on change so selection and scrolling in the code blocks survive polling.
		if (json !== shown) {
			shown = json;
			render(execution);
		}
	}

	/** Names make the timeline readable (the run log keeps ids): the flow's draft's, read once. @param {string} of */
	async function loadNames(of) {
		flowId = of;
		const { flow } = await api(`/flows/${of}`, { signal }).catch(() => ({ flow: null }));
		const visit = (steps) => {
			for (const s of steps ?? []) {
				if (s.id && s.name) names[s.id] = s.name;
				visit(s.steps);
				visit(s.otherwise);
				for (const r of s.routes ?? []) visit(r.steps);
			}
		};
		visit(flow?.draft?.steps);
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

	/** @param {StepRunView} run */
	const stepLabel = (run) => names[run.id] ?? run.id;

	/** One step run: its status, duration and attempts; request, response and error when opened (open when it failed). @param {StepRunView} run */
	function stepRun(run) {
		const failed = run.status === "failed";
		return h(
			"li",
			null,
			h(
				"details",
				{ class: `card step-run${failed ? " step-failed" : ""}`, open: failed },
				h(
					"summary",
					null,
					badge(run.status),
					" ",
					h("strong", null, stepLabel(run)),
					h("span", { class: "muted" }, ` ${run.id} · ${fmtMs(run.durationMs)} · ${run.attempts} attempt${run.attempts === 1 ? "" : "s"}`),
				),
				run.error ? h("p", { class: "alert" }, run.error) : null,
				run.request
					? [
							h("h3", null, "Request"),
							code(`${run.request.method} ${run.request.url}${run.request.body === undefined ? "" : `\n${pretty(run.request.body)}`}`),
						]
					: null,
				run.response ? [h("h3", null, `Response: HTTP ${run.response.status}`), code(run.response.body ?? "")] : null,
				run.request || run.response || run.error ? null : h("p", { class: "muted" }, "A logic step: no call."),
			),
		);
	}

	/** The step runs in definition order (a router or split before the steps inside it), a split's item runs grouped by item. @param {StepRunView[]} runs */
	function timeline(runs) {
		/** @type {import("../lib/dom.js").Child[]} */
		const out = [];
		let group = "";
		/** @type {HTMLOListElement | null} */
		let items = null;
		for (const run of definitionOrder(runs)) {
			const at = run.key.lastIndexOf("/");
			const prefix = at === -1 ? "" : run.key.slice(0, at);
			if (!prefix) {
				group = "";
				out.push(stepRun(run));
				continue;
			}
			if (prefix !== group) {
				group = prefix;
				items = h("ol", { class: "timeline" });
				// The prefix ends with the split's instance: <split id>[<item>].
				const split = prefix.slice(prefix.lastIndexOf("/") + 1).replace(/\[\d+\]$/, "");
				out.push(
					h(
						"li",
						{ class: "split-item" },
						h("p", { class: "lane-title" }, `Item ${(run.item ?? 0) + 1} of “${names[split] ?? split}”`),
						items,
					),
				);
			}
			items?.append(stepRun(run));
		}
		return h("ol", { class: "timeline" }, out);
	}

	/** @param {ExecutionView} x */
	function render(x) {
		const failedStep = x.steps.find((s) => s.status === "failed");
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
						h(
							"p",
							{ class: "hint" },
							failedStep
								? `Retry resumes at the step that failed, “${stepLabel(failedStep)}”: the steps before it are not run again.`
								: "Retry runs the execution again.",
						),
					)
				: null,
			x.steps.length ? section("Steps", timeline(x.steps)) : null,
			section("Input message", code(x.input)),
			section(
				x.steps.length > 1 ? "Last request" : "Mapped request",
				x.request ? code(x.request) : h("p", { class: "muted" }, "The mapping produced no request."),
			),
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
			back.href = `#/dashboard/${flowId}`;
			back.textContent = "Run log";
		},
		2000,
		signal,
		alert.show,
	);
}
