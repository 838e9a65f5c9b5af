/** Messages between the server (main thread) and the model's worker thread. */
export type ToWorker = { type: "embed"; id: number; texts: string[] };

export type FromWorker =
  | { type: "ready"; model: string; dim: number; backend: string; loadMs: number }
  | { type: "fatal"; message: string }
  | {
      type: "result";
      id: number;
      /** Row-major, texts.length × dim, transferred (not copied). */
      data: Float32Array;
      dim: number;
      /** SentencePiece tokens per input (OpenAI `usage`). */
      tokens: number[];
      inferenceMs: number;
    }
  | { type: "error"; id: number; message: string };
