// What the inference worker writes to RESULTS_DIR/incremental-learning-stream.json each second and
// the runner reads: the stream's counters and the timing of every hot swap.

export interface SwapTiming {
  /** The deployed model's version (its model_update_time). */
  version: string;
  /** push or poll. */
  via: string;
  /** The SDK's time from the update reaching the worker to the new model serving (load beside the old one, swap). */
  loadToServeMs: number;
  /** From the load's end to the first answer by the new model. */
  firstAnswerMs: number;
  /** loadToServeMs + firstAnswerMs: from the LC's push to the new model answering. */
  swapMs: number;
  at: string;
}

/** The frames one model version answered: `count` frames in stream order from `first` (wrapping). */
export interface Coverage {
  first: number;
  count: number;
}

export interface StreamStats {
  inferenceRequests: number;
  failedInferences: number;
  hardExamples: number;
  modelVersion: string;
  swaps: SwapTiming[];
  /** Per model version, the frames it answered; every hard one among them is on disk (HE_SAVED_URL). */
  coverage: Record<string, Coverage>;
  /** Frames in the camera's recording. */
  frames: number;
  updatedAt: string;
}
