import type { UpstreamSnapshot } from "@/lib/embedding/balancer";
import { formatCount, formatLatency } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";

const th = "px-4 py-2 text-left text-xs font-medium uppercase tracking-wide text-muted";
const td = "px-4 py-1.5 align-top tabular-nums";

/**
 * The embed-worker's view of each embedding-service instance (INFERMESH_URL=a,b):
 * in rotation or ejected, calls in flight, calls, failures, ejections and the
 * round trips' p50/p99 — from its /metrics `upstreams` (URLs already redacted).
 */
export function UpstreamsTable({ upstreams }: { upstreams: UpstreamSnapshot[] }) {
  return (
    <div className="overflow-x-auto" data-testid="embed-worker-upstreams">
      <table className="w-full min-w-[640px] text-sm">
        <thead>
          <tr>
            <th className={th}>Embedding service</th>
            <th className={`${th} w-24`}>State</th>
            <th className={`${th} w-20 text-right`}>In flight</th>
            <th className={`${th} w-20 text-right`}>Calls</th>
            <th className={`${th} w-20 text-right`}>Failures</th>
            <th className={`${th} w-20 text-right`}>Ejections</th>
            <th className={`${th} w-32 text-right`}>p50 / p99</th>
          </tr>
        </thead>
        <tbody>
          {upstreams.map((u, i) => (
            <tr key={u.url} className="border-t border-line" data-testid={`embed-worker-upstream-${i}`}>
              <td className={`${td} break-all`}>{u.url}</td>
              <td className={td}>
                <StatusBadge tone={u.state === "up" ? "ok" : "down"} label={u.state} title={u.state === "up" ? "in rotation" : "out of rotation; probed with backoff"} data-testid={`embed-worker-upstream-state-${i}`} />
              </td>
              <td className={`${td} text-right`}>{formatCount(u.outstanding)}</td>
              <td className={`${td} text-right`}>{formatCount(u.requests)}</td>
              <td className={`${td} text-right`}>{formatCount(u.failures)}</td>
              <td className={`${td} text-right`}>{formatCount(u.ejections)}</td>
              <td className={`${td} text-right`}>{`${formatLatency(u.p50_ms)} / ${formatLatency(u.p99_ms)}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
