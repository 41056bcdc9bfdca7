/**
 * @module
 * The component catalogue.
 */
import { petstoreComponent } from "./petstore";
import { webhookComponent } from "./webhook";

/** The catalogue the designer shows: triggers first, then actions. */
export const catalogue = [webhookComponent, petstoreComponent] as const;
