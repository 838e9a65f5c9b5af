import net from "node:net";
import { StackError } from "../stack-error";

/** Resolves when nothing listens on 127.0.0.1:port; a taken port is one clear line. */
export async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!free) throw new StackError(`port ${port} for ${what} is taken: stop whatever listens there (ss -ltnp 'sport = :${port}') or set ${variable}`);
}

/** A free port chosen by the OS, for tests that must not clash with a running stack. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
