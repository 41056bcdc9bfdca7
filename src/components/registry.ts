/**
 * @module
 * The component catalogue. Adding a component is one folder under src/components and one line here.
 */
import type { ActionDeclaration } from "./fields";
import { httpComponent } from "./http";
import { logicComponent } from "./logic";
import { petstoreComponent } from "./petstore";
import { webhookComponent } from "./webhook";

/** The catalogue the designer shows: triggers first, then actions. */
export const catalogue = [webhookComponent, petstoreComponent, httpComponent, logicComponent] as const;

export type ActionComponentId = Exclude<(typeof catalogue)[number], { kind: "trigger" }>["id"];
export const ACTION_COMPONENTS = catalogue.filter((c) => c.kind === "action").map((c) => c.id) as [
	ActionComponentId,
	...ActionComponentId[],
];

/** An action's declaration, or undefined for a component or action the catalogue does not have. */
export function findAction(component: string, action: string): ActionDeclaration | undefined {
	const found = catalogue.find((c) => c.id === component && c.kind === "action");
	if (!found || !("actions" in found)) return undefined;
	return (found.actions as readonly ActionDeclaration[]).find((a) => a.id === action);
}

/** The titles the designer and messages use (`Petstore API (Node.js)`). */
export function componentTitle(component: string): string {
	return catalogue.find((c) => c.id === component)?.title ?? component;
}
