import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local alert receiver for the workers tests (started by test/global-setup.ts): it records every
 * POST (headers and raw body) and answers 204, or what was queued for its path with
 * /__control/faults ({status}, with a `location` header when given, or {hang: true}: never answers
 * until closed).
 */

interface Received {
	path: string;
	headers: Record<string, string>;
	body: string;
}
type Fault = { status: number; location?: string } | { hang: true };

export async function startAlertReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
	let received: Received[] = [];
	const faults = new Map<string, Fault[]>();
	const hanging = new Set<ServerResponse>();
	const server = createServer(async (req, res) => {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const body = Buffer.concat(chunks).toString("utf8");
		const url = new URL(req.url ?? "/", "http://receiver.local");
		const reply = (status: number, json?: unknown) => {
			res.writeHead(status, json === undefined ? {} : { "content-type": "application/json" });
			res.end(json === undefined ? undefined : JSON.stringify(json));
		};
		if (url.pathname === "/__control/requests")
			return reply(
				200,
				received.filter((r) => r.path === url.searchParams.get("path")),
			);
		if (url.pathname === "/__control/faults") {
			const { path, responses } = JSON.parse(body) as { path: string; responses: Fault[] };
			faults.set(path, [...(faults.get(path) ?? []), ...responses]);
			return reply(204);
		}
		if (url.pathname === "/__control/reset") {
			received = [];
			faults.clear();
			return reply(204);
		}
		const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
		received.push({ path: url.pathname, headers, body });
		const fault = faults.get(url.pathname)?.shift();
		if (fault && "hang" in fault) {
			hanging.add(res);
			return;
		}
		if (fault?.location) res.setHeader("location", fault.location);
		reply(fault?.status ?? 204);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: async () => {
			for (const res of hanging) res.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
