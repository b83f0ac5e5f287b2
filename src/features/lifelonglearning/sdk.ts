// Lifelong learning's worker SDK (spec lib.md §10): `LifelongLearning` with train, update and
// evaluate (cloud) and inference (edge), on the pipeline algorithms of this folder and the
// knowledge-base server (kb-client.ts). Re-exported by src/worker.ts.
//
// What differs from Sedna, on purpose: the index is JSON (knowledge-base.ts), not a pickle;
// unseen-sample recognition decides from the sample (a task key the KB does not know, or a k-NN
// distance calibrated on validation data) instead of a coin flip; `update` works with defaults
// (Sedna's default update strategy was never registered); the task filter's default no longer
// drops good tasks; and the edge takes a new knowledge base by hot update: it loads the new index
// and models beside the deployed ones and swaps them in one assignment.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, numberParameter, workerContext, type Env, type WorkerContext } from '../../lib/context.ts';
import { download, joinPath, removePathPrefix, upload } from '../../lib/file-ops/index.ts';
import { LcClient } from '../../lib/lc-client.ts';
import { KbClient } from './kb-client.ts';
import { KB_INDEX_NAME, readIndex, SEEN_TASK, type LifelongGroup, type LifelongIndex } from './knowledge-base.ts';
import { allocationFor, defaultAlgorithms, taskAllocations, taskDefinitions, taskRelationDiscoveries, unseenSampleRecognitions, type AlgorithmSpec } from './registry.ts';
import { dropAttributes, hasAttributes, subsetSamples, type Samples } from './samples.ts';
import { writeSamplesCsv } from './samples-csv.ts';
import { filterOperator, filterTasks } from './task-filter.ts';
import { defaultInferenceIntegrate, defaultTaskRemodeling } from './task-remodeling.ts';
import type { Task, TaskGroup } from './tasks.ts';
import { addDetectorTask, fitDistanceDetector, nearestDetectorTask, type DetectorFeatures, type DistanceDetectorOptions, type DistanceDetectorState } from './unseen-recognition.ts';

/** One task group's model, as the user's code supplies it. */
export interface TaskEstimator {
  /** Trains (or, for a loaded model, goes on training) on the samples; `validation` is for early stopping. */
  train(samples: Samples, validation?: Samples): Promise<Record<string, number>>;
  /** Class scores per sample. */
  predict(samples: Samples): Promise<number[][]>;
  /** Writes the model to one file. */
  save(path: string): Promise<void>;
  dispose?(): void;
}

export interface TaskEstimatorFactory {
  create(): Promise<TaskEstimator>;
  load(path: string): Promise<TaskEstimator>;
}

export interface LifelongLearningOptions {
  estimator: TaskEstimatorFactory;
  taskDefinition?: AlgorithmSpec;
  taskRelationshipDiscovery?: AlgorithmSpec;
  /** Default: the allocation that pairs with the knowledge base's extractor. */
  taskAllocation?: AlgorithmSpec;
  unseenSampleRecognition?: AlgorithmSpec;
  detector?: DistanceDetectorOptions;
  /** What the distance detector compares (default: the features themselves). */
  detectorFeatures?: DetectorFeatures;
  env?: Env;
  /** Default: the node's LC from LC_SERVER; null: no reports. */
  lc?: LcClient | null;
  /** Default: from KB_SERVER and KB_TOKEN when KB_SERVER is set; null: no knowledge-base server. */
  kb?: KbClient | null;
}

export interface LifelongEvaluationResult {
  overall: Record<string, number>;
  tasks: { entry: string; scores: Record<string, number> }[];
  dropped: string[];
  indexUrl: string;
}

export interface LifelongInferenceResult {
  /** The predicted class per sample; null for an unseen one (no known task answers it). */
  predictions: (number | null)[];
  scores: (number[] | null)[];
  isUnseen: boolean[];
  /** The task group that answered each sample. */
  tasks: (string | null)[];
  /** Where this call's unseen samples were saved (UT_SAVED_URL), if there were any. */
  unseenSavedTo?: string;
}

interface Deployment {
  index: LifelongIndex;
  models: TaskEstimator[];
}

const OWNER_KIND = 'lifelonglearningjob';
/** Held-out rows a task needs before evaluation may drop it. */
export const DEFAULT_MIN_EVAL_SAMPLE = 10;

export class LifelongLearning {
  readonly context: Readonly<WorkerContext>;
  private readonly lc: LcClient | null;
  private readonly kb: KbClient | null;
  private readonly env: Env;
  private deployment: Deployment | undefined;
  private lastPoll = 0;

  constructor(private readonly options: LifelongLearningOptions) {
    this.env = options.env ?? process.env;
    this.context = workerContext(this.env);
    this.lc = options.lc === undefined ? LcClient.fromContext(this.context) : options.lc;
    const token = this.env.KB_TOKEN;
    this.kb = options.kb === undefined ? (this.context.kbServer ? new KbClient({ server: this.context.kbServer, ...(token ? { token } : {}) }) : null) : options.kb;
  }

  // ---- cloud: train, update, evaluate -----------------------------------------------------------

  /** The initial training (or `update` once HAS_COMPLETED_INITIAL_TRAINING is true). */
  async train(trainData: Samples, validData?: Samples): Promise<LifelongIndex> {
    if (this.context.hasCompletedInitialTraining) return this.update(trainData, validData);
    const definition = taskDefinitions.create(this.options.taskDefinition ?? defaultAlgorithms.taskDefinition, undefined);
    const { tasks, extractor, samples } = definition(trainData);
    const groups = taskRelationDiscoveries.create(this.options.taskRelationshipDiscovery ?? defaultAlgorithms.taskRelationshipDiscovery, undefined)(tasks);
    const validation = validData ? this.validationByEntry(validData) : new Map<string, Samples>();
    const stamp = timeStamp();
    const trained: LifelongGroup[] = [];
    let globalModel: { url: string; result: Record<string, number> } | undefined;
    for (const [i, group] of groups.entries()) {
      if (group.sample_count >= this.context.minTrainSample && group.samples) {
        trained.push(await this.trainGroup(group, i, undefined, validation.get(group.entry), stamp));
        continue;
      }
      // Rare groups share one model trained on every sample, as Sedna's `global.model`.
      globalModel ??= await this.trainModel(samples, undefined, undefined, join(this.seenDir(), `global-${stamp}.model`));
      trained.push(this.groupEntry(group, i, globalModel.url, globalModel.result));
    }
    const detector = validData ? this.fitDetector(groups, validation) : null;
    const index: LifelongIndex = { seen_task: { extractor, task_groups: trained }, unseen_task: { extractor: null, task_groups: [] }, unseen_detector: detector, round: 1, create_time: stamp };
    await this.attachSamples(index, groups, stamp);
    return this.publish(index, 'train', null);
  }

  /**
   * A later round: each labelled sample's task is found with the KB's extractor; a known task's
   * model goes on training from where it was on the new samples (Sedna's update), a new task gets
   * a group and a model of its own, and the detector learns the new task from its validation rows.
   */
  async update(trainData: Samples, validData?: Samples): Promise<LifelongIndex> {
    const index = await readIndex(this.cloudIndexUrl(), this.kb);
    const extractor = index.seen_task.extractor;
    if (extractor.kind !== 'attribute') throw new ConfigError('update: only a knowledge base defined by task attributes can take new tasks (the clustering one has a fixed number of clusters)');
    const definition = taskDefinitions.create(this.options.taskDefinition ?? defaultAlgorithms.taskDefinition, undefined);
    const { tasks } = definition(trainData);
    const groups = taskRelationDiscoveries.create(this.options.taskRelationshipDiscovery ?? defaultAlgorithms.taskRelationshipDiscovery, undefined)(tasks);
    const validation = validData ? this.validationByEntry(validData) : new Map<string, Samples>();
    const stamp = timeStamp();
    const groupsOut = [...index.seen_task.task_groups];
    const tasksOut = { ...extractor.tasks };
    let detector = index.unseen_detector;
    for (const group of groups) {
      const known = tasksOut[group.entry];
      if (known !== undefined) {
        const previous = groupsOut[known]!;
        const updated = await this.trainGroup(group, known, previous.model.model, validation.get(group.entry), stamp);
        groupsOut[known] = { ...updated, samples: { sample_num: previous.samples.sample_num + group.sample_count }, tasks: mergeTasks(previous, updated) };
      } else {
        const position = groupsOut.length;
        tasksOut[group.entry] = position;
        const valid = validation.get(group.entry);
        groupsOut.push(await this.trainNewGroup(group, position, groupsOut[0]?.model.model, valid, stamp));
        if (detector && valid && group.samples) detector = addDetectorTask(detector, this.detectorData(group.entry, group.samples, valid), this.options.detector?.referencesPerTask);
      }
    }
    const updated: LifelongIndex = { ...index, seen_task: { extractor: { ...extractor, tasks: tasksOut }, task_groups: groupsOut }, unseen_detector: detector, round: index.round + 1, create_time: stamp };
    await this.attachSamples(updated, groups, stamp);
    return this.publish(updated, 'train', null);
  }

  /**
   * Scores every known task on its test rows (accuracy), drops the tasks the filter (`operator`,
   * `model_threshold`) rejects, tells the KB (update/status) and writes the index with the scores.
   */
  async evaluate(testData: Samples): Promise<LifelongEvaluationResult> {
    const url = this.evaluationIndexUrl();
    const index = await readIndex(url, this.kb);
    const deployment = await this.loadDeployment(index, join(this.context.outputUrl, 'eval-models', index.create_time));
    try {
      const { predictions } = await this.predictSeen(deployment, testData);
      const labels = testData.y ?? [];
      const overall = { accuracy: accuracy(predictions, labels) };
      const byEntry = this.validationByEntry(testData);
      const evaluated: Task[] = [];
      // A task with fewer held-out rows than MIN_EVAL_SAMPLE is not judged (a round's few false
      // positives of a known camera must not drop its model on one sample): it keeps its flag.
      const minRows = numberParameter('MIN_EVAL_SAMPLE', DEFAULT_MIN_EVAL_SAMPLE, this.env, { min: 1, integer: true });
      for (const [entry, rows] of byEntry) {
        const position = index.seen_task.extractor.kind === 'attribute' ? index.seen_task.extractor.tasks[entry] : undefined;
        if (position === undefined || !rows.y || rows.x.length < minRows) continue;
        const scores = await deployment.models[position]!.predict(rows);
        evaluated.push({ entry, meta_attr: [], sample_count: rows.x.length, scores: { accuracy: accuracy(scores.map(argMax), rows.y) } });
      }
      const { dropped } = filterTasks(evaluated, filterOperator(this.env.operator ?? this.env.OPERATOR), this.context.modelThreshold);
      const droppedNames = dropped.map((t) => t.entry);
      const groups = index.seen_task.task_groups.map((group) => {
        const task = evaluated.find((t) => t.entry === group.entry);
        const deploy = task ? !droppedNames.includes(group.entry) : group.deploy !== false;
        return { ...group, deploy, model: { ...group.model, ...(task?.scores ? { scores: task.scores } : {}) } };
      });
      // Sedna posts only the dropped tasks (status 0); the kept ones are posted too (status 1), so
      // the KB's deploy flags say which task models the edge serves.
      const keptNames = groups.filter((g) => g.deploy).map((g) => g.entry);
      if (this.kb && keptNames.length > 0) await this.kb.updateStatus(keptNames, 1);
      if (this.kb && droppedNames.length > 0) await this.kb.updateStatus(droppedNames, 0);
      const scored: LifelongIndex = { ...index, seen_task: { ...index.seen_task, task_groups: groups } };
      const published = await this.publish(scored, 'eval', overall, false);
      return { overall, tasks: evaluated.map((t) => ({ entry: t.entry, scores: t.scores! })), dropped: droppedNames, indexUrl: this.indexPath(published) };
    } finally {
      deployment.models.forEach((m) => m.dispose?.());
    }
  }

  // ---- edge: inference and hot update -----------------------------------------------------------

  /**
   * Splits `data` into seen and unseen samples; the unseen are saved to UT_SAVED_URL, the seen are
   * allocated to task groups, each group's model predicts, and the results come back in order.
   */
  async inference(data: Samples): Promise<LifelongInferenceResult> {
    const deployment = await this.ensureDeployed();
    const recognition = unseenSampleRecognitions.create(this.options.unseenSampleRecognition ?? defaultAlgorithms.unseenSampleRecognition, {
      extractor: deployment.index.seen_task.extractor,
      ...(deployment.index.unseen_detector ? { detector: deployment.index.unseen_detector } : {}),
      ...(this.options.detectorFeatures ? { features: this.options.detectorFeatures } : {}),
    });
    const isUnseen = recognition(data);
    const seenRows = isUnseen.flatMap((u, i) => (u ? [] : [i]));
    const unseenRows = isUnseen.flatMap((u, i) => (u ? [i] : []));
    const result: LifelongInferenceResult = { predictions: isUnseen.map(() => null), scores: isUnseen.map(() => null), isUnseen, tasks: isUnseen.map(() => null) };
    if (seenRows.length > 0) {
      const seen = await this.predictSeen(deployment, subsetSamples(data, seenRows));
      seenRows.forEach((row, i) => {
        result.predictions[row] = seen.predictions[i]!;
        result.scores[row] = seen.scores[i]!;
        result.tasks[row] = seen.tasks[i]!;
      });
    }
    if (unseenRows.length > 0) result.unseenSavedTo = await this.saveUnseen(subsetSamples(data, unseenRows));
    return result;
  }

  /**
   * What the deployed knowledge base's task models answer for every sample, unseen-sample
   * recognition left out (an unknown task key goes to group 0, as Sedna allocates): for measuring
   * a knowledge base on a labelled set.
   */
  async predict(data: Samples): Promise<{ predictions: number[]; tasks: string[] }> {
    const { predictions, tasks } = await this.predictSeen(await this.ensureDeployed(), data);
    return { predictions, tasks };
  }

  /**
   * Hot update: loads the index at `url` (default MODEL_URLS) and its models beside the deployed
   * ones, then swaps them in one assignment; in-flight inference finishes on the old models.
   * Answers whether a new version was deployed.
   */
  async deployKnowledgeBase(url = this.edgeIndexUrl()): Promise<boolean> {
    const index = await readIndex(url, this.kb);
    if (this.deployment && this.deployment.index.create_time === index.create_time) return false;
    const next = await this.loadDeployment(index, join(this.context.edgeOutputUrl, SEEN_TASK, index.create_time));
    await mkdir(this.context.edgeOutputUrl, { recursive: true });
    await writeFile(join(this.context.edgeOutputUrl, KB_INDEX_NAME), JSON.stringify(next.index));
    const previous = this.deployment;
    this.deployment = next;
    previous?.models.forEach((m) => m.dispose?.());
    if (previous) await this.lc?.reportTaskInfo({ ownerKind: OWNER_KIND, kind: 'deploy', status: 'completed' });
    return true;
  }

  /** The deployed knowledge base's version (its create_time), if one is deployed. */
  get deployedVersion(): string | undefined {
    return this.deployment?.index.create_time;
  }

  get deployedIndex(): LifelongIndex | undefined {
    return this.deployment?.index;
  }

  dispose(): void {
    this.deployment?.models.forEach((m) => m.dispose?.());
    this.deployment = undefined;
  }

  // ---- internals --------------------------------------------------------------------------------

  private async ensureDeployed(): Promise<Deployment> {
    const now = Date.now();
    const due = now - this.lastPoll >= this.context.modelPollPeriodSeconds * 1000;
    if (!this.deployment || due) {
      this.lastPoll = now;
      try {
        await this.deployKnowledgeBase();
      } catch (error) {
        // A KB that is down keeps the deployed knowledge base serving; without one there is nothing to serve.
        if (!this.deployment) throw error;
      }
    }
    return this.deployment!;
  }

  private async predictSeen(deployment: Deployment, data: Samples): Promise<{ predictions: number[]; scores: number[][]; tasks: string[] }> {
    const groups = deployment.index.seen_task.task_groups;
    const { samples, allocations } = this.allocate(deployment.index, data);
    // A group evaluation dropped is served by group 0's model, as Sedna replaces it by the first group.
    const served = allocations.map((g) => (groups[g]?.deploy === false ? 0 : g));
    const batches = defaultTaskRemodeling(deployment.models)(samples, served);
    const results = await Promise.all(batches.map(async (batch) => ({ inx: batch.inx, result: (await batch.model.predict(batch.samples)).map((scores) => ({ scores, task: groups[batch.group]?.entry ?? groups[0]!.entry })) })));
    const merged = defaultInferenceIntegrate<{ scores: number[]; task: string }>()(results);
    return { predictions: merged.map((r) => argMax(r.scores)), scores: merged.map((r) => r.scores), tasks: merged.map((r) => r.task) };
  }

  /**
   * Rows with the task attributes go through the task allocation; rows without them (the model
   * path) to the known task the distance detector finds nearest, else to group 0.
   */
  private allocate(index: LifelongIndex, data: Samples): { samples: Samples; allocations: number[] } {
    const extractor = index.seen_task.extractor;
    const allocation = taskAllocations.create(this.options.taskAllocation ?? allocationFor(extractor), extractor);
    if (extractor.kind !== 'attribute') return allocation(data);
    const withAttr = data.x.map((_, row) => hasAttributes(data, row, extractor.attribute));
    if (withAttr.every(Boolean)) return allocation(data);
    const rows = withAttr.flatMap((has, i) => (has ? [i] : []));
    const allocated = rows.length > 0 ? allocation(subsetSamples(data, rows)).allocations : [];
    const features = this.options.detectorFeatures ?? ((row: Float32Array) => row);
    const detector = index.unseen_detector;
    let next = 0;
    const allocations = withAttr.map((has, i) => (has ? allocated[next++]! : detector ? (extractor.tasks[nearestDetectorTask(detector, features(data.x[i]!))] ?? 0) : 0));
    return { samples: dropAttributes(data, extractor.attribute.filter((name) => data.columns.includes(name))), allocations };
  }

  private async loadDeployment(index: LifelongIndex, folder: string): Promise<Deployment> {
    const models: TaskEstimator[] = [];
    try {
      for (const [i, group] of index.seen_task.task_groups.entries()) {
        const local = join(folder, `${i}-${safeName(group.entry)}.model`);
        await this.fetchFile(group.model.model, local);
        models.push(await this.options.estimator.load(local));
      }
    } catch (error) {
      models.forEach((m) => m.dispose?.());
      throw error;
    }
    return { index, models };
  }

  private async fetchFile(url: string, dst: string): Promise<void> {
    if (this.kb?.serves(url)) await this.kb.download(url, dst);
    else await download(this.withPrefix(url), dst);
  }

  private async trainGroup(group: TaskGroup, position: number, fromModel: string | undefined, validation: Samples | undefined, stamp: string): Promise<LifelongGroup> {
    if (!group.samples) throw new ConfigError(`task group ${group.entry} has no samples to train on`);
    const { url, result } = await this.trainModel(group.samples, validation, fromModel, join(this.seenDir(), `${safeName(group.entry)}-${stamp}.model`));
    return this.groupEntry(group, position, url, result);
  }

  /**
   * A new task's model: trained from scratch, and (when there is one) from the model that served
   * its samples until now (group 0's, Sedna's "first task"); the one scoring better on the task's
   * validation rows is kept. Without validation rows, from scratch.
   */
  private async trainNewGroup(group: TaskGroup, position: number, servingModel: string | undefined, validation: Samples | undefined, stamp: string): Promise<LifelongGroup> {
    const fresh = await this.trainGroup(group, position, undefined, validation, stamp);
    if (!servingModel || !validation?.y) return fresh;
    const transferred = await this.trainGroup({ ...group, entry: group.entry }, position, servingModel, validation, `${stamp}-from-${position === 0 ? 'self' : 'group0'}`);
    const [a, b] = [await this.validationAccuracy(fresh.model.model, validation), await this.validationAccuracy(transferred.model.model, validation)];
    const chosen = b > a ? transferred : fresh;
    return { ...chosen, model: { ...chosen.model, result: { ...chosen.model.result, initialisation: b > a ? 1 : 0, validationAccuracyFresh: a, validationAccuracyFromServing: b } } };
  }

  private async validationAccuracy(modelPath: string, validation: Samples): Promise<number> {
    const model = await this.options.estimator.load(modelPath);
    try {
      return accuracy((await model.predict(validation)).map(argMax), validation.y ?? []);
    } finally {
      model.dispose?.();
    }
  }

  private async trainModel(samples: Samples, validation: Samples | undefined, fromModel: string | undefined, path: string): Promise<{ url: string; result: Record<string, number> }> {
    let model: TaskEstimator;
    if (fromModel) {
      const local = join(this.seenDir(), 'base', `${timeStamp()}.model`);
      await this.fetchFile(fromModel, local);
      model = await this.options.estimator.load(local);
    } else model = await this.options.estimator.create();
    try {
      const result = await model.train(samples, validation);
      await mkdir(this.seenDir(), { recursive: true });
      await model.save(path);
      return { url: path, result };
    } finally {
      model.dispose?.();
    }
  }

  private groupEntry(group: TaskGroup, position: number, model: string, result: Record<string, number>): LifelongGroup {
    return {
      entry: group.entry,
      tasks: group.tasks.map((task) => ({ entry: task.entry, meta_attr: task.meta_attr, samples: { sample_num: task.sample_count, data_type: 'train' }, model })),
      samples: { sample_num: group.sample_count },
      model: { model, index: position, entry: group.entry, result },
      deploy: true,
    };
  }

  /** Each task's samples go to OUTPUT_URL/seen_task (and the KB), their URL onto the task (Sedna's data_url). */
  private async attachSamples(index: LifelongIndex, groups: readonly TaskGroup[], stamp: string): Promise<void> {
    for (const group of groups) {
      const target = index.seen_task.task_groups.find((g) => g.entry === group.entry);
      for (const task of group.tasks) {
        if (!task.samples || !target) continue;
        const path = join(this.seenDir(), `train_${safeName(task.entry)}-${stamp}.csv`);
        await writeSamplesCsv(path, task.samples);
        const url = this.kb ? await this.kb.uploadFile(path) : path;
        const entry = target.tasks.find((t) => t.entry === task.entry);
        if (entry) entry.samples = { ...entry.samples, data_url: url };
      }
    }
  }

  /** Uploads the models to the KB (when there is one), records the index there, and writes OUTPUT_URL/index.json. */
  private async publish(index: LifelongIndex, kind: 'train' | 'eval', metrics: Record<string, number> | null, uploadModels = true): Promise<LifelongIndex> {
    let published = index;
    if (this.kb) {
      if (uploadModels) {
        const groups = await Promise.all(index.seen_task.task_groups.map(async (group) => {
          const url = this.kb!.serves(group.model.model) ? group.model.model : await this.kb!.uploadFile(group.model.model);
          return { ...group, model: { ...group.model, model: url }, tasks: group.tasks.map((t) => ({ ...t, model: url })) };
        }));
        published = { ...index, seen_task: { ...index.seen_task, task_groups: groups } };
      }
      if (kind === 'train') await this.kb.updateIndex(published);
    }
    const path = join(this.context.outputUrl, KB_INDEX_NAME);
    await mkdir(this.context.outputUrl, { recursive: true });
    await writeFile(path, JSON.stringify(published));
    const url = removePathPrefix(path, this.context.dataPathPrefix);
    await this.lc?.reportTaskInfo({ ownerKind: OWNER_KIND, kind, status: 'completed', results: [{ format: 'json', url, metrics }] });
    return published;
  }

  private indexPath(_index: LifelongIndex): string {
    return join(this.context.outputUrl, KB_INDEX_NAME);
  }

  private fitDetector(groups: readonly TaskGroup[], validation: Map<string, Samples>): DistanceDetectorState | null {
    const data = groups.flatMap((g) => (g.samples && validation.get(g.entry) ? [this.detectorData(g.entry, g.samples, validation.get(g.entry)!)] : []));
    return data.length > 0 ? fitDistanceDetector(data, this.options.detector) : null;
  }

  private detectorData(entry: string, train: Samples, validation: Samples): { entry: string; train: ArrayLike<number>[]; validation: ArrayLike<number>[] } {
    const features = this.options.detectorFeatures ?? ((row: Float32Array) => row);
    return { entry, train: train.x.map(features), validation: validation.x.map(features) };
  }

  /** Validation (or test) rows split by task with the same definition as training. */
  private validationByEntry(data: Samples): Map<string, Samples> {
    const definition = taskDefinitions.create(this.options.taskDefinition ?? defaultAlgorithms.taskDefinition, undefined);
    return new Map(definition(data).tasks.flatMap((task) => (task.samples ? [[task.entry, task.samples] as const] : [])));
  }

  private async saveUnseen(samples: Samples): Promise<string> {
    const name = `unseen-${timeStamp()}-${samples.x.length}.csv`;
    const local = join(this.context.edgeOutputUrl, 'unseen_samples', name);
    await writeSamplesCsv(local, samples);
    // UT_SAVED_URL (the seed's sample job sets it) wins over Sedna library's unseen_save_url.
    const target = joinPath(this.env.UT_SAVED_URL || this.context.unseenSaveUrl, name);
    await upload(local, target, { env: this.env });
    return target;
  }

  private cloudIndexUrl(): string {
    return this.context.cloudKbIndex ? this.withPrefix(this.context.cloudKbIndex) : join(this.context.outputUrl, KB_INDEX_NAME);
  }

  private evaluationIndexUrl(): string {
    const first = (this.context.modelUrls ?? '').split(';').map((s) => s.trim()).find(Boolean);
    return first ? this.withPrefix(first) : join(this.context.outputUrl, KB_INDEX_NAME);
  }

  private edgeIndexUrl(): string {
    const first = (this.context.modelUrls ?? '').split(';').map((s) => s.trim()).find(Boolean);
    if (!first) throw new ConfigError('MODEL_URLS names no knowledge-base index for the edge to deploy');
    return this.withPrefix(first);
  }

  /**
   * A node path the LC reported (prefix stripped) is under DATA_PATH_PREFIX in the container. Where
   * the node's paths are the container's own (the embedded kubelet rewrites a mounted path to the
   * host path, so only the node path exists), the node path is used as it is.
   */
  private withPrefix(url: string): string {
    if (/^[a-z0-9]+:\/\//i.test(url) || url.startsWith(this.context.dataPathPrefix)) return url;
    if (this.env.DATA_PATH_PREFIX === undefined) return url;
    const prefixed = joinPath(this.context.dataPathPrefix, url);
    return !existsSync(prefixed) && existsSync(url) ? url : prefixed;
  }

  private seenDir(): string {
    return join(this.context.outputUrl, SEEN_TASK);
  }
}

/**
 * A trained group's tasks: each task's `samples` is the sample set of this round (its count and the
 * file it was uploaded to), so the KB records every set once; a task of the group not in this
 * round keeps its last set. The group's own `samples.sample_num` is the running total.
 */
function mergeTasks(previous: LifelongGroup, updated: LifelongGroup): LifelongGroup['tasks'] {
  const kept = previous.tasks.filter((task) => !updated.tasks.some((t) => t.entry === task.entry));
  return [...kept, ...updated.tasks];
}

export function argMax(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

function accuracy(predictions: readonly number[], labels: readonly number[]): number {
  if (labels.length === 0) return NaN;
  return predictions.reduce((n, p, i) => n + (p === labels[i] ? 1 : 0), 0) / labels.length;
}

/** A version stamp that sorts and is unique per millisecond: seconds since the epoch, as Sedna's `str(time.time())`. */
function timeStamp(): string {
  return (Date.now() / 1000).toFixed(3);
}

function safeName(entry: string): string {
  return entry.replace(/[^A-Za-z0-9._-]/g, '-');
}

export { KbClient, KbError } from './kb-client.ts';
export { samplesFromRows, subsetSamples, type Samples } from './samples.ts';
export { readSamplesCsv, writeSamplesCsv, samplesToCsv } from './samples-csv.ts';
export { taskAllocations, taskDefinitions, taskRelationDiscoveries, unseenSampleRecognitions, type AlgorithmSpec } from './registry.ts';
export type { LifelongIndex } from './knowledge-base.ts';
