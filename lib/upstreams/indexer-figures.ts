/**
 * Several emb-indexers' /metrics and /health as one indexer's, for the
 * console's indexer stream: the Overview and Monitoring read the same fields
 * whatever the number of instances. Pure (no I/O), so the rules are tested.
 *
 * Numbers are summed (records, documents, queries, lag, dead letters, `*_per_sec`)
 * except these, which no sum means anything for:
 * - times, durations and latencies (`*_ts`, `*_ms`, `*_sec`, `*_s`, `timestamp`): the largest
 *   (a p99 of the whole is at most the largest instance's; the newest time);
 * - `dim`, `ef_search` and the like (`dim`, `ef*`): the largest;
 * - recall (`recall_at_10`, `recall.*`): the mean weighted by each instance's `total_ids`,
 *   since a query's neighbours come from every instance in proportion to what it holds.
 * Arrays are concatenated (`partitions`), strings and null take the first instance's value.
 */

type Json = unknown;

const MAX_KEY = /(^|_)(ts|ms|sec|s)$|^timestamp$|^dim$|^ef/;
const isRecall = (path: readonly string[]) => path.some((k) => k.startsWith("recall"));
const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function merge(values: readonly Json[], weights: readonly number[], path: readonly string[]): Json {
  const present = values.map((v, i) => ({ v, w: weights[i] ?? 0 })).filter((x) => x.v !== undefined);
  if (present.length === 0) return undefined;
  const first = present.find((x) => x.v !== null)?.v ?? null;
  if (typeof first === "number") {
    const nums = present.filter((x): x is { v: number; w: number } => typeof x.v === "number" && Number.isFinite(x.v));
    if (nums.length === 0) return null;
    const key = path.at(-1) ?? "";
    if (isRecall(path) && !MAX_KEY.test(key) && !/count|samples|checks/.test(key)) {
      const total = nums.reduce((n, x) => n + x.w, 0);
      // Instances holding nothing have no recall to weigh; with no weights at all, the plain mean.
      return total > 0 ? nums.reduce((n, x) => n + x.v * x.w, 0) / total : nums.reduce((n, x) => n + x.v, 0) / nums.length;
    }
    if (MAX_KEY.test(key) && !key.endsWith("_per_sec")) return Math.max(...nums.map((x) => x.v));
    return nums.reduce((n, x) => n + x.v, 0);
  }
  if (Array.isArray(first)) {
    // A recall history is one instance's series of checks: concatenating instances' would read as one series.
    if (isRecall(path)) return first;
    return present.flatMap((x) => (Array.isArray(x.v) ? x.v : []));
  }
  if (isObject(first)) {
    const objects = present.filter((x) => isObject(x.v)) as { v: Record<string, Json>; w: number }[];
    const keys = [...new Set(objects.flatMap((x) => Object.keys(x.v)))];
    return Object.fromEntries(keys.map((k) => [k, merge(objects.map((x) => x.v[k]), objects.map((x) => x.w), [...path, k])]));
  }
  return first;
}

/** The instances' /metrics bodies as one (see the rules above). */
export function mergeIndexerMetrics(metrics: readonly Record<string, unknown>[]): Record<string, unknown> {
  if (metrics.length === 1) return metrics[0]!;
  const weights = metrics.map((m) => (typeof m.total_ids === "number" ? m.total_ids : 0));
  const merged = (merge(metrics, weights, []) as Record<string, unknown> | undefined) ?? {};
  // Several instances: the event's `instances` names each; no one instance speaks for the whole.
  return "instance" in merged ? { ...merged, instance: null } : merged;
}

const STATUS_ORDER = ["ok", "degraded", "starting", "stopping"];

/**
 * The instances' /health bodies as one: the worst status (an instance that did
 * not answer makes it `degraded`, named in `reasons`), their stalled
 * partitions and reasons together, documents summed.
 */
export function mergeIndexerHealth(bodies: readonly { instance: string; body: Record<string, unknown> | null }[]): Record<string, unknown> | null {
  if (bodies.length === 0) return null;
  if (bodies.length === 1) return bodies[0]!.body;
  const answered = bodies.filter((b) => b.body !== null).map((b) => ({ instance: b.instance, body: b.body! }));
  const missing = bodies.filter((b) => b.body === null).map((b) => ({ component: `indexer ${b.instance}`, reason: "did not answer" }));
  const statuses = answered.map((b) => String(b.body.status ?? "ok"));
  const worst = statuses.reduce((w, s) => (STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(w) ? s : w), missing.length > 0 ? "degraded" : "ok");
  const list = (key: string) => answered.flatMap((b) => (Array.isArray(b.body[key]) ? (b.body[key] as unknown[]) : []));
  const totals = answered.map((b) => b.body.total_ids).filter((n): n is number => typeof n === "number");
  return {
    status: worst,
    reasons: [...missing, ...list("reasons")],
    partitions: list("partitions"),
    total_ids: totals.length > 0 ? totals.reduce((a, b) => a + b, 0) : null,
    dim: answered.map((b) => b.body.dim).find((d) => typeof d === "number") ?? null,
    timestamp: Math.max(0, ...answered.map((b) => (typeof b.body.timestamp === "number" ? b.body.timestamp : 0))),
  };
}
