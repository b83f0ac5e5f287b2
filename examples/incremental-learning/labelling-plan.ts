// Which frames a labelling sitting takes: a fixed plan by frame index, so that what is labelled
// does not depend on how far the stream had run when the person sat down. Shared by the labeller
// of the system run (labeller.ts) and the simulation that makes the choices on validation
// (simulation.ts), so both label the same frames for the same models.
//
// The plan: sitting k walks the camera's recording in frame order from its cursor (0 for the
// first sitting, then one past the last frame the previous sitting took), wrapping at the end,
// and takes the first `batch` frames not labelled before that the model serving at sitting k
// flagged hard. The next cursor is one past the last frame taken.

/** What the serving model said of a frame: hard, not hard, or not streamed through it yet. */
export type Judgement = 'hard' | 'easy' | 'unseen';

export interface SittingPlan {
  /** The frames to label, in walk order. */
  frames: number[];
  /** Where the next sitting starts. */
  nextCursor: number;
}

/**
 * The frames sitting `cursor` takes, or undefined while a frame the walk must judge is still
 * `unseen` (the stream has not brought it through the serving model yet). Also undefined when a
 * whole loop over the recording finds fewer than `batch` frames to take.
 */
export function planSitting(cursor: number, frameCount: number, batch: number, labelled: ReadonlySet<number>, judge: (frame: number) => Judgement): SittingPlan | undefined {
  const frames: number[] = [];
  for (let step = 0; step < frameCount && frames.length < batch; step++) {
    const frame = (cursor + step) % frameCount;
    if (labelled.has(frame)) continue;
    const judgement = judge(frame);
    if (judgement === 'unseen') return undefined;
    if (judgement === 'hard') frames.push(frame);
  }
  if (frames.length < batch) return undefined;
  return { frames, nextCursor: (frames.at(-1)! + 1) % frameCount };
}
