// Entry of the Parquet encoder's worker thread. Node 20 does not hand the
// parent's `--import tsx` loader to worker threads, so this plain-JS shim
// registers it and then loads the TypeScript module that does the work.
// A built worker (.build/workers) finds encode-worker.ts bundled under this
// name beside it instead (scripts/launcher/worker-build.ts): no tsx there.
import { register } from "tsx/esm/api";

register();
await import("./encode-worker.ts");
