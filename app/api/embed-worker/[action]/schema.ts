import { z } from "zod";

/** Most bytes of a POST /api/embed-worker/pause|resume body: it is `{}`. */
export const CONTROL_MAX_BYTES = 1024;

/**
 * Body of pause and resume: an empty JSON object. They take no parameters, but
 * a JSON body (with its Content-Type) is what makes a cross-site form or
 * `text/plain` post impossible without a CORS preflight.
 */
export const controlBodySchema = z.object({}).strict();
