"use client";

import { useState } from "react";

/** Copies `value` to the clipboard; says "copied" for a moment, or "copy failed" when the browser refuses (plain HTTP on another host). */
export function CopyButton({ value, label = "copy", "data-testid": testId }: { value: string; label?: string; "data-testid"?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = () => {
    const done = (s: "copied" | "failed") => {
      setState(s);
      setTimeout(() => setState("idle"), 1_500);
    };
    if (!navigator.clipboard) return done("failed");
    navigator.clipboard.writeText(value).then(() => done("copied"), () => done("failed"));
  };
  return (
    <button type="button" onClick={copy} className="text-xs text-muted underline hover:text-accent" title={`copy ${value}`} data-testid={testId}>
      {state === "idle" ? label : state === "copied" ? "copied" : "copy failed"}
    </button>
  );
}
