/**
 * @module
 * Where alerts may go. An alert target is a URL the admin types, and the Worker posts to it from
 * inside Cloudflare's network, so it must name a public host: not loopback, link-local, a private
 * or other special-use range, a local-only name, nor the Worker's own host (an alert posted to its
 * own hook could fail and alert again). Local mode (`ALLOW_PRIVATE_ALERT_TARGETS=true`: `npm start`
 * and the tests, whose receivers listen on 127.0.0.1) lifts these rules. Names are checked as
 * written, not resolved.
 */

export interface AlertUrlRules {
	/** Local mode: private, loopback and own-host targets are allowed. */
	allowPrivate: boolean;
	/** The Worker's own host name (from the origin the target was created on). */
	ownHost: string | null;
}

export const allowsPrivateAlertTargets = (env: Pick<Env, "ALLOW_PRIVATE_ALERT_TARGETS">) => env.ALLOW_PRIVATE_ALERT_TARGETS === "true";

/** Host names that never leave the machine or the local network. */
const LOCAL_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /\.home\.arpa$/];

/** [first address, prefix length, what it is] of the IPv4 ranges that are not the public internet. */
const IPV4_RANGES: ReadonlyArray<readonly [string, number, string]> = [
	["0.0.0.0", 8, "a reserved"],
	["10.0.0.0", 8, "a private"],
	["100.64.0.0", 10, "a private (shared, carrier-grade NAT)"],
	["127.0.0.0", 8, "a loopback"],
	["169.254.0.0", 16, "a link-local"],
	["172.16.0.0", 12, "a private"],
	["192.0.0.0", 24, "a reserved"],
	["192.0.2.0", 24, "a documentation"],
	["192.168.0.0", 16, "a private"],
	["198.18.0.0", 15, "a reserved (benchmarking)"],
	["198.51.100.0", 24, "a documentation"],
	["203.0.113.0", 24, "a documentation"],
	["224.0.0.0", 4, "a multicast"],
	["240.0.0.0", 4, "a reserved"],
];

function ipv4Number(host: string): number | null {
	const parts = host.split(".");
	if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
	return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function ipv4Kind(address: number): string | null {
	for (const [first, bits, kind] of IPV4_RANGES) {
		const size = 2 ** (32 - bits);
		const start = ipv4Number(first) ?? 0;
		if (address >= start && address < start + size) return kind;
	}
	return null;
}

/** The eight 16-bit groups of an IPv6 address as the URL parser writes it (compressed, lowercase, no dotted tail). */
function ipv6Groups(host: string): number[] | null {
	const [head = "", tail, extra] = host.split("::");
	if (extra !== undefined) return null;
	const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
	const left = parse(head);
	const right = tail === undefined ? [] : parse(tail);
	const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
	return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv6Kind(groups: number[]): string | null {
	const [a = 0, b = 0, , , , f = 0, g = 0, h = 0] = groups;
	const zeros = (n: number) => groups.slice(0, n).every((x) => x === 0);
	const embeddedV4 = g * 65_536 + h;
	if (zeros(8)) return "a reserved";
	if (zeros(7) && h === 1) return "a loopback";
	// IPv4-mapped (::ffff:a.b.c.d) and the NAT64 prefix (64:ff9b::a.b.c.d) carry an IPv4 address.
	if (zeros(5) && f === 0xffff) return ipv4Kind(embeddedV4);
	if (a === 0x64 && b === 0xff9b && groups.slice(2, 6).every((x) => x === 0)) return ipv4Kind(embeddedV4);
	if (zeros(6)) return "a reserved";
	if ((a & 0xfe00) === 0xfc00) return "a private (unique local)";
	if ((a & 0xffc0) === 0xfe80) return "a link-local";
	if ((a & 0xffc0) === 0xfec0) return "a private (site-local)";
	if ((a & 0xff00) === 0xff00) return "a multicast";
	if (a === 0x2001 && b === 0x0db8) return "a documentation";
	if (a === 0x0100 && groups.slice(1, 4).every((x) => x === 0)) return "a reserved (discard)";
	return null;
}

/** Why alerts may not go to `url`, or null when they may. */
export function alertUrlProblem(url: string, rules: AlertUrlRules): string | null {
	if (!URL.canParse(url)) return "url must be an absolute URL";
	const parsed = new URL(url);
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "url must be http:// or https://";
	if (rules.allowPrivate) return null;
	// The URL parser already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1.
	const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
	const own = rules.ownHost?.toLowerCase().replace(/\.$/, "");
	if (own && host === own) return `url points at this Worker (${host}); alerts must go to another host`;
	if (LOCAL_NAMES.some((name) => name.test(host))) return `url points at ${host}, a local-only name; alerts go only to public hosts`;
	const v4 = ipv4Number(host);
	const kind =
		v4 !== null ? ipv4Kind(v4) : host.startsWith("[") ? ipv6Kind(ipv6Groups(host.slice(1, -1)) ?? [0, 0, 0, 0, 0, 0, 0, 0]) : null;
	return kind ? `url points at ${host}, ${kind} address; alerts go only to public hosts` : null;
}
