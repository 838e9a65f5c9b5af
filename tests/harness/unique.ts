import { randomUUID } from "node:crypto";

/** A name of its own per test run (topics, groups, transactional ids), so reruns against one cluster never collide. */
export const unique = (what: string) => `it-${what}-${Date.now()}-${randomUUID().slice(0, 8)}`;

/** A short id of this run (base-36 time and 4 random characters), for texts and doc_ids a test must tell apart from earlier runs'. */
export const runId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
