/**
 * @module
 * `GET /api/components`: the component catalogue, as the components declare themselves.
 */
import { Hono } from "hono";
import { catalogue } from "../components/registry";

export const componentsRoutes = new Hono<{ Bindings: Env }>().get("/", (c) => c.json({ components: catalogue }));
