// What the incremental- and lifelong-learning controllers share around the stage machine
// (status.ts): finding the pod of a stage's current run, creating it once, annotating the node a
// stage runs on, and writing a step's condition or note only when the server's latest condition is
// still the one the step was computed from. Lifelong learning (spec §2.4.5) is "the same
// structure as IL", so both extend this class and differ only in the workers they build.
import type { KubeObject } from '../../api/meta.ts';
import type { IncrementalLearningJobStatus, Stage, StageCondition } from '../../api/sedna/incremental-learning-job.ts';
import { type Informer, isControlledBy } from '../../controller/index.ts';
import { FeatureReconciler, type StatusOf, type TransitionEvent } from '../../gm/feature-controller.ts';
import { WorkerSpecError, type WorkerPod } from '../../gm/workers/index.ts';
import { appendCondition, currentRun, INVALID_INPUT, latest, noteOnLatest, PROBLEM_REASONS, type Step, WORKER_RESTARTED, type WorkerView } from './status.ts';
import { STAGE_RUN_ANNOTATION } from './workers.ts';

interface ContainerStatus {
  restartCount?: number;
  lastState?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
}

export type StagePod = WorkerPod & { status?: { phase?: string; message?: string; containerStatuses?: ContainerStatus[] } };

/** How many times the pod's workers restarted, and why the last restarted one ended (`exit code 137 (Error)`). */
function restartsOf(pod: StagePod): { restarts: number; lastExit?: string } {
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  const last = statuses.findLast((c) => c.lastState?.terminated)?.lastState?.terminated;
  if (!last) return { restarts };
  const detail = [last.reason, last.message].filter(Boolean).join(': ');
  return { restarts, lastExit: `exit code ${last.exitCode ?? '?'}${detail ? ` (${detail})` : ''}` };
}

/** A job the stage machine drives: its status holds the stage conditions. */
export type StageJob = KubeObject & { status?: IncrementalLearningJobStatus };

/** A problem the job waits on; written on the latest condition. */
export class Problem extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Events for failures, retries and problems the job waits on. */
export function transitionEvent(before: IncrementalLearningJobStatus | undefined, after: IncrementalLearningJobStatus): TransitionEvent | undefined {
  const was = latest(before);
  const now = latest(after);
  if (!now || (was?.type === now.type && was.stage === now.stage && was.reason === now.reason && was.message === now.message)) return undefined;
  if (now.type === 'Failed' || (now.reason && PROBLEM_REASONS.has(now.reason))) return { type: 'Warning', reason: now.reason ?? `${now.stage}Failed`, message: now.message ?? `the ${now.stage} stage failed` };
  if (now.reason === 'Retry') return { type: 'Normal', reason: 'Retry', message: now.message ?? '' };
  if (now.reason === WORKER_RESTARTED) return { type: 'Warning', reason: WORKER_RESTARTED, message: now.message ?? '' };
  return undefined;
}

/** The same latest condition: a step computed from the cache still applies to the server's copy. */
function sameLatest(a: StageCondition | undefined, b: StageCondition | undefined): boolean {
  return a?.type === b?.type && a?.stage === b?.stage && a?.lastTransitionTime === b?.lastTransitionTime;
}

export abstract class StageReconciler<J extends StageJob, I extends { pods: Informer<StagePod> }> extends FeatureReconciler<J, I> {
  /** The label selector of the job's pods of one stage. */
  protected abstract stageSelector(job: J, stage: Stage): string;

  protected asProblem(err: unknown): Problem {
    if (err instanceof Problem) return err;
    if (err instanceof WorkerSpecError) return new Problem(INVALID_INPUT, err.message);
    throw err;
  }

  private stagePods(job: J, stage: Stage): StagePod[] {
    return this.informers.pods.lister.list(job.metadata.namespace ?? '', this.stageSelector(job, stage)).filter((p) => isControlledBy(p, job));
  }

  /** The pod of the current stage run, as the stage machine sees it. */
  protected stagePodView(job: J): WorkerView['stagePod'] {
    const current = latest(job.status);
    if (!current || current.stage === 'Deploy') return undefined;
    const run = currentRun(job.status, current.stage);
    const pod = this.stagePods(job, current.stage).find((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION] === run && !p.metadata.deletionTimestamp);
    if (!pod) return undefined;
    const { restarts, lastExit } = restartsOf(pod);
    return {
      name: pod.metadata.name ?? '',
      ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
      ...(pod.spec.nodeName ? { node: pod.spec.nodeName } : {}),
      ...(pod.status?.message ? { message: pod.status.message } : {}),
      ...(restarts > 0 ? { restarts } : {}),
      ...(lastExit ? { lastExit } : {}),
    };
  }

  /** Creates `pod` for the current run unless the server already has it (the cache may lag a create). */
  protected async createRunPod(job: J, stage: Stage, pod: WorkerPod): Promise<void> {
    const run = currentRun(job.status, stage);
    pod.metadata.annotations = { ...pod.metadata.annotations, [STAGE_RUN_ANNOTATION]: run };
    const namespace = job.metadata.namespace ?? '';
    const live = await this.ctx.client.list<StagePod>({ apiVersion: 'v1', plural: 'pods', namespace }, { labelSelector: this.stageSelector(job, stage), timeoutMs: 10_000 });
    if (live.items.some((p) => p.metadata.annotations?.[STAGE_RUN_ANNOTATION] === run && !p.metadata.deletionTimestamp && isControlledBy(p, job))) return;
    await this.ctx.client.create<WorkerPod>({ apiVersion: 'v1', plural: 'pods', namespace }, pod, { timeoutMs: 10_000 });
  }

  /** `sedna.io/<Stage>` = the node the stage runs on (Sedna's annotation; downstream reads it). */
  protected async annotate(job: J, stage: Stage, node: string): Promise<void> {
    const key = `sedna.io/${stage}`;
    if (job.metadata.annotations?.[key] === node) return;
    await this.ctx.client.patch(this.scaffold.selfRef(job), { metadata: { annotations: { [key]: node } } }, 'merge', { timeoutMs: 10_000 });
  }

  /** Writes the step's condition or note, unless the server's latest condition moved on meanwhile. */
  protected async write(job: J, step: Step): Promise<void> {
    const cachedLatest = latest(job.status);
    const clearNote = !step.append && !step.note && cachedLatest?.reason !== undefined && PROBLEM_REASONS.has(cachedLatest.reason);
    if (!step.append && !step.note && !clearNote && job.status?.observedGeneration === job.metadata.generation) return;
    await this.scaffold.writeStatus(
      job,
      (current, now) => {
        if (!sameLatest(latest(current.status), cachedLatest)) return undefined;
        const generation = current.metadata.generation;
        let status: IncrementalLearningJobStatus = { ...current.status };
        if (step.append) status = appendCondition(status, step.append, generation, now);
        else if (step.note) {
          const last = latest(status);
          if (last?.reason === step.note.reason && last.message === step.note.message) return status.observedGeneration === generation ? undefined : ({ ...status, observedGeneration: generation } as StatusOf<J>);
          status = noteOnLatest(status, step.note, now);
        } else if (clearNote) status = noteOnLatest(status, {}, now);
        if (generation !== undefined) status.observedGeneration = generation;
        return status as StatusOf<J>;
      },
      transitionEvent,
    );
  }
}
