// IncrementalLearningJob: the LocalController of the dataset's node collects new samples, triggers
// training, evaluates the new model against the deployed one and deploys it when the deploy trigger
// fires (spec §1.7). Stages cycle Train → Eval → Deploy.
import type { KubeObject } from '../meta.ts';
import { hardExampleMiningSchema, refSchema, triggerSchema } from './common.ts';
import type { HardExampleMining, NamedRef, Trigger } from './common.ts';
import { CONDITION_COLUMN, STAGE_COLUMN, column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { boolean, int32, int64, number, object, string, stringEnum, withDefault, withMinimum } from './schema.ts';
import { completionTimeSchema, conditionsSchema, startTimeSchema, statusSchema } from './status.ts';
import type { BaseStatus, SednaCondition, StageConditionType } from './status.ts';
import { podTemplateSchema } from './workloads.ts';
import type { PodTemplateSpec } from './workloads.ts';

export const STAGES = ['Train', 'Eval', 'Deploy'] as const;
export type Stage = (typeof STAGES)[number];

/** The dataset samples are drawn from; trainProb of new samples go to training, the rest to eval. */
export interface LearningDataset extends NamedRef {
  trainProb: number;
}

export interface DeployModel extends NamedRef {
  hotUpdateEnabled?: boolean;
  pollPeriodSeconds?: number;
}

export interface IncrementalLearningJobSpec {
  dataset: LearningDataset;
  initialModel: NamedRef;
  trainSpec: { template: PodTemplateSpec; trigger: Trigger };
  evalSpec: { template: PodTemplateSpec; initialEvalModel?: NamedRef };
  deploySpec: {
    model: DeployModel;
    trigger: Trigger;
    hardExampleMining: HardExampleMining;
    template: PodTemplateSpec;
  };
  outputDir: string;
  credentialName?: string;
}

/** IL and LL conditions: the stage they belong to, and the stage's input/output as a JSON string. */
export interface StageCondition extends SednaCondition<StageConditionType> {
  stage: Stage;
  data?: string;
}

export interface IncrementalLearningJobStatus extends BaseStatus<StageCondition> {
  startTime?: string;
  completionTime?: string;
  /** The train → eval → deploy cycle the job is in, from 1 (our addition). */
  round?: number;
  /** URL of the model the inference worker serves (our addition). */
  deployedModel?: string;
}

export interface IncrementalLearningJob extends KubeObject {
  spec: IncrementalLearningJobSpec;
  status?: IncrementalLearningJobStatus;
}

export const learningDatasetSchema = object(
  {
    name: string('Name of a Dataset in the same namespace; its node runs the job.'),
    trainProb: number('Fraction of new samples used for training; the rest is used for evaluation.'),
  },
  ['name', 'trainProb'],
);

export const stageConditionsSchema = conditionsSchema(
  {
    stage: stringEnum(STAGES, 'Stage the condition belongs to: Train, Eval or Deploy.'),
    data: string('JSON input and output of the stage (models, data URLs).'),
  },
  ['stage'],
);

const deployModel = object(
  {
    name: string('Name of the Model the inference worker serves; deploying overwrites it.'),
    hotUpdateEnabled: boolean('Reload the model in the running worker instead of restarting it.'),
    // The only schema default in Sedna's CRDs.
    pollPeriodSeconds: withMinimum(withDefault(int64('How often the worker checks for a new model.'), 60), 1),
  },
  ['name'],
);

const spec = object(
  {
    dataset: learningDatasetSchema,
    initialModel: refSchema('Model'),
    trainSpec: object({ template: podTemplateSchema, trigger: triggerSchema }, ['template', 'trigger']),
    evalSpec: object({ template: podTemplateSchema, initialEvalModel: refSchema('Model') }, ['template']),
    deploySpec: object(
      { model: deployModel, trigger: triggerSchema, hardExampleMining: hardExampleMiningSchema, template: podTemplateSchema },
      ['hardExampleMining', 'model', 'template', 'trigger'],
    ),
    outputDir: string('Node path or s3:// URL for samples and trained models.'),
    credentialName: string('Secret in the same namespace with the S3 credentials for outputDir.'),
  },
  ['dataset', 'deploySpec', 'evalSpec', 'initialModel', 'outputDir', 'trainSpec'],
);

const status = statusSchema(
  {
    startTime: startTimeSchema,
    completionTime: completionTimeSchema,
    round: int32('The train, eval and deploy cycle the job is in, from 1.'),
    deployedModel: string('URL of the model the inference worker serves.'),
  },
  stageConditionsSchema,
);

export const incrementalLearningJobKind: KindDefinition = defineKind({
  kind: 'IncrementalLearningJob',
  shortNames: ['il'],
  description: 'IncrementalLearningJob retrains and redeploys a model as new samples arrive.',
  spec,
  status,
  requireMetadata: true,
  columns: [STAGE_COLUMN, CONDITION_COLUMN, column('Round', 'integer', '.status.round'), column('Deployed Model', 'string', '.status.deployedModel'), column('Dataset', 'string', '.spec.dataset.name', 1)],
});
