import { describe, expect, it } from "vitest";
import { safeNext } from "@/lib/auth/safe-next";

describe("safeNext: no open redirect after login", () => {
  it.each([
    ["/dlq", "/dlq"],
    ["/search?doc_id=a", "/search?doc_id=a"],
    ["//evil.example", "/"],
    ["https://evil.example", "/"],
    ["/\\evil", "/"],
    ["/login", "/"],
    ["/login?next=/dlq", "/"],
    ["javascript:alert(1)", "/"],
    ["/a b", "/"],
    ["", "/"],
    [null, "/"],
  ])("next=%j → %j", (next, want) => expect(safeNext(next)).toBe(want));
});
