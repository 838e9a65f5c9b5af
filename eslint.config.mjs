import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// process.env is read in exactly one place per process: lib/config. Scripts that
// run before dependencies exist (bootstrap) and test harnesses that hand an
// environment to child processes are the only other readers.
const envReaders = ["lib/config/**", "scripts/bootstrap.mjs", "tests/**", "e2e/**", "playwright.config.ts", "next.config.mjs"];

const config = [
  ...nextVitals,
  ...nextTs,
  { ignores: [".next/**", ".build/**", "node_modules/**", "data/**", "next-env.d.ts", "playwright-report/**", "test-results/**", "**/.venv/**"] },
  {
    files: ["**/*.{ts,tsx,mjs,js}"],
    ignores: envReaders,
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through lib/config, the one parser per process." },
      ],
    },
  },
];

export default config;
