/**
 * @module
 * The admin API as an app of its own, loaded lazily by src/app.ts.
 */
import { Hono } from "hono";
import { handleError, handleNotFound } from "./errors";
import { api } from "./index";

/** The admin API as its own app: src/app.ts loads it on the first /api request, keeping zod and drizzle's queries out of a cold start's hook path. */
export const apiApp = new Hono<{ Bindings: Env }>().route("/api", api).notFound(handleNotFound).onError(handleError);
