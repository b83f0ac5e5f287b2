// Controller owner references. The `kind` must be the owner resource's Kind
// (JointInferenceService), never a controller's name (JointInference): the garbage collector
// resolves owners by apiVersion + kind + uid, so a wrong kind silently disables cascade deletion.
import type { KubeObject, OwnerReference } from '../api/meta.ts';

export interface GroupVersionKind {
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  kind: string;
}

/** The ownerReference marking `owner` as the managing controller of a child object. */
export function controllerRef(owner: KubeObject, gvk: GroupVersionKind): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error(`cannot reference ${gvk.kind} ${name ?? '<unnamed>'} as owner: it has no name or uid yet`);
  if (owner.kind && owner.kind !== gvk.kind) throw new Error(`owner is a ${owner.kind}, not a ${gvk.kind}`);
  return { apiVersion: gvk.apiVersion, kind: gvk.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The one ownerReference with `controller: true`, if any. */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** True when `owner` (matched by uid) is the controller of `obj`. */
export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = getControllerOf(obj);
  return ref !== undefined && owner.metadata.uid !== undefined && ref.uid === owner.metadata.uid;
}

/** The API group of an apiVersion (`sedna.io/v1alpha1` → `sedna.io`, `v1` → ``). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
