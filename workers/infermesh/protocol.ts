/** Messages between the server (main thread) and a model session's worker thread. */

/** What a session thread is started with (its workerData). */
export interface SessionThreadData {
  /** Short name of the model (registry). */
  model: string;
  /** Path of the model's ONNX file, checked to be whole before the thread starts. */
  onnx: string;
  intraOpThreads: number;
  /** An encoded input to run once before `ready`, so the first request does not pay for warming up. */
  warmup: number[];
}

export type ToWorker = {
  type: "embed";
  id: number;
  /** Every input's token ids, one after the other (transferred, not copied). */
  ids: Int32Array;
  /** Tokens of each input in `ids`. */
  lengths: Int32Array;
};

export type FromWorker =
  | { type: "ready"; model: string; dim: number; loadMs: number }
  | { type: "fatal"; message: string }
  | {
      type: "result";
      id: number;
      /** Row-major, inputs × dim, each row L2-normalised; transferred (not copied). */
      data: Float32Array;
      dim: number;
      inferenceMs: number;
    }
  | { type: "error"; id: number; message: string };
