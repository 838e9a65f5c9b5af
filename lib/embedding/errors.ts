/**
 * Typed failures of an embedding call. `reason` is the DLQ reason code an
 * embed-worker records when it gives up on an input.
 */
export abstract class EmbeddingError extends Error {
  abstract readonly reason: "provider_rejected" | "retries_exhausted" | "bad_vector";
}

/**
 * The upstream answered 4xx (other than 408/429). `kind` says what to do:
 * - `input` (400, 422): something in this request is bad and will fail the
 *   same way again; find the culprit (bisect) and send it to the DLQ;
 * - `too_large` (413): too many or too large inputs for this upstream
 *   (TEI answers 413 above its max batch size); split the batch and retry;
 * - `config` (401, 403, 404, 405…): no record is at fault; fix the URL, token
 *   or model, and do not dead-letter anything.
 */
export class EmbeddingRejectedError extends EmbeddingError {
  override name = "EmbeddingRejectedError";
  readonly reason = "provider_rejected" as const;
  readonly kind: "input" | "too_large" | "config";
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`embedding service rejected the request: HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.kind = status === 413 ? "too_large" : status === 400 || status === 422 ? "input" : "config";
  }
}

/** Connection errors, timeouts, 429 or 5xx on every attempt. */
export class EmbeddingUnavailableError extends EmbeddingError {
  override name = "EmbeddingUnavailableError";
  readonly reason = "retries_exhausted" as const;
  constructor(
    readonly attempts: number,
    readonly lastError: string,
    options?: { cause?: unknown },
  ) {
    super(`embedding service unavailable after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${lastError}`, options);
  }
}

/** A 2xx answer that is not what was asked for: never passed on. */
export class BadEmbeddingResponseError extends EmbeddingError {
  override name = "BadEmbeddingResponseError";
  readonly reason = "bad_vector" as const;
  constructor(readonly detail: string) {
    super(`bad response from the embedding service: ${detail}`);
  }
}
