// batch/v1 Job controller: runs pods from spec.template until spec.completions of them succeed,
// at most spec.parallelism at a time; a Job whose pods failed more than spec.backoffLimit times
// (failed pods plus container restarts, as upstream counts them), or that ran past
// activeDeadlineSeconds, fails and its running pods are deleted. Finished pods are kept (their
// logs stay readable); the Job's deletion removes them through the garbage collector. Conditions
// Complete / Failed (BackoffLimitExceeded, DeadlineExceeded) / Suspended as upstream sets them.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, KubeObject, LabelSelector } from '../../api/meta.ts';
import type { Logger } from '../../lib/logger.ts';
import { type GenericStore, nowTimestamp } from '../registry/generic-store.ts';


import { appsControllerRef, claimObjects, selectorOf } from './controller-ref.ts';
import { isActivePod, isPodReady, phaseOf } from './pods.ts';
import { ignoreNotFound, isNamespaceTerminating, objectKey, splitKey } from './store-controller.ts';
import { PodOwnerController } from './pod-owner-controller.ts';
import type { PodTemplate } from './deployment/template-hash.ts';

/** Most pods one sync creates; the next sync creates the rest. */
const BURST = 500;

interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  selector?: LabelSelector;
  template?: PodTemplate;
}

interface JobStatus {
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: Condition[];
}

type Finish = { type: 'Complete' } | { type: 'Failed'; reason: string; message: string };

export class JobController extends PodOwnerController {

  constructor(
    store: GenericStore,
    log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super(store, log, 'job', { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' });
  }

  protected override sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const job = this.store.tryGet(this.ownerDef, namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const spec = (job.spec ?? {}) as JobSpec;
    const status = (job.status ?? {}) as JobStatus;
    const selector = selectorOf(spec.selector);
    const pods = claimObjects(this.store, this.podDef, job, appsControllerRef('Job', job, 'batch/v1'), this.store.listObjects(this.podDef, namespace), (p) =>
      selector.matches(p.metadata.labels),
    );
    const finished = finishedCondition(status.conditions);
    let active = pods.filter(isActivePod);
    const succeeded = pods.filter((p) => phaseOf(p) === 'Succeeded').length;
    const failed = pods.filter((p) => phaseOf(p) === 'Failed').length;
    const next: JobStatus = { ...status };
    if (!finished) {
      if (!spec.suspend && !status.startTime) next.startTime = nowTimestamp();
      const outcome = this.outcome(spec, next, succeeded, failed, active);
      if (outcome) {
        this.deletePods(active);
        active = [];
        next.conditions = setCondition(next.conditions, outcome.type, 'True', outcome.type === 'Failed' ? outcome.reason : '', outcome.type === 'Failed' ? outcome.message : '');
        if (outcome.type === 'Complete') next.completionTime = nowTimestamp();
      } else if (spec.suspend) {
        this.deletePods(active);
        active = [];
        next.conditions = setCondition(next.conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended');
        delete next.startTime;
      } else {
        if (conditionStatus(next.conditions, 'Suspended') === 'True') next.conditions = setCondition(next.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed');
        active = this.manage(job, spec, active, succeeded);
        this.scheduleDeadline(job, spec, next);
      }
    } else if (active.length > 0) {
      this.deletePods(active);
      active = [];
    }
    next.active = active.length;
    next.succeeded = succeeded;
    next.failed = failed;
    next.ready = active.filter(isPodReady).length;
    next.terminating = pods.filter((p) => p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(phaseOf(p) ?? '')).length;
    this.writeStatus(job, omitZero(next));
  }

  /** Complete, Failed, or undefined while the Job still runs. */
  private outcome(spec: JobSpec, status: JobStatus, succeeded: number, failed: number, active: KubeObject[]): Finish | undefined {
    const completions = spec.completions;
    const restarts = active.reduce((n, p) => n + restartCount(p), 0);
    if (failed + restarts > (spec.backoffLimit ?? 6)) return { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    if (spec.activeDeadlineSeconds !== undefined && status.startTime && this.now() - Date.parse(status.startTime) >= spec.activeDeadlineSeconds * 1000) {
      return { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    // With completions unset (a work queue), the first success completes the Job once no pod runs.
    if (completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions) return { type: 'Complete' };
    return undefined;
  }

  /** Creates or deletes pods so that min(parallelism, completions left) run. */
  private manage(job: KubeObject, spec: JobSpec, active: KubeObject[], succeeded: number): KubeObject[] {
    const parallelism = spec.parallelism ?? 1;
    const wanted = spec.completions === undefined ? (succeeded > 0 ? 0 : parallelism) : Math.max(0, Math.min(parallelism, spec.completions - succeeded));
    if (active.length > wanted) {
      const surplus = active.slice(wanted);
      this.deletePods(surplus);
      return active.slice(0, wanted);
    }
    const created: KubeObject[] = [];
    for (let i = 0; i < Math.min(wanted - active.length, BURST); i++) {
      try {
        created.push(this.store.create(this.podDef, job.metadata.namespace, podFor(job)));
      } catch (err) {
        if (isNamespaceTerminating(err)) break;
        throw err;
      }
    }
    if (created.length > 0) this.log.debug({ job: objectKey(job), created: created.length }, 'created pods');
    return [...active, ...created];
  }

  /** Wakes the Job when its activeDeadlineSeconds runs out. */
  private scheduleDeadline(job: KubeObject, spec: JobSpec, status: JobStatus): void {
    if (spec.activeDeadlineSeconds === undefined || !status.startTime) return;
    const left = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - this.now();
    this.queue.addAfter(objectKey(job), Math.max(left, 0) + 10);
  }

  private deletePods(pods: KubeObject[]): void {
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      ignoreNotFound(() => this.store.delete(this.podDef, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } }));
    }
  }

  private writeStatus(job: KubeObject, next: JobStatus): void {
    if (isDeepStrictEqual(next, job.status ?? {})) return;
    ignoreNotFound(() =>
      this.store.guaranteedUpdate(
        this.ownerDef,
        job.metadata.namespace,
        job.metadata.name!,
        (obj) => {
          if (obj.metadata.uid !== job.metadata.uid) return obj;
          obj.status = next;
          return obj;
        },
        { subresource: 'status' },
      ),
    );
  }
}

function restartCount(pod: KubeObject): number {
  const statuses = (pod.status as { containerStatuses?: { restartCount?: number }[]; initContainerStatuses?: { restartCount?: number }[] } | undefined) ?? {};
  return [...(statuses.containerStatuses ?? []), ...(statuses.initContainerStatuses ?? [])].reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

function conditionStatus(conditions: Condition[] | undefined, type: string): string | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}

function finishedCondition(conditions: Condition[] | undefined): boolean {
  return conditionStatus(conditions, 'Complete') === 'True' || conditionStatus(conditions, 'Failed') === 'True';
}

function setCondition(conditions: Condition[] | undefined, type: string, status: string, reason: string, message: string): Condition[] {
  const existing = (conditions ?? []).find((c) => c.type === type);
  if (existing && existing.status === status && existing.reason === reason) return conditions!;
  const now = nowTimestamp();
  const condition: Condition = { type, status, lastProbeTime: now, lastTransitionTime: existing?.status === status ? existing.lastTransitionTime! : now } as Condition;
  if (reason) condition.reason = reason;
  if (message) condition.message = message;
  return [...(conditions ?? []).filter((c) => c.type !== type), condition];
}

/** Zero counts are left out, as omitempty does on the wire (active, succeeded, failed are int32 without a pointer). */
function omitZero(status: JobStatus): JobStatus {
  const out: JobStatus = { ...status };
  for (const key of ['active', 'succeeded', 'failed', 'terminating'] as const) if (!out[key]) delete out[key];
  return out;
}

function podFor(job: KubeObject): KubeObject {
  const template = (job.spec as JobSpec).template ?? {};
  const meta = template.metadata ?? {};
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${job.metadata.name}-`.slice(0, 248),
      namespace: job.metadata.namespace!,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [appsControllerRef('Job', job, 'batch/v1')],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.annotations && Object.keys(meta.annotations).length > 0) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers && meta.finalizers.length > 0) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}
