// The person in the loop: looks at the hard examples the inference worker mined (one JSON file per
// example in its HE_SAVED_URL folder, written by hard-example-file.ts), gives each its label and
// appends `<file> <label>` to the Dataset's index, where the LC's data loop picks the new samples
// up. The scenario plays the person with the true labels of the camera's frames; a real labeller
// would look at the picture. A sitting labels `batch` examples at once, in the order they were
// mined, skipping frames labelled before (the camera's recording loops), and only files mined
// after `after` (by the model deployed then).
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHardExample } from './hard-example-file.ts';

export class Labeller {
  private readonly labelledFrames = new Set<number>();
  /** Files looked at (labelled or skipped), so each is read once. */
  private readonly seen = new Set<string>();
  labelled = 0;

  constructor(
    private readonly heDir: string,
    private readonly datasetIndex: string,
    private readonly truth: ArrayLike<number>,
  ) {}

  /** Hard-example files written so far, in the order they were mined (their names sort so). */
  async files(): Promise<string[]> {
    const names = await readdir(this.heDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  }

  /**
   * Labels the first `batch` not-yet-labelled frames among the files after index `after` of
   * files(); does nothing (returns 0) until that many are there. Returns how many it appended.
   */
  async sitting(after: number, batch: number): Promise<number> {
    const candidates = (await this.files()).slice(after).filter((name) => !this.seen.has(name));
    const lines: string[] = [];
    const frames = new Set<number>();
    const used: string[] = [];
    for (const name of candidates) {
      if (lines.length === batch) break;
      const path = join(this.heDir, name);
      const { frame } = parseHardExample(await readFile(path, 'utf8'), path);
      used.push(name);
      if (this.labelledFrames.has(frame) || frames.has(frame)) continue;
      const label = this.truth[frame];
      if (label === undefined) throw new Error(`${path}: frame ${frame} is not in the camera's recording`);
      frames.add(frame);
      lines.push(`${path} ${label}`);
    }
    if (lines.length < batch) return 0;
    await appendFile(this.datasetIndex, `${lines.join('\n')}\n`);
    for (const name of used) this.seen.add(name);
    for (const frame of frames) this.labelledFrames.add(frame);
    this.labelled += lines.length;
    return lines.length;
  }
}
