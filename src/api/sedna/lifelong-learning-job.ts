// LifelongLearningJob: like incremental learning, but the models live in a knowledge base that grows
// task by task, so no Model resources are referenced (spec §1.8).
import type { KubeObject } from '../meta.ts';
import { triggerSchema } from './common.ts';
import type { Trigger } from './common.ts';
import { learningDatasetSchema, stageConditionsSchema } from './incremental-learning-job.ts';
import type { LearningDataset, StageCondition } from './incremental-learning-job.ts';
import { CONDITION_COLUMN, STAGE_COLUMN, column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { array, int32, integer, number, object, string } from './schema.ts';
import { completionTimeSchema, startTimeSchema, statusSchema } from './status.ts';
import type { BaseStatus } from './status.ts';
import { podTemplateSchema } from './workloads.ts';
import type { PodTemplateSpec } from './workloads.ts';

export interface LifelongLearningJobSpec {
  dataset: LearningDataset;
  trainSpec: { template: PodTemplateSpec; trigger: Trigger };
  evalSpec: { template: PodTemplateSpec };
  deploySpec: { template: PodTemplateSpec };
  /** The deployed knowledge base index is always <outputDir>/deploy/index.json (Sedna: index.pkl, a pickle). */
  outputDir: string;
  credentialName?: string;
}

// Sedna's JSON keys, capitals included.
export interface KnowledgeBaseStatus {
  AIModels: {
    numberOfAIModels: number;
    listOfAIModels?: Array<{ modelID: string; averagePrecision: number; numberOfTrainSamples: number }>;
  };
  AIClasses: { numberOfAIClasses: number; listOfAIClasses?: string[] };
  samples: { numberOfLabeledUnseenSample: number; numberOfUnseenSample: number };
}

/** Where the LC copies the evaluated index and the inference worker reads it, under spec.outputDir. */
export const LL_DEPLOY_INDEX = 'deploy/index.json';

export interface LifelongLearningJobStatus extends BaseStatus<StageCondition> {
  startTime?: string;
  completionTime?: string;
  /** The train, eval and deploy cycle, from 1 (as incremental learning's). */
  round?: number;
  /** The index the inference worker serves, once a cycle deployed one. */
  deployedModel?: string;
  knowledgeBase?: KnowledgeBaseStatus;
}

export interface LifelongLearningJob extends KubeObject {
  spec: LifelongLearningJobSpec;
  status?: LifelongLearningJobStatus;
}

const aiModel = object(
  { modelID: string(), averagePrecision: number(), numberOfTrainSamples: integer() },
  ['averagePrecision', 'modelID', 'numberOfTrainSamples'],
);

const knowledgeBase = object(
  {
    AIModels: object({ numberOfAIModels: integer(), listOfAIModels: array(aiModel) }, ['numberOfAIModels']),
    AIClasses: object({ numberOfAIClasses: integer(), listOfAIClasses: array(string()) }, ['numberOfAIClasses']),
    samples: object(
      { numberOfLabeledUnseenSample: integer(), numberOfUnseenSample: integer() },
      ['numberOfLabeledUnseenSample', 'numberOfUnseenSample'],
    ),
  },
  ['AIClasses', 'AIModels', 'samples'],
  'What the knowledge base holds: models, classes and unseen samples.',
);

const spec = object(
  {
    dataset: learningDatasetSchema,
    trainSpec: object({ template: podTemplateSchema, trigger: triggerSchema }, ['template', 'trigger']),
    evalSpec: object({ template: podTemplateSchema }, ['template']),
    deploySpec: object({ template: podTemplateSchema }, ['template']),
    outputDir: string('Node path or s3:// URL for samples and the knowledge base.'),
    credentialName: string('Secret in the same namespace with the S3 credentials for outputDir.'),
  },
  ['dataset', 'deploySpec', 'evalSpec', 'outputDir', 'trainSpec'],
);

const status = statusSchema(
  {
    startTime: startTimeSchema,
    completionTime: completionTimeSchema,
    knowledgeBase,
    round: int32('The train, eval and deploy cycle the job is in, from 1.'),
    deployedModel: string('The knowledge-base index the inference worker serves.'),
  },
  stageConditionsSchema,
);

export const lifelongLearningJobKind: KindDefinition = defineKind({
  kind: 'LifelongLearningJob',
  shortNames: ['ll'],
  description: 'LifelongLearningJob keeps learning new tasks into a knowledge base of models.',
  spec,
  status,
  requireMetadata: true,
  columns: [
    STAGE_COLUMN,
    CONDITION_COLUMN,
    column('Round', 'integer', '.status.round'),
    column('Models', 'integer', '.status.knowledgeBase.AIModels.numberOfAIModels'),
    column('Classes', 'integer', '.status.knowledgeBase.AIClasses.numberOfAIClasses', 1),
    column('Unseen', 'integer', '.status.knowledgeBase.samples.numberOfUnseenSample', 1),
    column('Dataset', 'string', '.spec.dataset.name', 1),
  ],
});
