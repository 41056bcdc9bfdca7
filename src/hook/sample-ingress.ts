import type { Context } from "hono";
import { openSampleToken } from "../crypto/sample-token";
import { hookError, readLimitedBody } from "./ingress";
import { buildMessage } from "./message";

/**
 * `/sample/:flowId/:token`: the designer's one-time "Send sample request" URL. The request is
 * parsed exactly like a hook request, so the sample has the shape real messages will have. The
 * token's MAC is checked first: a made-up URL is answered 404 without touching any object.
 */
export async function handleSample(c: Context<{ Bindings: Env }>): Promise<Response> {
	const flowId = c.req.param("flowId") ?? "";
	const signed = c.req.param("token") ?? "";
	const gone = () => hookError(404, "This sample URL has expired or was already used; ask the designer for a new one");
	const token = await openSampleToken(flowId, signed, c.env);
	if (!token) return gone();
	const request = c.req.raw;
	const rawBody = await readLimitedBody(request, c.env);
	if (rawBody instanceof Response) return rawBody;
	const url = new URL(request.url);
	const parsed = buildMessage({ method: request.method, url, headers: request.headers, rawBody, additionalPath: "", secretHeaders: [] });
	if (!parsed.ok) return hookError(parsed.status, parsed.error);
	const delivered = await c.env.FLOW.getByName(flowId).deliverSample(token, parsed.message);
	if (!delivered) return gone();
	return Response.json({ message: "sample received" });
}
