/**
 * @module
 * Flow designer: the step list (trigger, steps, lanes) beside the selected step's stages, then
 * Publish Draft, Start/Stop and the hook URL. The draft is saved through PUT /draft as it takes shape.
 */
import { ApiError, api } from "../../lib/api.js";
import { alertBox, announce, flowBadge, h } from "../../lib/dom.js";
import { byAction, componentChooser } from "./component-chooser.js";
import { credentialsStage } from "./credentials.js";
import { deliverySection } from "./delivery.js";
import { fieldSources } from "./field-picker.js";
import { hookPanel } from "./hook-url.js";
import { retrieveStage } from "./retrieve-sample.js";
import { sampleStage } from "./sample.js";
import { stepForm } from "./step-form.js";
import { stepList } from "./step-list.js";
import { declared, find, freshId, missing, readersOf, readsOfLaterSteps, sampleScope, stepName, walk } from "./steps.js";
import { summaryStage } from "./summary.js";

const TRIGGER_STAGES = ["Component", "Credentials", "Sample", "Summary"];

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
	// A draft saved before steps had ids: each gets the id the server would give it.
	walk(draft.steps, ({ step }) => {
		step.id ??= freshId(draft.steps);
	});

	/** The stages of a step, from its action: credentials when it takes one, Mapping or Settings, then Retrieve sample. */
	const stagesOf = (step) => {
		const { action } = declared(components, step);
		const has = (kind) => action?.settings.some((s) => s.kind === kind);
		return [
			"Component",
			...(has("credential") ? ["Credentials"] : []),
			has("mapping") ? "Mapping" : "Settings",
			"Retrieve sample",
			"Summary",
		];
	};
	// Where the user is in each step: the open stage and the furthest reached. A saved step resumes
	// at its settings; a saved trigger after its credentials.
	/** @type {Map<string, { stage: number, reached: number }>} */
	const pos = new Map();
	if (draft.trigger?.credentialId) pos.set("trigger", { stage: draft.trigger.name ? 3 : 2, reached: 3 });
	walk(draft.steps, ({ step }) => {
		const stages = stagesOf(step);
		pos.set(step.id ?? "", { stage: stages.findIndex((s) => s === "Mapping" || s === "Settings"), reached: stages.length - 1 });
	});
	const at = (key) => pos.get(key) ?? pos.set(key, { stage: 0, reached: 0 }).get(key) ?? { stage: 0, reached: 0 };
	/** @type {import("./step-list.js").Selection} */
	let selected = draft.trigger?.name && draft.steps[0] ? { kind: "step", id: draft.steps[0].id } : { kind: "trigger" };

	const flowAlert = alertBox();
	const orderAlert = alertBox();
	const issuesBox = h("ul", { class: "issues", hidden: true, "aria-label": "What to fix before publishing" });
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
		let ok = !!draft.trigger?.credentialId && draft.steps.length > 0;
		walk(draft.steps, ({ step }) => {
			if (missing(components, step).length) ok = false;
		});
		return ok;
	};

	// Saves are chained so they reach the server in order; the body is taken when each runs.
	let saving = Promise.resolve();
	function save() {
		// A move's warning goes (or changes) as soon as an edit fixes what it said.
		if (!orderAlert.el.hidden) checkOrder();
		const run = saving
			.catch(() => {})
			.then(() => {
				if (!draft.trigger?.credentialId) return null;
				// Everything the draft holds: steps (finished or not), delivery, rate limit, retry policy.
				return api(`/flows/${flowId}/draft`, { method: "PUT", body: draft, signal });
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
			? "Finish the trigger, add steps and fill in what each needs, then Publish Draft."
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
		stepsNav.replaceChildren(
			stepList({
				draft,
				components,
				selected,
				canAdd: !!draft.trigger?.name,
				limits: settings.steps,
				select: (s) => select(s),
				move,
				remove: removeStep,
			}),
		);
	}

	async function persist(focusLabel) {
		renderSteps();
		renderHead();
		if (focusLabel) /** @type {HTMLElement | null} */ (stepsNav.querySelector(`[aria-label="${CSS.escape(focusLabel)}"]`))?.focus();
		try {
			await save();
		} catch (error) {
			flowAlert.show(error);
		}
	}

	function move(list, index, by) {
		const [step] = list.splice(index, 1);
		list.splice(index + by, 0, step);
		const label = `Move ${by < 0 ? "up" : "down"} “${stepName(components, step)}”`;
		announce(`Moved “${stepName(components, step)}” ${by < 0 ? "up" : "down"}.`);
		checkOrder();
		persist(list[index + by * 2] === undefined ? `Move ${by < 0 ? "down" : "up"} “${stepName(components, step)}”` : label);
	}

	/** Publishing's rule, told as soon as a move breaks it. */
	function checkOrder() {
		orderAlert.show(
			readsOfLaterSteps(draft.steps)
				.map(
					({ step, id }) =>
						`“${stepName(components, step)}” reads $steps.${id}, which is not an earlier step on the way to it; publishing refuses that.`,
				)
				.join(" "),
		);
	}

	function removeStep(list, index) {
		const step = list[index];
		const name = stepName(components, step);
		const readers = readersOf(draft.steps, step).map((s) => `“${stepName(components, s)}”`);
		let inside = -1;
		walk([step], () => inside++);
		const why = [
			readers.length ? `${readers.join(", ")} read its output ($steps.${step.id}) and will need changing.` : "",
			inside ? `The ${inside} step(s) inside it go too.` : "",
		].join(" ");
		if (why.trim() && !confirm(`Delete “${name}”? ${why}`)) return;
		list.splice(index, 1);
		if (selected.kind === "step" && !find(draft.steps, selected.id)) selected = { kind: "trigger" };
		announce(`Deleted “${name}”.`);
		checkOrder();
		renderPanel(false);
		persist();
		/** @type {HTMLElement | null} */ (stepsNav.querySelector(".step-card[aria-current]") ?? stepsNav.querySelector(".step-card"))?.focus();
	}

	/** Gives a step a new id and rewrites every `$steps.<old id>` to it; the reason when the id cannot be taken. */
	function renameStep(step, id) {
		if (id === step.id) return null;
		if (!/^[a-z][a-z0-9_]{0,39}$/.test(id))
			return "A step id is a lower-case letter, then up to 39 lower-case letters, digits or _ (e.g. crm_lookup).";
		const other = find(draft.steps, id);
		if (other) return `The id ${id} is already used by “${stepName(components, other.step)}”.`;
		const re = new RegExp(`\\$steps\\.${step.id}\\b`, "g");
		const fix = (v) => (typeof v === "string" ? v.replace(re, () => `$steps.${id}`) : v);
		walk(draft.steps, ({ step: s }) => {
			for (const [key, value] of Object.entries(s)) {
				if (["id", "steps", "otherwise", "sample"].includes(key)) continue;
				if (key === "routes") for (const route of value) route.condition = fix(route.condition);
				else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) value[k] = fix(v);
				else s[key] = fix(value);
			}
		});
		pos.set(id, at(step.id ?? ""));
		selected = { kind: "step", id };
		step.id = id;
		return null;
	}

	function select(s) {
		selected = s;
		renderPanel();
	}

	function go(key, stage) {
		selected = key === "trigger" ? { kind: "trigger" } : { kind: "step", id: key };
		const p = at(key);
		p.stage = stage;
		p.reached = Math.max(p.reached, stage);
		renderPanel();
	}

	/** A fresh step of the chosen component (and action), its settings' defaults filled in by its form. */
	function fresh(component, action, id) {
		const chosen = action ?? component.actions[0];
		return {
			id,
			component: component.id,
			action: chosen.id,
			...(chosen.settings.some((s) => s.kind === "mapping") ? { mapping: {} } : {}),
		};
	}

	/** @param {(component: any, action?: any) => void} onChoose @param {"trigger" | "action"} [kind] */
	function chooser(onChoose, kind = "action") {
		return componentChooser({ components, kind, onChoose });
	}

	function triggerStage(stage, stageSignal) {
		const step = draft.trigger;
		const name = TRIGGER_STAGES[stage];
		if (name === "Component")
			return chooser((component) => {
				if (step?.component !== component.id) draft.trigger = { component: component.id };
				go("trigger", 1);
			}, "trigger");
		if (name === "Credentials")
			return credentialsStage({
				component: byId[step.component],
				selectedId: step.credentialId,
				signal: stageSignal,
				async onSelect(id) {
					step.credentialId = id;
					await save();
				},
				onContinue: () => go("trigger", 2),
			}).el;
		if (name === "Sample") return sampleStage({ trigger: step, flowId, signal: stageSignal, save, next: () => go("trigger", 3) });
		return summaryStage({
			step,
			prefix: "trigger",
			defaultName: "Webhook",
			finished: !!step.name,
			settings: byId[step.component]?.triggerSettings ?? [],
			async onFinish() {
				await save();
				announce(`Step “${step.name}” finished.`);
				if (draft.steps[0]) return select({ kind: "step", id: draft.steps[0].id });
				select({ kind: "add", list: draft.steps, index: 0 });
			},
		});
	}

	function actionStage(visit, stage, stageSignal) {
		const { step } = visit;
		const { component, action } = declared(components, step);
		const stages = stagesOf(step);
		const name = stages[stage];
		const next = () => go(step.id, stage + 1);
		const scope = sampleScope(visit);
		if (name === "Component")
			return chooser((chosen, chosenAction) => {
				if (step.component !== chosen.id || (chosenAction && chosenAction.id !== step.action)) {
					const { id, name: stepTitle, note } = step;
					for (const key of Object.keys(step)) delete step[key];
					Object.assign(step, fresh(chosen, chosenAction, id), stepTitle ? { name: stepTitle } : {}, note ? { note } : {});
					pos.set(id, { stage: 0, reached: 0 });
					persist();
				}
				next();
			});
		if (name === "Credentials") {
			const setting = action.settings.find((s) => s.kind === "credential");
			return credentialsStage({
				component: byId[setting.credentialComponent ?? step.component],
				selectedId: step.credentialId,
				optional: setting.required ? "" : setting.help,
				signal: stageSignal,
				async onSelect(id) {
					step.credentialId = id;
					await persist();
				},
				onContinue: next,
			}).el;
		}
		if (name === "Mapping" || name === "Settings")
			return stepForm({
				component,
				action,
				step,
				sources: fieldSources(draft.trigger?.sample, visit.earlier, (s) => stepName(components, s), visit.split ? scope : null),
				flowId,
				preview: { sample: draft.trigger?.sample ?? {}, ...scope },
				signal: stageSignal,
				save,
				changed: () => {
					renderSteps();
					renderHead();
				},
				chooseAction:
					component.actions.length > 1 && !byAction(component)
						? (id) => {
								step.action = id;
								if (step.mapping) step.mapping = {};
								persist();
								renderPanel();
							}
						: null,
				next,
			});
		if (name === "Retrieve sample")
			return retrieveStage({
				flowId,
				step,
				title: component.title,
				calls: action.runs === "call",
				context: scope,
				signal: stageSignal,
				save,
				changed: renderSteps,
				next,
			});
		return summaryStage({
			step,
			prefix: step.id,
			defaultName: action.title,
			finished: !!step.name,
			rename: (id) => renameStep(step, id),
			async onFinish() {
				await save();
				announce(`Step “${step.name}” finished.`);
				renderPanel(false);
				(publishBtn.disabled ? panel.querySelector("h2") : publishBtn)?.focus();
			},
		});
	}

	function renderPanel(focus = true) {
		stageCtrl?.abort();
		stageCtrl = new AbortController();
		const stageSignal = AbortSignal.any([signal, stageCtrl.signal]);
		const visit = selected.kind === "step" ? find(draft.steps, selected.id) : undefined;
		const key = selected.kind === "trigger" ? "trigger" : visit?.step.id;
		if (selected.kind === "add") {
			const { list, index } = selected;
			panel.replaceChildren(
				chooser((component, action) => {
					const step = fresh(component, action, freshId(draft.steps));
					list.splice(index, 0, step);
					persist();
					go(step.id, 1);
				}),
			);
		} else if (key) {
			const { stage, reached } = at(key);
			const stages = visit ? stagesOf(visit.step) : TRIGGER_STAGES;
			const tabs = h(
				"ol",
				{ class: "stages", "aria-label": "Stages of this step" },
				stages.map((label, i) =>
					h(
						"li",
						null,
						h(
							"button",
							{ type: "button", "aria-current": i === stage ? "step" : null, disabled: i > reached, onclick: () => go(key, i) },
							`${i + 1}. ${label}`,
						),
					),
				),
			);
			panel.replaceChildren(tabs, visit ? actionStage(visit, stage, stageSignal) : triggerStage(stage, stageSignal));
		}
		renderSteps();
		if (focus) panel.querySelector("h2")?.focus();
	}

	/** The step a publish issue's path (`steps.2.routes.0.steps.1.url`) is about, if any. */
	function stepAt(path) {
		/** @type {any} */
		let node = draft;
		/** @type {any} */
		let step = null;
		const parts = path.split(".");
		for (const [i, part] of parts.entries()) {
			node = node?.[part];
			if (node === undefined) break;
			if (/^\d+$/.test(part) && ["steps", "otherwise"].includes(parts[i - 1] ?? "")) step = node;
		}
		return step;
	}

	/** Publish issues, each with a button to the step it is about. */
	function showIssues(issues) {
		issuesBox.hidden = !issues.length;
		issuesBox.replaceChildren(
			...issues.map((issue) => {
				const step = stepAt(issue.path);
				return h(
					"li",
					null,
					step
						? h(
								"button",
								{ type: "button", class: "small", onclick: () => select({ kind: "step", id: step.id }) },
								`Open “${stepName(components, step)}”`,
							)
						: null,
					` ${issue.message} (${issue.path})`,
				);
			}),
		);
	}

	async function publish() {
		flowAlert.show(null);
		showIssues([]);
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
			showIssues(error instanceof ApiError ? error.issues : []);
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
		issuesBox,
		hook,
		orderAlert.el,
		h("div", { class: "designer" }, stepsNav, panel),
		delivery,
	);
	renderHead();
	renderPanel(false);
}
