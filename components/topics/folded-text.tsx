"use client";

import { useState } from "react";
import { fold } from "./message-view";

/** A long string folded to its first ~300 characters, with "show all" (and "show less") to unfold it. */
export function FoldedText({ text, className = "" }: { text: string; className?: string }) {
  const [open, setOpen] = useState(false);
  const { head, hidden } = fold(text);
  return (
    <span className={`whitespace-pre-wrap wrap-anywhere ${className}`} data-testid="folded-text" data-folded={String(hidden > 0 && !open)}>
      {open ? text : head}
      {hidden > 0 && (
        <>
          {!open && "…"}{" "}
          <button type="button" className="text-accent underline" onClick={() => setOpen(!open)} data-testid="fold-toggle">
            {open ? "show less" : `show all (${hidden.toLocaleString("en-US")} more characters)`}
          </button>
        </>
      )}
    </span>
  );
}
