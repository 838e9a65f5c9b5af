import { describe, expect, it } from "vitest";
import { SESSION_COOKIE, authorize, safeNext, sessionValue } from "@/lib/auth/token";

const token = "s3cret-token";
const h = (init: { authorization?: string; cookie?: string }) => new Headers(Object.entries(init).filter((e): e is [string, string] => e[1] !== undefined));

describe("console access", () => {
  it.each([
    { name: "no token configured", headers: {}, configured: undefined, want: "open" },
    { name: "right bearer", headers: { authorization: `Bearer ${token}` }, configured: token, want: "bearer" },
    { name: "wrong bearer", headers: { authorization: "Bearer nope" }, configured: token, want: null },
    { name: "session cookie", headers: { cookie: `a=1; ${SESSION_COOKIE}=${sessionValue(token)}` }, configured: token, want: "session" },
    { name: "cookie holding the raw token", headers: { cookie: `${SESSION_COOKIE}=${token}` }, configured: token, want: null },
    { name: "nothing", headers: {}, configured: token, want: null },
  ])("$name → $want", ({ headers, configured, want }) => {
    expect(authorize(h(headers), configured)).toBe(want);
  });

  it("the session cookie does not contain the token", () => {
    expect(sessionValue(token)).not.toContain(token);
  });

  it.each([
    ["/dlq", "/dlq"],
    ["/search?doc_id=a", "/search?doc_id=a"],
    ["//evil.example", "/"],
    ["https://evil.example", "/"],
    ["/\\evil", "/"],
    ["/login", "/"],
    [null, "/"],
  ])("next=%j → %j", (next, want) => expect(safeNext(next)).toBe(want));
});
