// Checks a knowledge-base index (src/api/kb-index.ts) before anything is recorded: a malformed
// index is refused whole with the field that is wrong, so the tables never hold half of one.
// Sedna unpickled whatever it was sent (arbitrary code execution on the KB server) and failed on a
// missing attribute halfway through its bookkeeping.
import type { KbIndex, KbModel, KbSampleSet, KbTask, KbTaskGroup, KbTaskSide } from '../api/kb-index.ts';

/** Bad input from a caller: the server answers 400 with this message. */
export class KbInputError extends Error {}

/** Sedna's `name varchar(100)`. */
export const MAX_NAME_LENGTH = 100;
/** Task groups and tasks one index may hold, so one update is a bounded transaction. */
export const MAX_GROUPS = 10_000;
export const MAX_TASKS = 100_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, what: string): never {
  throw new KbInputError(`index: ${path} ${what}`);
}

function name(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') fail(path, 'must be a non-empty string');
  if (value.length > MAX_NAME_LENGTH) fail(path, `must be at most ${MAX_NAME_LENGTH} characters`);
  return value;
}

function optionalString(value: unknown, path: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') fail(path, 'must be a string or null');
  return value;
}

function samples(value: unknown, path: string): KbSampleSet {
  if (!isObject(value)) fail(path, 'must be an object {sample_num, data_url?, data_type?}');
  const count = value.sample_num;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) fail(`${path}.sample_num`, 'must be a non-negative integer');
  const out: KbSampleSet = { sample_num: count };
  const dataUrl = optionalString(value.data_url, `${path}.data_url`);
  if (dataUrl !== undefined) out.data_url = dataUrl;
  const dataType = optionalString(value.data_type, `${path}.data_type`);
  if (dataType !== undefined) out.data_type = dataType;
  return out;
}

function task(value: unknown, path: string): KbTask {
  if (!isObject(value)) fail(path, 'must be an object');
  const out: KbTask = { entry: name(value.entry, `${path}.entry`), samples: samples(value.samples, `${path}.samples`) };
  if (value.meta_attr !== undefined) out.meta_attr = value.meta_attr;
  const model = optionalString(value.model, `${path}.model`);
  if (model !== undefined) out.model = model;
  return out;
}

function model(value: unknown, path: string): KbModel {
  if (!isObject(value)) fail(path, 'must be an object {model: URL, …}');
  if (typeof value.model !== 'string' || value.model === '') fail(`${path}.model`, 'must be the model file\'s URL');
  if (value.result !== undefined && value.result !== null && !isObject(value.result)) fail(`${path}.result`, 'must be an object or null');
  if (value.scores !== undefined && value.scores !== null) {
    if (!isObject(value.scores)) fail(`${path}.scores`, 'must be an object of numbers or null');
    for (const [metric, score] of Object.entries(value.scores)) if (typeof score !== 'number') fail(`${path}.scores.${metric}`, 'must be a number');
  }
  if (value.classes !== undefined && value.classes !== null) {
    if (!Array.isArray(value.classes) || value.classes.some((c) => typeof c !== 'string')) fail(`${path}.classes`, 'must be a list of strings or null');
  }
  return value as unknown as KbModel;
}

function group(value: unknown, path: string): KbTaskGroup {
  if (!isObject(value)) fail(path, 'must be an object');
  if (!Array.isArray(value.tasks)) fail(`${path}.tasks`, 'must be a list');
  return {
    ...value,
    entry: name(value.entry, `${path}.entry`),
    tasks: value.tasks.map((t, i) => task(t, `${path}.tasks[${i}]`)),
    samples: samples(value.samples, `${path}.samples`),
    model: model(value.model, `${path}.model`),
  };
}

function side(value: unknown, path: string): KbTaskSide {
  if (!isObject(value)) fail(path, 'must be an object {extractor, task_groups}');
  if (!Array.isArray(value.task_groups)) fail(`${path}.task_groups`, 'must be a list');
  const groups = value.task_groups.map((g, i) => group(g, `${path}.task_groups[${i}]`));
  const seen = new Set<string>();
  for (const [i, g] of groups.entries()) {
    if (seen.has(g.entry)) fail(`${path}.task_groups[${i}].entry`, `repeats the group name "${g.entry}"`);
    seen.add(g.entry);
  }
  return { extractor: value.extractor ?? null, task_groups: groups };
}

/** The index in `text`, checked; a KbInputError names the first wrong field. */
export function parseKbIndex(text: string): KbIndex {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KbInputError(`index: not JSON (${(err as Error).message}); the index is a JSON document, not a Python pickle`);
  }
  if (!isObject(raw)) fail('', 'must be an object {seen_task, unseen_task, create_time?}');
  const seen = side(raw.seen_task, 'seen_task');
  const unseen = side(raw.unseen_task, 'unseen_task');
  const groups = seen.task_groups.length + unseen.task_groups.length;
  if (groups > MAX_GROUPS) fail('task_groups', `hold ${groups} groups; at most ${MAX_GROUPS}`);
  const tasks = [...seen.task_groups, ...unseen.task_groups].reduce((n, g) => n + g.tasks.length, 0);
  if (tasks > MAX_TASKS) fail('tasks', `number ${tasks}; at most ${MAX_TASKS}`);
  const index: KbIndex = { ...raw, seen_task: seen, unseen_task: unseen };
  const createTime = optionalString(raw.create_time, 'create_time');
  if (createTime !== undefined && createTime !== null) index.create_time = createTime;
  return index;
}
