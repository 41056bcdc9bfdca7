/**
 * @module
 * Charts of one flow or all flows from GET /api/stats: executions, latency and backlog over the
 * last hour, 24 hours or 7 days. uPlot and its CSS load on the first chart only.
 */
import { api } from "../lib/api.js";
import { fmtCount, fmtMs, h, poll } from "../lib/dom.js";

const UPLOT = "/vendor/uplot-1.6.32";
const MINUTE = 60_000;
/** [label, span, step]: about a hundred points each. @type {[string, number, number][]} */
const RANGES = [
	["Last hour", 60 * MINUTE, MINUTE],
	["24 hours", 1440 * MINUTE, 15 * MINUTE],
	["7 days", 10080 * MINUTE, 60 * MINUTE],
];
/**
 * [title, y-axis value format, series [key, label, colour variable], dots (a lone point has no line)]
 * @type {[title: string, format: (value: number | null | undefined) => string, lines: [key: string, label: string, colour: string][], dots?: boolean][]}
 */
const CHARTS = [
	[
		"Executions",
		fmtCount,
		// Drawn in this order: where the lines meet (at zero) the last one shows.
		[
			["received", "Received", "--info"],
			["failed", "Failed", "--bad"],
			["succeeded", "Succeeded", "--ok"],
		],
	],
	[
		"Latency, accepted to finished",
		fmtMs,
		[
			["p50Ms", "p50", "--accent"],
			["p95Ms", "p95", "--warn"],
		],
		true,
	],
	["Backlog", fmtCount, [["queued", "Queued", "--accent"]]],
];

const COUNT_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6];

let uPlotLoaded;
function loadUPlot() {
	uPlotLoaded ??= (() => {
		document.head.append(h("link", { rel: "stylesheet", href: `${UPLOT}.css` }));
		return import(`${UPLOT}.js`).then((module) => module.default);
	})();
	return uPlotLoaded;
}

const per = (step) => (step === MINUTE ? "minute" : step === 60 * MINUTE ? "hour" : `${step / MINUTE} min`);
const sum = (values) => values.reduce((a, b) => a + (b ?? 0), 0);
const max = (values) => values.reduce((a, b) => (b == null || (a != null && a >= b) ? a : b), null);

/** What each chart shows, in words: its caption for screen readers and a line under it for everyone. */
function summarize(title, s) {
	if (title === "Executions")
		return `${fmtCount(sum(s.received))} received, ${fmtCount(sum(s.succeeded))} succeeded, ${fmtCount(sum(s.failed))} failed.`;
	if (title === "Backlog") return max(s.queued) ? `at most ${fmtCount(max(s.queued))} queued.` : "nothing queued.";
	const p95 = max(s.p95Ms);
	return p95 == null ? "No execution finished." : `p50 up to ${fmtMs(max(s.p50Ms))}, p95 up to ${fmtMs(p95)}.`;
}

/** The charts section; `flowId` null charts every flow together. */
export function statsCharts(flowId, signal) {
	let range = /** @type {[string, number, number]} */ (RANGES[0]);
	/** The last GET /api/stats answer: `series` of number-or-null columns by key, `t` the times. @type {{ step: number, series: Record<string, (number | null)[]> } | null} */
	let stats = null;
	let charts = [];
	const figures = CHARTS.map((spec) => {
		const [title] = spec;
		const caption = h("figcaption", null, title);
		// The canvas and its hover legend are for the eye; the caption and summary say the same in words.
		const plot = h("div", { class: "plot", "aria-hidden": "true" });
		const summary = h("p", { class: "muted chart-summary" });
		return { spec, caption, plot, summary, el: h("figure", { class: "chart card" }, caption, plot, summary) };
	});
	const rangeButtons = RANGES.map((r) =>
		h("button", { type: "button", class: "small", "aria-pressed": String(r === range), onclick: () => choose(r) }, r[0]),
	);
	const el = h(
		"section",
		{ class: "charts", "aria-labelledby": "charts-title" },
		h(
			"div",
			{ class: "page-head" },
			h("h2", { id: "charts-title" }, "Activity"),
			h("div", { class: "row", role: "group", "aria-label": "Time range" }, rangeButtons),
		),
		h(
			"div",
			{ class: "chart-grid" },
			figures.map((f) => f.el),
		),
	);

	async function load() {
		const to = Date.now();
		const query = new URLSearchParams({ from: String(to - range[1]), to: String(to), step: String(range[2]) });
		if (flowId) query.set("flowId", flowId);
		stats = await api(`/stats?${query}`, { signal });
		await draw();
	}

	async function draw() {
		const uPlot = await loadUPlot();
		if (signal.aborted || !stats) return;
		const { series, step } = stats;
		const x = series.t;
		for (const [i, figure] of figures.entries()) {
			const [title, format, lines, dots] = figure.spec;
			const data = [x, ...lines.map(([key]) => series[key])];
			if (title === "Executions") figure.caption.textContent = `Executions per ${per(step)}`;
			figure.summary.textContent = `${range[0]}: ${summarize(title, series)}`;
			if (charts[i]) {
				charts[i].setData(data);
				continue;
			}
			const css = getComputedStyle(document.documentElement);
			const colour = (name) => css.getPropertyValue(name).trim();
			const axis = {
				stroke: colour("--muted"),
				grid: { stroke: colour("--border"), width: 1 },
				ticks: { stroke: colour("--border"), width: 1 },
			};
			charts[i] = new uPlot(
				{
					width: figure.plot.clientWidth || 300,
					height: 160,
					ms: 1,
					cursor: { y: false },
					scales: { y: { range: (_u, _min, high) => [0, Math.max(high, 1) * 1.1] } },
					// Counts tick at whole numbers only.
					axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map(format), ...(format === fmtCount && { incrs: COUNT_TICKS }) }],
					series: [
						{ label: "Time" },
						...lines.map(([, label, variable]) => ({
							label,
							stroke: colour(variable),
							width: 2,
							points: { show: !!dots },
							value: (_u, v) => format(v),
						})),
					],
				},
				data,
				figure.plot,
			);
		}
	}

	function rebuild() {
		for (const chart of charts) chart.destroy();
		charts = [];
		draw();
	}

	function choose(r) {
		range = r;
		for (const [i, button] of rangeButtons.entries()) button.setAttribute("aria-pressed", String(RANGES[i] === r));
		load().catch(report);
	}

	// Narrower or wider: resize in place. A new colour scheme: redraw with its colours.
	const resize = new ResizeObserver(() => {
		for (const [i, chart] of charts.entries()) chart.setSize({ width: figures[i]?.plot.clientWidth ?? 0, height: 160 });
	});
	const scheme = matchMedia("(prefers-color-scheme: dark)");
	scheme.addEventListener("change", rebuild, { signal });
	signal.addEventListener("abort", () => {
		resize.disconnect();
		for (const chart of charts) chart.destroy();
	});
	for (const figure of figures) resize.observe(figure.plot);

	let report = () => {};
	return {
		el,
		/** Draws now and refreshes every 15 s; errors go to `onError`. */
		start(onError) {
			report = onError;
			return poll(load, 15_000, signal, onError);
		},
	};
}
