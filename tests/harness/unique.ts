import { randomUUID } from "node:crypto";

/** A name of its own per test run (topics, groups, transactional ids), so reruns against one cluster never collide. */
export const unique = (what: string) => `it-${what}-${Date.now()}-${randomUUID().slice(0, 8)}`;
