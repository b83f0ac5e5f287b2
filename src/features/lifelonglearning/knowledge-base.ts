// The knowledge base as the SDK holds it: the index (src/api/kb-index.ts, JSON) plus what lifelong
// learning needs beyond Sedna's fields (the extractor inline, the calibrated unseen-sample
// detector, each group's deploy flag), and reading an index from wherever it was published (a
// local path, a KB download URL with the token, or plain http).
import { readFile } from 'node:fs/promises';
import type { KbIndex, KbTaskGroup } from '../../api/kb-index.ts';
import { ConfigError } from '../../lib/context.ts';
import { download, isHttp, localPath } from '../../lib/file-ops/index.ts';
import type { KbClient } from './kb-client.ts';
import type { TaskExtractor } from './tasks.ts';
import type { DistanceDetectorState } from './unseen-recognition.ts';

export const KB_INDEX_NAME = 'index.json';
export const SEEN_TASK = 'seen_task';

export interface LifelongGroup extends KbTaskGroup {
  /** False once evaluation dropped the group (its samples then go to group 0's model, as Sedna). */
  deploy?: boolean;
}

export interface LifelongIndex extends KbIndex {
  seen_task: { extractor: TaskExtractor; task_groups: LifelongGroup[] };
  /** The distance detector for samples without a task attribute; null when trained without validation data. */
  unseen_detector: DistanceDetectorState | null;
  /** Training rounds so far (1 after the initial training). */
  round: number;
  create_time: string;
}

/** Reads and checks an index; a malformed one is a ConfigError naming what is wrong. */
export async function readIndex(url: string, kb: KbClient | null): Promise<LifelongIndex> {
  let raw: unknown;
  if (kb?.serves(url)) raw = await kb.fetchIndex(url);
  else {
    const path = isHttp(url) ? await download(url) : localPath(url);
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`knowledge-base index ${url}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`knowledge-base index ${url}: not JSON (${(error as Error).message})`);
    }
  }
  return checkIndex(raw, url);
}

function checkIndex(raw: unknown, url: string): LifelongIndex {
  const fail = (what: string): never => {
    throw new ConfigError(`knowledge-base index ${url}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not an object');
  const index = raw as Partial<LifelongIndex>;
  const seen = index.seen_task;
  if (!seen || !Array.isArray(seen.task_groups)) return fail('seen_task.task_groups must be a list');
  const extractor = seen.extractor as Partial<TaskExtractor> | null | undefined;
  if (!extractor || (extractor.kind !== 'attribute' && extractor.kind !== 'cluster')) return fail('seen_task.extractor must be an attribute or cluster extractor');
  seen.task_groups.forEach((group, i) => {
    if (typeof group?.entry !== 'string' || typeof group.model?.model !== 'string') fail(`seen_task.task_groups[${i}] needs an entry and model.model`);
  });
  if (typeof index.create_time !== 'string') return fail('create_time must be a string');
  return { unseen_detector: null, round: 1, ...index, unseen_task: index.unseen_task ?? { extractor: null, task_groups: [] } } as LifelongIndex;
}
