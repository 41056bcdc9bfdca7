/**
 * @module
 * Flow designer: the trigger and action steps as a guided sequence of stages, then Publish
 * Draft, Start/Stop and the hook URL. The draft is saved through PUT /draft as it takes shape.
 */
import { api } from "../../lib/api.js";
import { alertBox, announce, flowBadge, h } from "../../lib/dom.js";
import { componentChooser } from "./component-chooser.js";
import { credentialsStage } from "./credentials.js";
import { deliverySection } from "./delivery.js";
import { hookPanel } from "./hook-url.js";
import { mappingStage } from "./mapping.js";
import { retrieveStage } from "./retrieve-sample.js";
import { sampleStage } from "./sample.js";
import { summaryStage } from "./summary.js";

const STAGES = {
	trigger: ["Component", "Credentials", "Sample", "Summary"],
	action: ["Component", "Credentials", "Mapping", "Retrieve sample", "Summary"],
};

/**
 * @param {HTMLElement} main
 * @param {import("../../app.js").ViewContext} context
 */
export async function designerView(main, { signal, params: [flowId] }) {
	const [loaded, { components }, settings] = await Promise.all([
		api(`/flows/${flowId}`, { signal }),
		api("/components", { signal }),
		api("/flow-settings", { signal }),
	]);
	let flow = loaded.flow;
	const byId = Object.fromEntries(components.map((c) => [c.id, c]));
	const draft = { trigger: null, steps: [], ...structuredClone(flow.draft ?? {}) };

	// Where the user is in each step: the open stage and the furthest stage reached. A saved
	// draft always has credentials, so a reopened flow resumes after them.
	const pos = { trigger: { stage: 0, reached: 0 }, action: { stage: 0, reached: 0 } };
	if (draft.trigger?.credentialId) pos.trigger = { stage: draft.trigger.name ? 3 : 2, reached: 3 };
	if (draft.steps[0]?.credentialId) pos.action = { stage: 2, reached: 4 };
	let selected = draft.trigger?.name ? "action" : "trigger";

	const flowAlert = alertBox();
	const title = h("h1", { tabindex: -1 }, flow.name);
	const meta = h("p", { class: "meta" });
	const hint = h("p", { class: "hint" });
	const publishBtn = h("button", { type: "button", class: "primary", onclick: publish }, "Publish Draft");
	const startBtn = h("button", { type: "button", onclick: () => toggle("start") }, "Start");
	const stopBtn = h("button", { type: "button", onclick: () => toggle("stop") }, "Stop");
	const pauseBtn = h("button", { type: "button", onclick: () => toggle("pause") }, "Pause");
	const resumeBtn = h("button", { type: "button", class: "primary", onclick: () => toggle("resume") }, "Resume");
	const deleteBtn = h("button", { type: "button", class: "danger", onclick: remove }, "Delete flow");
	const hook = h("div");
	const stepsNav = h("nav", { class: "steps", "aria-label": "Flow steps" });
	const panel = h("section", { class: "card panel", "aria-label": "Step configuration" });
	const delivery = h("div");
	const credentialCache = new Map();
	let stageCtrl;

	const complete = () => {
		const step = draft.steps[0];
		return !!(draft.trigger?.credentialId && step?.credentialId && step.mapping?.name && step.mapping?.status);
	};

	// Saves are chained so they reach the server in order; the body is taken when each runs.
	let saving = Promise.resolve();
	function save() {
		const run = saving
			.catch(() => {})
			.then(() => {
				if (!draft.trigger?.credentialId) return null;
				// Everything the draft holds (delivery, rate limit, retry policy), unfinished steps left out.
				const body = { ...draft, steps: draft.steps.filter((s) => s.credentialId) };
				return api(`/flows/${flowId}/draft`, { method: "PUT", body, signal });
			});
		saving = run.then((result) => {
			if (result) flow = result.flow;
			renderHead();
		});
		return saving;
	}

	function renderHead() {
		meta.replaceChildren(flowBadge(flow), flow.version == null ? "Not published yet" : `Published version ${flow.version}`);
		publishBtn.disabled = !complete();
		startBtn.hidden = flow.status === "running" || flow.status === "paused";
		startBtn.disabled = flow.version == null;
		stopBtn.hidden = flow.status !== "running";
		pauseBtn.hidden = flow.status !== "running";
		resumeBtn.hidden = flow.status !== "paused";
		hint.textContent = !complete()
			? "Finish both steps, then Publish Draft."
			: flow.version == null
				? "Publish Draft creates version 1; then Start."
				: flow.status === "running"
					? "Running. Publishing again switches new executions to the new version. Pause holds deliveries and keeps accepting hooks."
					: flow.status === "paused"
						? "Paused: the hook URL still accepts requests; their deliveries wait, in order, until Resume."
						: "";
		renderHook();
		renderDelivery();
	}

	// The Delivery section appears once the draft can be saved (it has a trigger credential).
	function renderDelivery() {
		if (delivery.firstChild || !draft.trigger?.credentialId) return;
		delivery.append(deliverySection({ draft, settings, signal, save }));
	}

	async function renderHook() {
		if (flow.version == null) return hook.replaceChildren();
		const id = draft.trigger?.credentialId;
		if (id && !credentialCache.has(id)) {
			credentialCache.set(
				id,
				api(`/credentials/${id}`, { signal }).then(
					(r) => r.credential,
					() => null,
				),
			);
		}
		const credential = id ? await credentialCache.get(id) : null;
		hook.replaceChildren(hookPanel({ flow, credential, sample: draft.trigger?.sample, accepting: settings.acceptingStatuses }));
	}

	function renderSteps() {
		const card = (key, n, kind, step, fallback, disabled) => {
			const component = step && byId[step.component];
			const action = component?.actions?.find((a) => a.id === step.action);
			return h(
				"li",
				null,
				h(
					"button",
					{ type: "button", class: "step-card", "aria-current": selected === key ? "step" : null, disabled, onclick: () => select(key) },
					h("span", { class: "step-kind" }, `${n}. ${kind}`),
					h("span", { class: "step-title" }, component ? [component.title, action ? ` · ${action.title}` : ""] : fallback),
					h("span", { class: "step-state" }, step?.name ? `✓ ${step.name}` : step ? "In progress" : "Not set up"),
				),
			);
		};
		stepsNav.replaceChildren(
			h(
				"ol",
				null,
				card("trigger", 1, "Trigger", draft.trigger, "Choose a trigger", false),
				card("action", 2, "Action", draft.steps[0], "Choose an action", !draft.trigger?.name),
			),
		);
	}

	function select(key) {
		selected = key;
		renderPanel();
	}

	function go(key, stage) {
		selected = key;
		pos[key].stage = stage;
		pos[key].reached = Math.max(pos[key].reached, stage);
		renderPanel();
	}

	function stageView(key, stage, stageSignal) {
		const isTrigger = key === "trigger";
		const step = isTrigger ? draft.trigger : draft.steps[0];
		const name = STAGES[key][stage];
		if (name === "Component") {
			return componentChooser({
				components,
				kind: isTrigger ? "trigger" : "action",
				onChoose(component) {
					if (step?.component !== component.id) {
						const fresh = isTrigger
							? { component: component.id }
							: { component: component.id, action: component.actions[0].id, mapping: {} };
						if (isTrigger) draft.trigger = fresh;
						else draft.steps[0] = fresh;
					}
					go(key, 1);
				},
			});
		}
		if (name === "Credentials") {
			const { el } = credentialsStage({
				component: byId[step.component],
				selectedId: step.credentialId,
				signal: stageSignal,
				async onSelect(id) {
					step.credentialId = id;
					await save();
				},
				onContinue: () => go(key, 2),
			});
			return el;
		}
		if (name === "Sample") return sampleStage({ trigger: step, flowId, signal: stageSignal, save, next: () => go(key, 3) });
		if (name === "Mapping") {
			return mappingStage({
				component: byId[step.component],
				step,
				sample: draft.trigger.sample,
				signal: stageSignal,
				save,
				next: () => go(key, 3),
			});
		}
		if (name === "Retrieve sample") return retrieveStage({ flowId, index: 0, signal: stageSignal, save, next: () => go(key, 4) });
		const action = byId[step.component]?.actions?.find((a) => a.id === step.action);
		return summaryStage({
			step,
			prefix: key,
			defaultName: isTrigger ? "Webhook" : (action?.title ?? "Action"),
			finished: !!step.name,
			settings: isTrigger ? (byId[step.component]?.triggerSettings ?? []) : [],
			async onFinish() {
				await save();
				announce(`Step “${step.name}” finished.`);
				if (isTrigger) return go("action", pos.action.stage);
				renderPanel(false);
				(publishBtn.disabled ? panel.querySelector("h2") : publishBtn)?.focus();
			},
		});
	}

	function renderPanel(focus = true) {
		stageCtrl?.abort();
		stageCtrl = new AbortController();
		const { stage, reached } = pos[selected];
		const tabs = h(
			"ol",
			{ class: "stages", "aria-label": "Stages of this step" },
			STAGES[selected].map((label, i) =>
				h(
					"li",
					null,
					h(
						"button",
						{ type: "button", "aria-current": i === stage ? "step" : null, disabled: i > reached, onclick: () => go(selected, i) },
						`${i + 1}. ${label}`,
					),
				),
			),
		);
		panel.replaceChildren(tabs, stageView(selected, stage, AbortSignal.any([signal, stageCtrl.signal])));
		renderSteps();
		if (focus) panel.querySelector("h2")?.focus();
	}

	async function publish() {
		flowAlert.show(null);
		publishBtn.disabled = true;
		try {
			await save();
			const { version } = await api(`/flows/${flowId}/publish`, { method: "POST", signal });
			flow = (await api(`/flows/${flowId}`, { signal })).flow;
			announce(`Published version ${version}.`);
			renderHead();
			(flow.status === "running" ? publishBtn : startBtn).focus();
		} catch (error) {
			flowAlert.show(error);
			renderHead();
		}
	}

	async function toggle(verb) {
		flowAlert.show(null);
		try {
			flow = (await api(`/flows/${flowId}/${verb}`, { method: "POST", signal })).flow;
			announce(
				{
					start: "The flow is running.",
					stop: "The flow is stopped.",
					pause: "The flow is paused: hooks are accepted, deliveries wait.",
					resume: "The flow is running again.",
				}[verb],
			);
			renderHead();
			({ start: stopBtn, stop: startBtn, pause: resumeBtn, resume: pauseBtn })[verb].focus();
		} catch (error) {
			flowAlert.show(error);
		}
	}

	async function remove() {
		if (!confirm(`Delete the flow “${flow.name}”? It stops, and its hook URL stops working.`)) return;
		try {
			await api(`/flows/${flowId}`, { method: "DELETE", signal });
			location.hash = "#/flows";
		} catch (error) {
			flowAlert.show(error);
		}
	}

	main.append(
		h("p", { class: "crumbs" }, h("a", { href: "#/flows" }, "Flows")),
		h(
			"div",
			{ class: "page-head" },
			h("div", null, title, meta),
			h(
				"div",
				{ class: "row wrap actions" },
				publishBtn,
				startBtn,
				pauseBtn,
				resumeBtn,
				stopBtn,
				h("a", { class: "button", href: `#/dashboard/${flowId}` }, "Dashboard"),
				deleteBtn,
			),
		),
		hint,
		flowAlert.el,
		hook,
		h("div", { class: "designer" }, stepsNav, panel),
		delivery,
	);
	renderHead();
	renderPanel(false);
}
