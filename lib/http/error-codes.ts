/**
 * Every error code an Embedline HTTP answer can carry — the console's API and
 * every worker — and the one status each stands for. A closed union (as Dub's
 * `ErrorCode`): a code is added here or nowhere, and `new ApiError(code, …)`
 * takes its status from this table, so one code never answers two statuses.
 *
 * The one error body, everywhere (console routes, workers, the socket-level
 * answers of node:http's clientError):
 *
 *     {"error": {"code": <ErrorCode>, "message": <one line>, "type": "invalid_request_error" | "server_error"}}
 *
 * `type` is `server_error` for a 5xx and `invalid_request_error` otherwise, the
 * field OpenAI-style clients of the embedding service read. `message` is for
 * people and never carries internals; programs branch on `code`.
 *
 * No runtime imports: safe in client code.
 */
export const ERROR_STATUS = {
  // 400: the request itself is malformed.
  bad_request: 400, // a garbage request line, a body that broke off mid-upload
  invalid_json: 400, // the body is not UTF-8 JSON (or empty)
  invalid_target: 400, // the request target is not a path
  invalid_path: 400, // the path has invalid percent-encoding
  // 401/403: who is asking.
  unauthorized: 401, // no or a wrong bearer token / session
  invalid_token: 401, // the console login's wrong token
  cross_site: 403, // a state-changing request from another site
  // 404/405: what is asked for does not exist.
  not_found: 404, // no such route, action or key
  unknown_doc_id: 404, // no indexer holds that doc_id
  unknown_topic: 404, // not one of the pipeline's topics, or not created yet (the topic browser)
  model_not_found: 404, // the embedding service does not know the model
  model_not_loaded: 404, // it knows it, but serves another
  method_not_allowed: 405,
  request_timeout: 408, // headers or body arrived too slowly
  // 409: the request is fine but does not fit the server's state.
  model_mismatch: 409, // the text was embedded by another model (or another dimension) than the index holds
  // 413–431: too much.
  body_too_large: 413,
  too_many_inputs: 413, // more texts in one /embed than INFERMESH_MAX_INPUTS
  key_too_long: 414, // over LMDB's key limit (RedDB store)
  unsupported_media_type: 415, // not application/json
  misdirected_host: 421, // a Host the console does not answer to
  headers_too_large: 431,
  // 422: well-formed, but the values are refused.
  invalid_request: 422, // a schema failure; the message names the first issue
  unknown_shard: 422,
  out_of_range: 422, // a partition or offset the topic does not hold (the message gives the valid range)
  dimension_mismatch: 422, // a query vector of another dimension than the index's
  text_rejected: 422, // the embedding service refused the text
  invalid_model: 422,
  invalid_inputs: 422, // inputs missing, not an array, or holding a non-string
  empty_input: 422, // nothing to embed: inputs is empty, or one of them is ""
  invalid_dimensions: 422, // a `dimensions` the model cannot make
  // 429: come back later (with Retry-After).
  rate_limited: 429, // too many failed logins, DLQ downloads or exact scans at once
  too_many_streams: 429, // the console's SSE stream cap
  queue_full: 429, // the embedding service's input queue
  // 499: nginx's "client closed request"; never sent, only counted in metrics and logs.
  client_closed: 499,
  // 5xx: our side or an upstream failed.
  internal: 500, // a handler bug: details only in the log
  upstream_unreachable: 502, // a service (or Kafka) did not answer
  upstream_failed: 502, // a service answered 5xx
  upstream_rejected: 400, // a service refused the request with a code this table does not know (a version skew): its own status is kept
  bad_response: 502, // an answer in an unexpected shape
  http_error: 502, // browser side: an answer without this body (a proxy's page); its own status is kept
  unavailable: 503,
  embedding_unavailable: 503, // the indexer could not reach the embedding service for a text query
  shutting_down: 503,
  model_loading: 503,
  upstream_timeout: 504, // no indexer answered within the scatter deadline
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

export type ErrorType = "invalid_request_error" | "server_error";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; type: ErrorType };
}

/** The one error body; `status` decides `type` (the code's own status unless an answer is passed on as it came). */
export function errorBody(code: ErrorCode, message: string, status: number = ERROR_STATUS[code]): ErrorBody {
  return { error: { code, message, type: status >= 500 ? "server_error" : "invalid_request_error" } };
}
