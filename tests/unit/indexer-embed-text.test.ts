import { afterEach, describe, expect, it } from "vitest";
import { createEmbeddingClient } from "../../lib/embedding";
import { parseEmbeddingClientConfig } from "../../lib/config/embedding-client";
import { ApiError } from "../../lib/http/api-error";
import { embedTextWith } from "../../workers/indexer/embed-text";
import { startInstantInfermesh, type InstantInfermesh } from "../doubles/instant-infermesh";

const servers: InstantInfermesh[] = [];
const clients: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

/** The indexer's text embedding against an InferMesh-shaped service (TEST DOUBLE) that answers as `served`. */
async function embedTextServedBy(served: string, configured: string) {
  const server = await startInstantInfermesh({ model: served });
  servers.push(server);
  const client = createEmbeddingClient(parseEmbeddingClientConfig({ INFERMESH_URL: server.url, EMBED_MODEL: configured, EMBED_CACHE_SIZE: "0" }));
  clients.push(client);
  return embedTextWith(client, configured);
}

describe("indexer: text queries are embedded with the index's model", () => {
  it("takes a vector from the configured model, by short name or full id", async () => {
    expect(await (await embedTextServedBy("all-MiniLM-L6-v2", "all-MiniLM-L6-v2"))("hello")).toHaveLength(384);
    expect(await (await embedTextServedBy("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"))("hello")).toHaveLength(384);
  });

  it("refuses (409) a vector the service made with another model of the same dimension", async () => {
    const embed = await embedTextServedBy("bge-small-en-v1.5", "all-MiniLM-L6-v2");
    const err = await embed("hello").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "model_mismatch" });
    expect((err as Error).message).toMatch(/embedded the text with model bge-small-en-v1\.5, not all-MiniLM-L6-v2/);
  });
});
