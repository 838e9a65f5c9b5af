/**
 * Body caps of the login and logout routes, as plain numbers outside the
 * route modules (which are server-only), so the e2e checks and the README read
 * them from one place.
 */

/** A token and a path fit in a few hundred bytes; 4 KiB leaves room and nothing to stream. */
export const LOGIN_MAX_BYTES = 4096;

/** The logout body is `{}`. */
export const LOGOUT_MAX_BYTES = 1024;
