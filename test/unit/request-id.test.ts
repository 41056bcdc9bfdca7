import { describe, expect, it } from "vitest";
import { contentHash, executionIdFor, type RequestContent } from "../../src/hook/request-id";

/**
 * Dedupe binds a sender's id to what the credential signs (issue 19, defect 4): under a body-only
 * signature, an appended query, extra path or another method does not change the binding; where the
 * URL is signed or nothing is, the whole request does.
 */

const utf8 = new TextEncoder();
const FLOW_PATH = "/hook/f1";
const request = (body: string, suffix = "", method = "POST"): RequestContent => ({
	method,
	url: new URL(`https://hookflow.test${FLOW_PATH}${suffix}`),
	rawBody: utf8.encode(body),
});
const bodyOnly = (content: RequestContent): RequestContent => ({ ...content, bodyOnlyPath: FLOW_PATH });

describe("the content a sender's id is bound to", () => {
	it("attack: under a body-only signature, a query, an extra path or a method appended to a replay leaves the id unchanged", async () => {
		const headers = new Headers({ "webhook-id": "msg_1" });
		const original = await executionIdFor("f1", headers, bodyOnly(request('{"a":1}')));
		for (const [suffix, method] of [
			["?x=1", "POST"],
			["/extra", "POST"],
			["/extra/deeper?x=1&y=2", "POST"],
			["?x=1", "GET"],
		] as const) {
			expect((await executionIdFor("f1", headers, bodyOnly(request('{"a":1}', suffix, method)))).id, `${method} ${suffix}`).toBe(
				original.id,
			);
		}
		// The body stays bound: another body under the same id is another execution.
		expect((await executionIdFor("f1", headers, bodyOnly(request('{"a":2}')))).id).not.toBe(original.id);
	});

	it("a plain POST to the flow's path hashes as it always did, so ids issued before this binding still dedupe", async () => {
		expect(await contentHash(bodyOnly(request('{"a":1}')))).toBe(await contentHash(request('{"a":1}')));
		expect(await contentHash(bodyOnly(request('{"a":1}', "?x=1")))).toBe(await contentHash(request('{"a":1}')));
	});

	it("where the URL is signed or nothing is, the method, path and query are part of the content", async () => {
		const plain = await contentHash(request('{"a":1}'));
		expect(await contentHash(request('{"a":1}', "?x=1"))).not.toBe(plain);
		expect(await contentHash(request('{"a":1}', "/extra"))).not.toBe(plain);
		expect(await contentHash(request('{"a":1}', "", "GET"))).not.toBe(plain);
	});
});
