/**
 * @module
 * Bulk replay of the executions matching the run-log search: Retry failed or Replay, run as a
 * background job whose progress is polled until it ends; Cancel stops it.
 */
import { api } from "../lib/api.js";
import { alertBox, announce, h, poll } from "../lib/dom.js";

const MODES = {
	retryFailed: [
		"Retry failed",
		"Retry the failed executions that match the search? Each keeps its history and joins the back of the queue.",
	],
	replay: ["Replay", "Replay every execution that matches the search? Each runs again as a new execution on the live version."],
};
const NUMERIC = new Set(["from", "to", "version"]);

/** `filters()` gives the search's current filters (URLSearchParams); `onProgress()` after each poll. */
export function bulkReplay(flowId, filters, signal, onProgress) {
	const alert = alertBox();
	const question = h("p");
	/** @type {"retryFailed" | "replay" | null} */
	let mode = null;
	/** The job being followed, as the API last answered it. @type {{ id: string, done: number, total: number, state: string, skipped?: number, error?: string | null }} */
	let job = { id: "", done: 0, total: 0, state: "idle" };
	/** @type {AbortController | undefined} */
	let stop;
	const confirmBox = h(
		"div",
		{ class: "stack", hidden: true },
		question,
		h(
			"div",
			{ class: "row" },
			h("button", { type: "button", class: "primary", onclick: start }, "Start"),
			h("button", { type: "button", onclick: () => ask(null) }, "Cancel"),
		),
	);
	const bar = h("progress", { max: 1, value: 0, "aria-label": "Replay progress" });
	const count = h("span", { class: "muted" });
	const cancel = h("button", { type: "button", class: "small", onclick: cancelJob }, "Cancel replay");
	const progress = h("div", { class: "progress job", hidden: true }, bar, count, cancel);
	const result = h("p", { role: "status", hidden: true });
	const buttons = /** @type {["retryFailed" | "replay", string[]][]} */ (Object.entries(MODES)).map(([key, [label]]) =>
		h("button", { type: "button", onclick: () => ask(key) }, label),
	);

	/** @param {"retryFailed" | "replay" | null} chosen */
	function ask(chosen) {
		mode = chosen;
		confirmBox.hidden = !chosen;
		for (const button of buttons) button.disabled = !!chosen;
		if (chosen) question.textContent = MODES[chosen][1] ?? "";
		(chosen ? confirmBox.querySelector("button") : buttons[0])?.focus();
	}

	async function start() {
		const body = { mode, filters: Object.fromEntries([...filters()].map(([k, v]) => [k, NUMERIC.has(k) ? Number(v) : v])) };
		confirmBox.hidden = true;
		alert.show(null);
		result.hidden = true;
		try {
			const { jobId } = await api(`/flows/${flowId}/replay`, { method: "POST", body, signal });
			job = { id: jobId, done: 0, total: 0, state: "running" };
			show(job);
			progress.hidden = false;
			cancel.hidden = false;
			cancel.disabled = false;
			cancel.focus();
			stop = new AbortController();
			const follow = AbortSignal.any([signal, stop.signal]);
			poll(
				async () => {
					const data = await api(`/jobs/${jobId}`, { signal: follow });
					show(data.job ?? data);
					onProgress();
					if (job.state !== "running") finish();
				},
				1000,
				follow,
				alert.show,
			);
		} catch (error) {
			alert.show(error);
			ask(null);
		}
	}

	/** @param {Partial<typeof job>} state */
	function show(state) {
		job = { ...job, ...state };
		bar.max = Math.max(job.total, 1);
		bar.value = job.done;
		count.textContent = `${job.done} of ${job.total}`;
	}

	function finish() {
		stop?.abort();
		const { done, total, state, skipped, error } = job;
		const noun = mode === "retryFailed" ? "Retried" : "Replayed";
		result.textContent =
			state === "done"
				? `${noun} ${done} of ${total} executions.${skipped ? ` ${skipped} skipped: their payload was purged.` : ""}`
				: state === "cancelled"
					? `Cancelled after ${done} of ${total}.`
					: `Stopped after ${done} of ${total}: ${error ?? "the job failed"}.`;
		result.hidden = false;
		cancel.hidden = true;
		announce(result.textContent);
		ask(null);
	}

	async function cancelJob() {
		cancel.disabled = true;
		try {
			await api(`/jobs/${job.id}`, { method: "DELETE", signal });
		} catch (error) {
			alert.show(error);
			cancel.disabled = false;
		}
	}

	const el = h(
		"section",
		{ class: "card stack", "aria-labelledby": "replay-title" },
		h("h2", { id: "replay-title" }, "Bulk replay"),
		h("p", { class: "muted" }, "Acts on every execution that matches the search, oldest first, in the flow's order."),
		h("div", { class: "row wrap" }, buttons),
		confirmBox,
		progress,
		result,
		alert.el,
	);
	return { el };
}
