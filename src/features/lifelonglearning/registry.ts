// The lifelong-learning algorithm registries (Sedna's `ClassFactory` types STP and UTD, lib.md
// §10.1): each pipeline stage is chosen as `{method, param}` (param a map or a JSON string);
// users register their own by name. An unknown name is a ConfigError listing the known ones.
import { ConfigError } from '../../lib/context.ts';
import type { Samples } from './samples.ts';
import { taskAllocationByClustering, taskAllocationByDataAttr, taskAllocationDefault, type TaskAllocation } from './task-allocation.ts';
import { taskDefinitionByClustering, taskDefinitionByDataAttr, type TaskDefinition } from './task-definition.ts';
import { defaultTaskRelationDiscover, type TaskRelationDiscovery } from './task-relation.ts';
import type { TaskExtractor } from './tasks.ts';
import { sampleRecognitionByAttrThenDistance, sampleRecognitionByDistance, sampleRecognitionByTaskAttr, type DetectorFeatures, type DistanceDetectorState, type UnseenSampleRecognition } from './unseen-recognition.ts';

export interface AlgorithmSpec {
  method: string;
  param?: Record<string, unknown> | string;
}

export type Params = Record<string, unknown>;

/** What unseen-sample recognition is built from: the deployed knowledge base. */
export interface RecognitionContext {
  extractor: TaskExtractor;
  detector?: DistanceDetectorState;
  /** What the distance detector compares (the job's choice; identity by default). */
  features?: DetectorFeatures;
}

class Registry<C, A> {
  private readonly entries = new Map<string, (param: Params, context: C) => A>();

  constructor(private readonly stage: string) {}

  register(name: string, factory: (param: Params, context: C) => A, { replace = false } = {}): void {
    if (!name) throw new Error(`a ${this.stage} algorithm needs a name`);
    if (this.entries.has(name) && !replace) throw new Error(`${this.stage} algorithm ${name} is already registered`);
    this.entries.set(name, factory);
  }

  known(): string[] {
    return [...this.entries.keys()];
  }

  create(spec: AlgorithmSpec, context: C): A {
    const factory = this.entries.get(spec.method);
    if (!factory) throw new ConfigError(`unknown ${this.stage} algorithm ${JSON.stringify(spec.method)}; known: ${this.known().join(', ')}`);
    return factory(parseParams(spec, this.stage), context);
  }
}

export const taskDefinitions = new Registry<void, TaskDefinition>('task definition');
export const taskRelationDiscoveries = new Registry<void, TaskRelationDiscovery>('task relationship discovery');
export const taskAllocations = new Registry<TaskExtractor, TaskAllocation>('task allocation');
export const unseenSampleRecognitions = new Registry<RecognitionContext, UnseenSampleRecognition>('unseen sample recognition');

taskDefinitions.register('TaskDefinitionByDataAttr', (p) => taskDefinitionByDataAttr(listParam(p, 'attribute')));
taskDefinitions.register('TaskDefinitionByClustering', (p) => taskDefinitionByClustering(intParam(p, 'n_class', 2), intParam(p, 'seed', 1)));
taskRelationDiscoveries.register('DefaultTaskRelationDiscover', () => defaultTaskRelationDiscover());
taskAllocations.register('TaskAllocationByDataAttr', (p, extractor) => taskAllocationByDataAttr(extractor, listParam(p, 'attribute')));
taskAllocations.register('TaskAllocationByClustering', (_, extractor) => taskAllocationByClustering(extractor));
taskAllocations.register('TaskAllocationDefault', () => taskAllocationDefault());
unseenSampleRecognitions.register('SampleRecognitionByTaskAttr', (_, kb) => sampleRecognitionByTaskAttr(kb.extractor));
unseenSampleRecognitions.register('SampleRecognitionByDistance', (_, kb) => {
  if (!kb.detector) throw new ConfigError('SampleRecognitionByDistance: the knowledge base was trained without validation data, so it has no calibrated detector');
  return sampleRecognitionByDistance(kb.detector, kb.features);
});
unseenSampleRecognitions.register('SampleRecognitionByAttrThenDistance', (_, kb) => sampleRecognitionByAttrThenDistance(kb.extractor, kb.detector, kb.features));

/** The defaults (lib.md §10.1), with real unseen-sample recognition instead of Sedna's coin flip. */
export const defaultAlgorithms = {
  taskDefinition: { method: 'TaskDefinitionByDataAttr' },
  taskRelationshipDiscovery: { method: 'DefaultTaskRelationDiscover' },
  taskAllocation: { method: 'TaskAllocationByDataAttr' },
  unseenSampleRecognition: { method: 'SampleRecognitionByAttrThenDistance' },
} as const satisfies Record<string, AlgorithmSpec>;

/** The allocation that pairs with an extractor when none is named (Sedna pairs them the same way). */
export function allocationFor(extractor: TaskExtractor): AlgorithmSpec {
  return { method: extractor.kind === 'attribute' ? 'TaskAllocationByDataAttr' : 'TaskAllocationByClustering' };
}

function parseParams(spec: AlgorithmSpec, stage: string): Params {
  if (spec.param === undefined || spec.param === '') return {};
  if (typeof spec.param !== 'string') return spec.param;
  try {
    const parsed = JSON.parse(spec.param) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Params;
  } catch (error) {
    throw new ConfigError(`${stage} ${spec.method}: param is not a JSON object (${(error as Error).message})`);
  }
}

/** A list given as a JSON list or as Sedna's "a, b" string. */
export function listParam(param: Params, key: string): string[] {
  const value = param[key];
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter(Boolean);
  throw new ConfigError(`parameter ${key} must be a list or a comma-separated string, got ${JSON.stringify(value)}`);
}

function intParam(param: Params, key: string, fallback: number): number {
  const value = param[key];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`parameter ${key} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

export type { Samples };
