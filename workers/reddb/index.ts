/**
 * A RedDB-compatible store (the seed's optional sink): KV and append-only
 * streams over HTTP on LMDB, surviving restarts. Started by `npm start -- --reddb`.
 *
 *   node --conditions=react-server --enable-source-maps .build/workers/reddb.mjs   (built by `npm start`; scripts/build-workers.ts)
 */
import { mkdirSync } from "node:fs";
import { parseReddbServerConfig } from "../../lib/config/reddb";
import { beginProcess } from "../../lib/process/lifecycle";
import { createReddbServer } from "./http";
import { ReddbStore } from "./store";

const proc = beginProcess("reddb");
const cfg = proc.configure(parseReddbServerConfig);
mkdirSync(cfg.dataDir, { recursive: true });
const store = new ReddbStore(cfg.dataDir);
proc.onStop("store", () => store.close());
await proc.listen(createReddbServer(store, cfg.token, proc.log), cfg.port, cfg.host);
proc.log.info({ dataDir: cfg.dataDir, auth: cfg.token !== undefined }, "reddb started");
