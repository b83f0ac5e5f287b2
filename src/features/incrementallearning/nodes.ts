// Which nodes take part in an IncrementalLearningJob, and which of them hold the job at each stage
// (spec §2.4.4 syncToEdge). The dataset node always holds it (its LC runs the data loop, the train
// trigger and the eval task); the train and eval nodes while their stage runs there (their LC
// relays the worker's report); the eval node for the deploy decision; the deploy node with hot
// update from the first deploy on (its LC keeps the hot-update folder and relays the inference
// worker's reports). A node the job leaves gets a `delete` (DownstreamSync). A stage's node is the
// one its pod ran on (Sedna's `sedna.io/<Stage>` annotation) or, before that, the template's
// nodeName; Sedna's GM knew only the annotation and sent nothing before it.
import type { IncrementalLearningJob, StageCondition } from '../../api/sedna/incremental-learning-job.ts';

type JobLike = Pick<IncrementalLearningJob, 'metadata'> & { spec?: Partial<IncrementalLearningJob['spec']>; status?: IncrementalLearningJob['status'] };

export interface NodeRoles {
  dataset: string | undefined;
  train: string[];
  eval: string[];
  deploy: string[];
}

function present(...nodes: (string | undefined)[]): string[] {
  return [...new Set(nodes.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/** The nodes of each role: the annotated node first, then the template's. */
export function nodeRoles(job: JobLike, datasetNode: string | undefined): NodeRoles {
  const annotations = job.metadata.annotations ?? {};
  const spec = job.spec;
  return {
    dataset: datasetNode || undefined,
    train: present(annotations['sedna.io/Train'], spec?.trainSpec?.template?.spec?.nodeName),
    eval: present(annotations['sedna.io/Eval'], spec?.evalSpec?.template?.spec?.nodeName),
    deploy: present(annotations['sedna.io/Deploy'], spec?.deploySpec?.template?.spec?.nodeName),
  };
}

/** Every node that takes part (may report on the job). */
export function participatingNodes(job: JobLike, datasetNode: string | undefined): string[] {
  const roles = nodeRoles(job, datasetNode);
  return present(roles.dataset, ...roles.train, ...roles.eval, ...roles.deploy);
}

const ACTIVE = new Set<StageCondition['type']>(['Ready', 'Starting', 'Running']);

/** The nodes that hold the job now, by its latest condition. */
export function stageNodes(job: JobLike, datasetNode: string | undefined): string[] {
  const roles = nodeRoles(job, datasetNode);
  const hot = job.spec?.deploySpec?.model?.hotUpdateEnabled === true;
  const latest = job.status?.conditions?.at(-1);
  const nodes = [roles.dataset];
  // The inference node keeps the job once a hot update began, even while the Dataset is missing:
  // a node that loses the job removes its hot-update folder, the deployed model with it.
  const keep = hot && job.status?.conditions?.some((c) => c.stage === 'Deploy' && c.type !== 'Waiting') ? roles.deploy : [];
  if (!roles.dataset) return present(...keep);
  nodes.push(...keep);
  if (latest && ACTIVE.has(latest.type)) {
    if (latest.stage === 'Train') nodes.push(...roles.train);
    if (latest.stage === 'Eval') nodes.push(...roles.eval);
    if (latest.stage === 'Deploy' && hot && latest.type !== 'Ready') nodes.push(...roles.deploy);
  }
  if (latest?.stage === 'Deploy' && (latest.type === 'Waiting' || latest.type === 'Ready')) nodes.push(...roles.eval);
  return present(...nodes);
}

/** The node that runs a task of one role: the role's first node, else the dataset's. */
export function taskNode(roles: NodeRoles, role: 'eval' | 'deploy'): string | undefined {
  return roles[role][0] ?? roles.dataset;
}
