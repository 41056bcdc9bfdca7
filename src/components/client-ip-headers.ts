/**
 * @module
 * Request headers naming the sender's IP address. They are personal data and rarely needed by a
 * mapping, so they are dropped from each execution's `_headers` unless the flow's trigger sets
 * `keepClientIpHeaders: true`. Defined here, without dependencies, for the hook and the catalogue.
 */
export const CLIENT_IP_HEADERS = [
	"cf-connecting-ip",
	"cf-connecting-ipv6",
	"cf-pseudo-ipv4",
	"true-client-ip",
	"x-forwarded-for",
	"x-real-ip",
	"x-client-ip",
	"x-cluster-client-ip",
	"forwarded",
] as const;
