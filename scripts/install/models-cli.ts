// Install the bundled models' files into the model cache, outside `npm start`:
// the Dockerfile's build step. `node --import tsx scripts/install/models-cli.ts`
// installs INFERMESH_MODEL; name models (short names or ids) to install those,
// or `--all` for every bundled model.
import { loadOrExit } from "../../lib/config/load";
import { parseStackConfig } from "../../lib/config/stack";
import { createLogger } from "../../lib/log";
import { StackError } from "../stack-error";
import { localModels } from "../../lib/embedding/registry";
import { bundledModel, ensureModelsInstalled } from "./models";

async function main(): Promise<number> {
  const cfg = loadOrExit(parseStackConfig);
  const log = createLogger("install-models", cfg.logLevel);
  const names = process.argv.slice(2).flatMap((a) => a.split(/[\s,]+/)).filter(Boolean);
  try {
    const models = names.includes("--all") ? localModels() : (names.length ? names : [cfg.infermesh.model]).map(bundledModel);
    const installed = await ensureModelsInstalled(log, { models, cacheDir: cfg.modelCacheDir });
    for (const m of installed) process.stdout.write(`${m.model}: ${m.dir}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof StackError)) throw err;
    process.stderr.write(`embedline: ${err.message}\n${err.hint ? `${err.hint}\n` : ""}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`embedline: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
