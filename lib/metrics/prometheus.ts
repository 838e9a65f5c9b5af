/**
 * Prometheus text exposition format 0.0.4, written by hand for the workers whose
 * counters are plain fields (embed-worker, parse worker, emb-indexer): one
 * builder, so every `/metrics/prometheus` escapes, types and orders the same way.
 * (The embedding service keeps prom-client's registry, which writes the same format.)
 *
 *   const out = new PrometheusText("embedline_parse_");
 *   out.counter("records_in_total", "Records read.", 42);
 *   out.gauge("lag", "Offsets behind.", [{ labels: { partition: 0 }, value: 3 }]);
 *   text(out.toString(), PROMETHEUS_CONTENT_TYPE)
 *
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Record<string, string | number>;
/** One sample of a metric; a null value is left out (absent rather than a made-up 0). */
export interface Sample {
  labels?: Labels;
  value: number | null | undefined;
}

export interface HistogramData {
  /** Upper bounds, ascending, without +Inf. */
  buckets: readonly number[];
  /** Observations per bucket, not cumulative: buckets.length entries plus one for above the last bound. */
  counts: readonly number[];
  sum: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample value as the format spells it: +Inf, -Inf, NaN, or the number. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return "";
  for (const [k] of entries) if (!LABEL_NAME.test(k) || k.startsWith("__")) throw new Error(`invalid Prometheus label name ${JSON.stringify(k)}`);
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(",")}}`;
}

export class PrometheusText {
  private readonly lines: string[] = [];
  private readonly seen = new Set<string>();

  /** `prefix` goes in front of every name (e.g. "embedline_parse_"). */
  constructor(private readonly prefix = "") {}

  counter(name: string, help: string, value: number | null | undefined | readonly Sample[]): this {
    return this.family(name, "counter", help, value);
  }

  gauge(name: string, help: string, value: number | null | undefined | readonly Sample[]): this {
    return this.family(name, "gauge", help, value);
  }

  /** A histogram from per-bucket counts: cumulative `_bucket{le}` lines, `+Inf`, `_sum`, `_count`. */
  histogram(name: string, help: string, h: HistogramData, labels?: Labels): this {
    if (h.counts.length !== h.buckets.length + 1) throw new Error(`histogram ${name}: ${h.buckets.length} buckets need ${h.buckets.length + 1} counts, got ${h.counts.length}`);
    const full = this.header(name, "histogram", help);
    let cumulative = 0;
    h.buckets.forEach((le, i) => {
      cumulative += h.counts[i]!;
      this.lines.push(`${full}_bucket${formatLabels({ ...labels, le: formatValue(le) })} ${cumulative}`);
    });
    cumulative += h.counts[h.buckets.length]!;
    this.lines.push(`${full}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${cumulative}`);
    this.lines.push(`${full}_sum${formatLabels(labels)} ${formatValue(h.sum)}`, `${full}_count${formatLabels(labels)} ${cumulative}`);
    return this;
  }

  /** The exposition: one family after another, ending with a newline as the format requires. */
  toString(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }

  private family(name: string, type: "counter" | "gauge", help: string, value: number | null | undefined | readonly Sample[]): this {
    const samples: readonly Sample[] = Array.isArray(value) ? value : [{ value: value as number | null | undefined }];
    const present = samples.filter((s): s is Sample & { value: number } => typeof s.value === "number");
    // A family with no sample is left out entirely: HELP/TYPE alone would say it exists.
    if (present.length === 0) return this;
    const full = this.header(name, type, help);
    for (const s of present) this.lines.push(`${full}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    return this;
  }

  private header(name: string, type: string, help: string): string {
    const full = `${this.prefix}${name}`;
    if (!METRIC_NAME.test(full)) throw new Error(`invalid Prometheus metric name ${JSON.stringify(full)}`);
    // The format allows one HELP/TYPE block per family; a second would make Prometheus reject the scrape.
    if (this.seen.has(full)) throw new Error(`Prometheus metric ${full} written twice`);
    this.seen.add(full);
    this.lines.push(`# HELP ${full} ${escapeHelp(help)}`, `# TYPE ${full} ${type}`);
    return full;
  }
}
