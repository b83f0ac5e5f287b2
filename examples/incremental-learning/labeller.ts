// The person in the loop: looks at the hard examples the inference worker mined (one JSON file per
// example in its HE_SAVED_URL folder, written by hard-example-file.ts), gives each its label and
// appends `<file> <label>` to the Dataset's index, where the LC's data loop picks the new samples
// up. The scenario plays the person with the true labels of the camera's frames; a real labeller
// would look at the picture. Which frames a sitting labels follows the fixed plan of
// labelling-plan.ts (the next hard frames in frame order, as the model serving now judged them),
// not how far the stream has run, so every run labels the same frames for the same models.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHardExample } from './hard-example-file.ts';
import { planSitting } from './labelling-plan.ts';
import type { StreamStats } from './stream-stats.ts';

export class Labeller {
  private readonly labelledFrames = new Set<number>();
  /** Files read, so each is read once. */
  private readonly seen = new Set<string>();
  /** Per model version, the hard example file of each frame it found hard. */
  private readonly mined = new Map<string, Map<number, string>>();
  private cursor = 0;
  labelled = 0;

  constructor(
    private readonly heDir: string,
    private readonly datasetIndex: string,
    private readonly truth: ArrayLike<number>,
  ) {}

  /**
   * Labels the next `batch` frames of the plan, as the model serving now (`stats.modelVersion`)
   * judged them; does nothing (returns 0) until the stream has brought every frame the plan must
   * look at through that model. Returns how many it appended.
   */
  async sitting(stats: StreamStats, batch: number): Promise<number> {
    await this.scan();
    const version = stats.modelVersion;
    const covered = stats.coverage[version];
    if (!covered) return 0;
    const hard = this.mined.get(version) ?? new Map<number, string>();
    const answered = (frame: number): boolean => covered.count >= stats.frames || (frame - covered.first + stats.frames) % stats.frames < covered.count;
    const plan = planSitting(this.cursor, stats.frames, batch, this.labelledFrames, (frame) => (!answered(frame) ? 'unseen' : hard.has(frame) ? 'hard' : 'easy'));
    if (!plan) return 0;
    const lines = plan.frames.map((frame) => {
      const label = this.truth[frame];
      if (label === undefined) throw new Error(`frame ${frame} is not in the camera's recording`);
      return `${hard.get(frame)!} ${label}`;
    });
    await this.append(lines);
    for (const frame of plan.frames) this.labelledFrames.add(frame);
    this.cursor = plan.nextCursor;
    this.labelled += lines.length;
    return lines.length;
  }

  /** Reads the hard example files not read before. */
  private async scan(): Promise<void> {
    const names = await readdir(this.heDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.') || this.seen.has(name)) continue;
      const path = join(this.heDir, name);
      const { frame, model } = parseHardExample(await readFile(path, 'utf8'), path);
      this.seen.add(name);
      let files = this.mined.get(model);
      if (!files) this.mined.set(model, (files = new Map<number, string>()));
      if (!files.has(frame)) files.set(frame, path);
    }
  }

  /**
   * Appends the sitting's lines in one step (a new file renamed over the index), so the LC's data
   * loop sees all of them or none: a half-read sitting would be split by trainProb in two parts.
   */
  private async append(lines: string[]): Promise<void> {
    const before = await readFile(this.datasetIndex, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '' : Promise.reject(err)));
    await writeFile(`${this.datasetIndex}.part`, `${before}${lines.join('\n')}\n`);
    await rename(`${this.datasetIndex}.part`, this.datasetIndex);
  }
}
