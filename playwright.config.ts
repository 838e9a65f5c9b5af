import { defineConfig } from "@playwright/test";

/**
 * Browser tests against the real stack (Kafka + the console's production
 * build), started by e2e/global-setup.ts through the launcher. Debian's
 * chromium, never a downloaded browser.
 */
export default defineConfig({
  testDir: "./e2e",
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
