"use client";

import { formatBytes } from "@/components/ui/format";
import type { ShownBytes } from "@/lib/topics/types";
import { FoldedText } from "./folded-text";

interface Props {
  b: ShownBytes | null;
  /** Offered when the bytes are only a prefix: read the record again with `full=1`. */
  onLoadWhole?: () => void;
  loading?: boolean;
  "data-testid"?: string;
}

/** Bytes as read: text wrapped (folded when long), or base64 under a label; a prefix says so. */
export function ShownBytesView({ b, onLoadWhole, loading = false, "data-testid": testId }: Props) {
  if (!b) return <span className="text-muted" data-testid={testId} data-encoding="none">none</span>;
  return (
    <span data-testid={testId} data-encoding={b.encoding} data-truncated={String(b.truncated)}>
      {b.encoding === "base64" && <span className="mr-1 rounded bg-warn-soft px-1 font-sans text-warn" data-testid="bytes-base64" title="not valid UTF-8: shown as base64">base64</span>}
      {b.data === null ? <span className="text-muted">{formatBytes(b.size)}, shown parsed</span> : <FoldedText text={b.data} className="font-mono" />}
      {b.truncated && (
        <span className="ml-1 font-sans text-warn" data-testid="bytes-truncated">
          {" "}(truncated: a prefix of {formatBytes(b.size)})
          {onLoadWhole && (
            <button type="button" className="ml-1 text-accent underline disabled:opacity-50" disabled={loading} onClick={onLoadWhole} data-testid="load-whole-value">
              {loading ? "loading…" : "load whole value"}
            </button>
          )}
        </span>
      )}
    </span>
  );
}
