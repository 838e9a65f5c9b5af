// Install bundled models' files into a model cache outside `npm start`: the
// Dockerfile's build step.
//   node --import tsx scripts/install/models-cli.ts --cache-dir DIR all-MiniLM-L6-v2 [more…]
//   node --import tsx scripts/install/models-cli.ts --cache-dir DIR --all
// Arguments only, no configuration: the image's build layer then depends on
// nothing but the installer and the registry, and is not rebuilt (nor the
// model downloaded again) when an unrelated variable changes.
import path from "node:path";
import { localModels } from "../../lib/embedding/registry";
import { createLogger } from "../../lib/log";
import { StackError } from "../stack-error";
import { bundledModel, ensureModelsInstalled } from "./models";

const USAGE = "usage: models-cli.ts --cache-dir DIR (--all | MODEL...)";

async function main(): Promise<number> {
  const args = process.argv.slice(2).flatMap((a) => a.split(/[\s,]+/)).filter(Boolean);
  const at = args.indexOf("--cache-dir");
  const cacheDir = at >= 0 ? args[at + 1] : undefined;
  const names = args.filter((_, i) => i !== at && i !== at + 1);
  if (!cacheDir || names.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const models = names.includes("--all") ? localModels() : names.map(bundledModel);
    const installed = await ensureModelsInstalled(createLogger("install-models"), { models, cacheDir: path.resolve(cacheDir) });
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
