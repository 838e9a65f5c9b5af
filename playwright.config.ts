import { defineConfig } from "@playwright/test";

/**
 * Browser tests against the real stack (Kafka + the console's production
 * build), started by e2e/global-setup.ts through the launcher. Debian's
 * chromium, never a downloaded browser. Two projects:
 * - "open": the stack's console as `npm start` runs it, no CONSOLE_TOKEN
 *   (every spec under e2e/ but e2e/token/; e2e/security.spec.ts reaches both consoles);
 * - "token": a second console of the same build on the same stack with
 *   CONSOLE_TOKEN set, started by the global setup (e2e/token/: log in, use
 *   every page, log out). Its address is only known once the setup has run:
 *   e2e/token/fixtures.ts sets baseURL from it.
 */
export default defineConfig({
  testDir: "./e2e",
  projects: [
    { name: "open", testIgnore: ["token/**"] },
    { name: "token", testDir: "./e2e/token" },
  ],
  outputDir: "test-results",
  globalSetup: "./e2e/global-setup.ts",
  // Two cores shared with Kafka and the console: one browser at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: process.env.CONSOLE_URL ?? "http://127.0.0.1:3000",
    browserName: "chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
