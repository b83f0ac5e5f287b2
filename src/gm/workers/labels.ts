// Labels and selectors of the objects the GM creates for a CR's workers (spec §2.3.1, appendix C):
// `<lower(kind)>.sedna.io/{name,uid,worker-type}`, plus `app.sedna.io` on Deployments, whose value
// keeps the worker type's case (`helmet-ji-Edge-svc`) because Sedna's does.
import type { KubeObject } from '../../api/meta.ts';

export const APP_LABEL = 'app.sedna.io';

/** `jointinferenceservice.sedna.io/` for kind JointInferenceService. */
export function labelPrefix(kind: string): string {
  return `${kind.toLowerCase()}.sedna.io/`;
}

function nameAndUid(owner: KubeObject): { name: string; uid: string } {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error(`worker labels need the owner's metadata.name and metadata.uid (got ${name ?? '<none>'}/${uid ?? '<none>'})`);
  return { name, uid };
}

/** Selects every worker of the CR (`name` and `uid`). */
export function allWorkersLabels(owner: KubeObject, kind: string): Record<string, string> {
  const { name, uid } = nameAndUid(owner);
  const prefix = labelPrefix(kind);
  return { [`${prefix}name`]: name, [`${prefix}uid`]: uid };
}

/** Selects the workers of one type; the type is lower-cased. */
export function workerLabels(owner: KubeObject, kind: string, workerType: string): Record<string, string> {
  return { ...allWorkersLabels(owner, kind), [`${labelPrefix(kind)}worker-type`]: workerType.toLowerCase() };
}

/** `<name>-<WorkerType>-svc`, worker type as given. */
export function appLabelValue(owner: KubeObject, workerType: string): string {
  return `${nameAndUid(owner).name}-${workerType}-svc`;
}

/** Worker labels plus `app.sedna.io`: a Deployment's own labels, its pod labels and its selector. */
export function deploymentLabels(owner: KubeObject, kind: string, workerType: string): Record<string, string> {
  return { ...workerLabels(owner, kind, workerType), [APP_LABEL]: appLabelValue(owner, workerType) };
}

/** `key=value,…` for a labelSelector query or a lister. */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
