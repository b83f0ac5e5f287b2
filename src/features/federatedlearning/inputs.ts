// The resources a FederatedLearningJob's pods are built from, read from the informers' caches:
// the aggregation Model (required), the pretrained Model (optional), each trainer's Dataset, and
// the credential Secrets they name. A missing one is reported by name, so the status can say
// which field points at nothing; the job is retried when it appears.
import type { FederatedLearningJob } from '../../api/sedna/federated-learning-job.ts';
import type { Dataset } from '../../api/sedna/dataset.ts';
import type { Model } from '../../api/sedna/model.ts';
import type { Lister } from '../../controller/index.ts';
import type { CoreSecret } from '../../gm/workers/index.ts';
import { DATASET_NOT_FOUND, MODEL_NOT_FOUND } from './status.ts';
import type { JobInputs, ResolvedDataset, ResolvedModel } from './workers.ts';

export interface InputListers {
  models: { lister: Lister<Model> };
  datasets: { lister: Lister<Dataset> };
  secrets: { lister: Lister<CoreSecret> };
}

export interface InputProblem {
  problem: { reason: string; message: string };
}

function secretNamed(listers: InputListers, namespace: string, name: string | undefined): CoreSecret | undefined {
  return name ? listers.secrets.lister.get(namespace, name) : undefined;
}

function resolveModel(listers: InputListers, namespace: string, name: string): ResolvedModel | undefined {
  const model = listers.models.lister.get(namespace, name);
  if (!model) return undefined;
  const secret = secretNamed(listers, namespace, model.spec.credentialName);
  return secret ? { model, secret } : { model };
}

export function resolveInputs(job: FederatedLearningJob, listers: InputListers, lcServer: string): JobInputs | InputProblem {
  const namespace = job.metadata.namespace ?? '';
  const modelName = job.spec.aggregationWorker.model.name;
  const aggregationModel = resolveModel(listers, namespace, modelName);
  if (!aggregationModel) return { problem: { reason: MODEL_NOT_FOUND, message: `model ${namespace}/${modelName} (spec.aggregationWorker.model.name) not found` } };
  const pretrainedName = job.spec.pretrainedModel?.name;
  const pretrainedModel = pretrainedName ? resolveModel(listers, namespace, pretrainedName) : undefined;
  if (pretrainedName && !pretrainedModel) return { problem: { reason: MODEL_NOT_FOUND, message: `model ${namespace}/${pretrainedName} (spec.pretrainedModel.name) not found` } };
  const datasets: ResolvedDataset[] = [];
  const missing: string[] = [];
  job.spec.trainingWorkers.forEach((worker, i) => {
    const dataset = listers.datasets.lister.get(namespace, worker.dataset.name);
    if (!dataset) missing.push(`dataset ${namespace}/${worker.dataset.name} (spec.trainingWorkers[${i}].dataset.name) not found`);
    else {
      const secret = secretNamed(listers, namespace, dataset.spec.credentialName);
      datasets.push(secret ? { dataset, secret } : { dataset });
    }
  });
  if (missing.length > 0) return { problem: { reason: DATASET_NOT_FOUND, message: missing.join('; ') } };
  const inputs: JobInputs = { aggregationModel, datasets, lcServer };
  if (pretrainedModel) inputs.pretrainedModel = pretrainedModel;
  const transmitterSecret = secretNamed(listers, namespace, job.spec.transmitter?.s3?.credentialName);
  if (transmitterSecret) inputs.transmitterSecret = transmitterSecret;
  return inputs;
}
