/**
 * @module
 * What Start, Stop, Pause and Resume do to a flow's status. Stop closes the hook and delivers
 * what was accepted; Pause keeps the hook open and holds deliveries until Resume.
 */
import type { FlowStatus } from "../db/schema";

export type FlowAction = "start" | "stop" | "pause" | "resume";

export type Transition =
	| {
			ok: true;
			status: FlowStatus;
			/** The flow objects must hold (pause) or release (resume) deliveries, before the status changes. */
			deliveries: "pause" | "resume" | "unchanged";
	  }
	| { ok: false; message: string };

export function transition(current: FlowStatus, published: boolean, action: FlowAction): Transition {
	if (!published) return { ok: false, message: "Flow has no published version" };
	switch (action) {
		case "start":
			// Start on a paused flow is a Resume: otherwise it would say running while holding its deliveries.
			return { ok: true, status: "running", deliveries: current === "paused" ? "resume" : "unchanged" };
		case "stop":
			if (current === "paused") {
				return {
					ok: false,
					message: "The flow is paused: Resume it before you Stop it (a stopped flow delivers what it accepted, a paused one holds it)",
				};
			}
			return { ok: true, status: "stopped", deliveries: "unchanged" };
		case "pause":
			if (current !== "running" && current !== "paused") {
				return { ok: false, message: `Only a running flow can be paused; this one is ${current === "draft" ? "not started" : current}` };
			}
			return { ok: true, status: "paused", deliveries: "pause" };
		case "resume":
			if (current !== "running" && current !== "paused") {
				return {
					ok: false,
					message: `Only a paused flow can be resumed; this one is ${current === "draft" ? "not started" : current}: Start it`,
				};
			}
			// Resuming a running flow is harmless and repairs objects left paused by an interrupted call.
			return { ok: true, status: "running", deliveries: "resume" };
	}
}
