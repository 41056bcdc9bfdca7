/**
 * @module
 * The one rule for the names users give flows, credentials and steps: at most 200 characters;
 * a flow or credential must have one (trimmed, not empty).
 */
import * as z from "zod";

export const MAX_NAME_LENGTH = 200;

export const nameSchema = z.string().trim().min(1, "Name is required").max(MAX_NAME_LENGTH);
