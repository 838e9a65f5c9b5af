import { createParser, type EventSourceMessage } from "eventsource-parser";

/** A test client of one SSE response: parses events as they arrive, exposes them, can be aborted. */
export class SseTestClient {
  readonly events: EventSourceMessage[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  ended = false;
  private readonly done: Promise<void>;

  constructor(readonly response: Response) {
    const parser = createParser({
      onEvent: (e) => this.events.push(e),
      onComment: (c) => this.comments.push(c),
      onRetry: (r) => (this.retry = r),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // Aborted by the test.
      } finally {
        this.ended = true;
      }
    })();
  }

  ids(): number[] {
    return this.events.map((e) => Number(e.id));
  }

  async closed(): Promise<void> {
    await this.done;
  }
}
