/**
 * A port the OS just handed out on 127.0.0.1, for processes a test or bench
 * starts beside a running stack. The launcher's own function: one way to pick
 * a port, shared by `npm test`'s stack and every test.
 */
export { freePort } from "../../scripts/launcher/ports";
