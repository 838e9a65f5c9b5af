import { test as base } from "@playwright/test";
import { tokenConsole } from "../token-console";

/**
 * Tests of the "token" project: the console behind CONSOLE_TOKEN. Its address
 * exists only once the global setup has started it, so baseURL comes from a
 * fixture (run in the worker, after the setup) rather than from the config.
 */
export const test = base.extend<{ consoleToken: string }>({
  baseURL: async ({}, provide) => provide(tokenConsole().url),
  consoleToken: async ({}, provide) => provide(tokenConsole().token),
});

export { expect } from "@playwright/test";
