import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

// Request latency: from a cache-hot single input (~10 ms) to a full queue (~10 s).
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// One model call: ~10 ms for one short text up to seconds for a batch of long ones.
const INFERENCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Powers of two up to the largest INFERMESH_MAX_BATCH worth running on 2 cores.
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
// Padded tokens per call (inputs × longest): one short input (~10) up to well past the default INFERMESH_MAX_BATCH_TOKENS.
const TOKEN_BUCKETS = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
// inputs_per_second is a rate over this window, computed when scraped.
const RATE_WINDOW_MS = 10_000;

/** The service's Prometheus metrics, in a registry of its own. */
export function createMetrics(queueDepth: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const inputsWindow: { at: number; n: number }[] = [];
  const inputsTotal = new Counter({ name: "infermesh_inputs_total", help: "Inputs embedded.", registers: [registry] });

  const m = {
    registry,
    requests: new Counter({ name: "infermesh_requests_total", help: "HTTP requests by route and status code.", labelNames: ["route", "code"] as const, registers: [registry] }),
    failures: new Counter({ name: "infermesh_request_failures_total", help: "Failed requests by reason.", labelNames: ["reason"] as const, registers: [registry] }),
    requestDuration: new Histogram({ name: "infermesh_request_duration_seconds", help: "Time from request to response, by route.", labelNames: ["route"] as const, buckets: REQUEST_BUCKETS, registers: [registry] }),
    inferenceDuration: new Histogram({ name: "infermesh_inference_duration_seconds", help: "Time of one model call.", buckets: INFERENCE_BUCKETS, registers: [registry] }),
    batchSize: new Histogram({ name: "infermesh_batch_size", help: "Inputs per model call.", buckets: BATCH_BUCKETS, registers: [registry] }),
    batchTokens: new Histogram({ name: "infermesh_batch_tokens", help: "Padded tokens per model call (inputs × longest input), bounded by INFERMESH_MAX_BATCH_TOKENS.", buckets: TOKEN_BUCKETS, registers: [registry] }),
    truncated: new Counter({ name: "infermesh_truncated_inputs_total", help: "Inputs cut to the model's maximum length.", registers: [registry] }),
    modelLoaded: new Gauge({ name: "infermesh_model_loaded", help: "1 once the model is loaded and warmed up.", labelNames: ["model"] as const, registers: [registry] }),
    inputsTotal,
    addInputs(n: number) {
      inputsTotal.inc(n);
      inputsWindow.push({ at: Date.now(), n });
    },
  };
  // onnxruntime keeps the memory of the largest call it has run; INFERMESH_MAX_BATCH_TOKENS bounds it.
  new Gauge({ name: "infermesh_rss_bytes", help: "Resident memory of the service (model sessions included).", registers: [registry], collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({ name: "infermesh_queue_depth", help: "Inputs waiting for the model.", registers: [registry], collect() { this.set(queueDepth()); } });
  new Gauge({
    name: "infermesh_inputs_per_second",
    help: `Inputs embedded per second over the last ${RATE_WINDOW_MS / 1000} s.`,
    registers: [registry],
    collect() {
      const since = Date.now() - RATE_WINDOW_MS;
      while (inputsWindow.length > 0 && (inputsWindow[0] as { at: number }).at < since) inputsWindow.shift();
      this.set(inputsWindow.reduce((s, x) => s + x.n, 0) / (RATE_WINDOW_MS / 1000));
    },
  });
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
