// The `data` of an IncrementalLearningJob condition (Sedna's IncrementalCondData, spec §2.4.4): the
// stage's input (models, the sample file the LC wrote, its index, the output directory) and output
// (the models a worker produced). Shared by the GM (pod specs, upstream reports) and the LC (the
// trained model of the latest Train/Completed, the metrics of the latest Eval/Completed).
import type { Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';

export interface StageModel {
  format?: string;
  url: string;
  device_soc_versions?: string[];
  metrics?: Record<string, unknown>;
  classes?: unknown;
  [field: string]: unknown;
}

export interface StageInput {
  model?: StageModel;
  models?: StageModel[];
  dataURL?: string;
  dataIndexURL?: string;
  outputDir?: string;
}

export interface StageData {
  input?: StageInput;
  output?: { model?: StageModel; models?: StageModel[] | null } | null;
}

/** Thrown for a `data` that is not Sedna's shape; the message names the field. */
export class StageDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageDataError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkModel(value: unknown, field: string): StageModel {
  if (!isObject(value)) throw new StageDataError(`${field} must be an object`);
  if (typeof value.url !== 'string' || value.url === '') throw new StageDataError(`${field}.url must be a non-empty string`);
  if (value.format !== undefined && typeof value.format !== 'string') throw new StageDataError(`${field}.format must be a string`);
  return value as StageModel;
}

function checkModels(value: unknown, field: string): StageModel[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new StageDataError(`${field} must be a list`);
  return value.map((m, i) => checkModel(m, `${field}[${i}]`));
}

function checkString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new StageDataError(`${field} must be a string`);
  return value;
}

/** Checks a report's `{input, output}` and returns it in Sedna's shape (unknown keys of models kept). */
export function checkStageData(input: unknown, output: unknown): StageData {
  const data: StageData = {};
  if (input !== undefined && input !== null) {
    if (!isObject(input)) throw new StageDataError('input must be an object');
    const checked: StageInput = {};
    if (input.model !== undefined && input.model !== null) checked.model = checkModel(input.model, 'input.model');
    const models = checkModels(input.models, 'input.models');
    if (models) checked.models = models;
    for (const key of ['dataURL', 'dataIndexURL', 'outputDir'] as const) {
      const value = checkString(input[key], `input.${key}`);
      if (value !== undefined) checked[key] = value;
    }
    data.input = checked;
  }
  if (output !== undefined && output !== null) {
    if (!isObject(output)) throw new StageDataError('output must be an object');
    const out: NonNullable<StageData['output']> = {};
    if (output.model !== undefined && output.model !== null) out.model = checkModel(output.model, 'output.model');
    const models = checkModels(output.models, 'output.models');
    if (models) out.models = models;
    data.output = out;
  }
  return data;
}

/** The data of a condition; a condition without data, or with data that does not parse, has none. */
export function dataOf(condition: Pick<StageCondition, 'data'> | undefined): StageData | undefined {
  if (!condition?.data) return undefined;
  try {
    const parsed = JSON.parse(condition.data) as unknown;
    if (!isObject(parsed)) return undefined;
    return checkStageData(parsed.input, parsed.output);
  } catch {
    return undefined;
  }
}

/** The output models of a condition (`output.model` or `output.models`). */
export function outputModels(data: StageData | undefined): StageModel[] {
  const output = data?.output;
  if (!output) return [];
  return output.model ? [output.model] : (output.models ?? []);
}

/** The latest condition of `stage` and `type`, newest first search. */
export function latestOf(conditions: readonly StageCondition[] | undefined, stage: Stage, type: StageCondition['type']): StageCondition | undefined {
  return conditions?.findLast((c) => c.stage === stage && c.type === type);
}

/** Input model URLs: `[input.model.url]` if set, else every `input.models[].url`. */
export function inputModelUrls(data: StageData): string[] {
  const input = data.input;
  if (input?.model) return [input.model.url];
  return (input?.models ?? []).map((m) => m.url);
}
