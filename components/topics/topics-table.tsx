"use client";

import Link from "next/link";
import { Fragment, useState } from "react";
import { formatBytes, formatCount } from "@/components/ui/format";
import type { TopicSummary } from "@/lib/topics/types";
import { formatRetention, recordsLabel } from "./message-view";

const cell = "px-2 py-1.5 align-top";

function Retention({ t }: { t: TopicSummary }) {
  const bytes = t.retention_bytes !== null && t.retention_bytes >= 0 ? ` or ${formatBytes(t.retention_bytes)}` : "";
  return <span data-testid="topic-retention" title={t.retention_ms === null ? "the broker did not say" : `retention.ms ${t.retention_ms}`}>{formatRetention(t.retention_ms)}{bytes}</span>;
}

/** Start and end offsets, records and size of each partition: the row's expansion. */
function PartitionRows({ t }: { t: TopicSummary }) {
  return (
    <tr className="bg-surface-2" data-testid="topic-partitions">
      <td colSpan={9} className="px-4 py-2">
        <table className="w-full text-left tabular-nums">
          <thead className="text-muted"><tr><th>partition</th><th>start offset</th><th>end offset</th><th>records</th><th>size</th></tr></thead>
          <tbody>
            {t.partitions.map((p) => (
              <tr key={p.partition} data-testid="topic-partition-row" data-partition={p.partition}>
                <td><Link href={`/topics/${encodeURIComponent(t.name)}?partition=${p.partition}`} className="text-accent underline">{p.partition}</Link></td>
                <td className="font-mono">{p.start}</td>
                <td className="font-mono">{p.end}</td>
                <td title={p.exact ? "read_committed records" : "the offset gap: not read to count"}>{recordsLabel(p.records, p.exact)}</td>
                <td>{formatBytes(p.size_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </td>
    </tr>
  );
}

/** The pipeline's topics: who writes and reads each, partitions, records, size, retention and cleanup policy. */
export function TopicsTable({ topics }: { topics: readonly TopicSummary[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (name: string) => setOpen((s) => { const n = new Set(s); if (n.has(name)) n.delete(name); else n.add(name); return n; });
  return (
    <table className="w-full text-left text-xs" data-testid="topics-table">
      <thead className="text-muted">
        <tr><th className="px-4 py-1.5">topic</th><th className={cell}>written by</th><th className={cell}>read by</th><th className={cell}>partitions</th><th className={cell}>records</th><th className={cell}>size</th><th className={cell}>retention</th><th className={cell}>cleanup</th><th className={cell}>offsets</th></tr>
      </thead>
      <tbody>
        {topics.map((t) => (
          <Fragment key={t.name}>
            <tr className="border-t border-line" data-testid="topic-row" data-name={t.name} data-exists={String(t.exists)} data-records={t.records}>
              <td className="px-4 py-1.5 align-top">
                <Link href={`/topics/${encodeURIComponent(t.name)}`} className="font-mono text-accent underline" data-testid="topic-link">{t.name}</Link>
                <span className="block text-muted">{t.role}</span>
              </td>
              <td className={cell}>{t.writer}</td>
              <td className={cell} data-testid="topic-readers">{t.readers.length ? t.readers.join(", ") : <span className="text-muted">no group</span>}</td>
              {t.exists ? (
                <>
                  <td className={`${cell} tabular-nums`}>{t.partitions.length}</td>
                  <td className={`${cell} tabular-nums`} data-testid="topic-records" title={t.exact ? "read_committed records" : "≈: the offset gap, not read to count"}>{recordsLabel(t.records, t.exact)}</td>
                  <td className={`${cell} tabular-nums`} data-testid="topic-size" title={t.size_bytes === null ? "no broker reported it" : `${formatCount(t.size_bytes)} bytes, every replica`}>{formatBytes(t.size_bytes)}</td>
                  <td className={cell}><Retention t={t} /></td>
                  <td className={cell}>{t.cleanup_policy ?? "—"}</td>
                  <td className={cell}>
                    <button type="button" className="text-accent underline" onClick={() => toggle(t.name)} aria-expanded={open.has(t.name)} data-testid="topic-expand">{open.has(t.name) ? "hide" : "per partition"}</button>
                  </td>
                </>
              ) : (
                <td colSpan={6} className={`${cell} italic text-muted`} data-testid="topic-missing">not created yet: nothing has written to it</td>
              )}
            </tr>
            {t.exists && open.has(t.name) && <PartitionRows t={t} />}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
