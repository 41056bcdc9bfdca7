/**
 * @module
 * The bindings the hook path uses. Both Workers' envs satisfy it: the control Worker's `Env`
 * (wrangler.toml) and the edge Worker's `EdgeEnv` (wrangler.edge.toml), so a binding the hook
 * starts to need and the edge config lacks fails the type check.
 */
import type { KeyRing } from "../crypto/credentials-key";

export type HookEnv = Pick<Env, "DB" | "EXECUTIONS" | "FLOW" | "AUTH_FAILURES" | "MAX_BODY_BYTES" | "CONFIG_CACHE_TTL_MS"> & KeyRing;
