import Link from "next/link";
import { ApiError } from "@/lib/http/api-error";
import type { MessagesAnswer } from "@/lib/topics/types";

/** What a refused or failed read says first: the API's own message follows it (what is valid). */
export function readErrorTitle(status: number | undefined): string {
  if (status === 404) return "No such topic";
  if (status === 429) return "Too many reads at once";
  if (status !== undefined && status >= 400 && status < 500) return "The read was refused";
  return "The read failed";
}

/** A read that failed: the API's message (which says what is valid), never a crash. */
export function MessagesError({ error }: { error: Error }) {
  const status = error instanceof ApiError ? error.status : undefined;
  return (
    <div className="rounded-lg border border-line bg-surface px-4 py-3 text-sm" role="alert" data-testid="topic-messages-error" data-status={status ?? ""}>
      <p className="font-medium text-down">{readErrorTitle(status)}</p>
      <p className="break-words text-xs text-muted" data-testid="topic-messages-error-message">{error.message}</p>
      {status === 404 && <p className="mt-1 text-xs"><Link href="/topics" className="text-accent underline">the pipeline&apos;s topics</Link></p>}
    </div>
  );
}

/** Kafka did not answer (`unavailable=200`). */
export function MessagesUnavailable({ message }: { message: string }) {
  return (
    <div className="rounded-lg border border-line bg-surface px-4 py-3 text-sm" role="alert" data-testid="topic-messages-unavailable">
      <p className="font-medium text-down">Kafka unavailable</p>
      <p className="break-words text-xs text-muted">{message}</p>
    </div>
  );
}

export function MessagesLoading() {
  return <p className="px-4 py-3 text-sm text-muted" role="status" aria-live="polite" data-testid="topic-messages-loading">reading…</p>;
}

/** No record in what was asked: say so, with each partition's range to pick another. */
export function MessagesEmpty({ answer }: { answer: MessagesAnswer }) {
  return (
    <div className="px-4 py-3 text-sm text-muted" data-testid="topic-messages-empty">
      <p>No records in this range{answer.scanned > 0 ? ` (${answer.scanned.toLocaleString("en-US")} offsets read)` : ""}.</p>
      {answer.partitions.length > 0 && (
        <p className="text-xs">offsets held: {answer.partitions.map((p) => `partition ${p.partition}: ${p.start}–${p.end}`).join(" · ")} (the end is the next offset written)</p>
      )}
    </div>
  );
}

/** The answer stopped short (key scan limit, deadline): how far it got and why. */
export function MessagesPartialNote({ partial, scanned }: { partial: NonNullable<MessagesAnswer["partial"]>; scanned: number }) {
  return (
    <p className="mx-4 my-2 rounded-md border border-warn bg-warn-soft px-3 py-1.5 text-xs text-warn" role="status" data-testid="topic-messages-partial" data-reason={partial.reason}>
      Partial answer after {scanned.toLocaleString("en-US")} offsets read: {partial.message}
    </p>
  );
}
