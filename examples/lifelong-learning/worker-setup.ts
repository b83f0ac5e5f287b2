// What every part of the scenario hands LifelongLearning — the in-process simulation and the
// train, eval and inference workers on the system alike: the task model (task-model.ts), what
// the unseen-sample detector compares (image statistics), and tasks defined by the `camera`
// attribute. One place, so the simulation and the system run the same pipeline.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { numberParameter, readSamplesCsv, type LifelongLearningOptions, type Samples } from 'sedna/worker';
import { imageStatistics } from './image-features.ts';
import { DEFAULT_TASK_MODEL, mlpTaskModels, type TaskModelSettings } from './task-model.ts';

export const TASK_ATTRIBUTE = 'camera';

export function pipelineOptions(model: TaskModelSettings = DEFAULT_TASK_MODEL): Pick<LifelongLearningOptions, 'estimator' | 'detectorFeatures' | 'taskDefinition'> {
  return {
    estimator: mlpTaskModels(model),
    detectorFeatures: (row: Float32Array) => imageStatistics(row.map((v) => v / 255)),
    taskDefinition: { method: 'TaskDefinitionByDataAttr', param: { attribute: [TASK_ATTRIBUTE] } },
  };
}

/** The task model's settings from a worker's env (the job's YAML sets them). */
export function modelSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TaskModelSettings {
  return {
    maxEpochs: numberParameter('max_epochs', DEFAULT_TASK_MODEL.maxEpochs, env, { positive: true, integer: true }),
    batchSize: numberParameter('batch_size', DEFAULT_TASK_MODEL.batchSize, env, { positive: true, integer: true }),
    learningRate: numberParameter('learning_rate', DEFAULT_TASK_MODEL.learningRate, env, { positive: true }),
    seed: numberParameter('seed', DEFAULT_TASK_MODEL.seed, env, { integer: true }),
  };
}

/** Every CSV file in the folder, joined in name order (so a rerun reads them alike); undefined when there is none. */
export function readCsvFolder(folder: string, dataType: 'train' | 'test'): Samples | undefined {
  const parts = readdirSync(folder).filter((f) => f.endsWith('.csv')).sort().map((f) => readSamplesCsv(join(folder, f), { dataType }));
  if (parts.length === 0) return undefined;
  const labelled = parts.every((p) => p.y);
  return { columns: parts[0]!.columns, x: parts.flatMap((p) => p.x), ...(labelled ? { y: parts.flatMap((p) => p.y!) } : {}), meta: parts.flatMap((p) => p.meta), dataType };
}
