// The scenario's fixed settings, shared by the system run (run.ts, resources.yaml) and the
// in-process simulation that makes its choices on validation (train-base-model.ts), so both play
// the same cycles. These are the setting of the story, not tuned: how many hard examples a person
// labels in one sitting, Sedna's train/eval split of new samples, how many cycles, how much
// daytime accuracy may be given up.

/** Hard examples the labeller labels in one sitting (appended to the Dataset together). */
export const LABELLING_BATCH = 1000;
/** The Dataset's trainProb: the first 80% of new samples train, the rest evaluate. */
export const TRAIN_PROB = 0.8;
/** Train → eval → deploy cycles the scenario runs. */
export const CYCLES = 2;
/** Original accuracy the deploy condition allows to lose (the target: 2 points). */
export const FORGETTING_ALLOWED = 0.02;
