// Controller references (the ownerReference with controller: true) as the workload controllers
// use them: who controls an object, which objects an owner's selector may claim, and upstream's
// ControllerRefManager, which adopts matching orphans and releases objects that stopped matching.
import type { KubeObject, LabelSelector, OwnerReference } from '../../api/meta.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import type { ResourceDef } from '../registry/types.ts';
import { labelSelectorFromObject, type LabelSelectorMatcher } from '../../api/selectors/labels.ts';
import { ignoreNotFound, objectKey } from './store-controller.ts';

/** The reference with controller: true, optionally only when it names an apps/v1 object of `kind`. */
export function controllerRefOf(obj: KubeObject, kind?: string, group = 'apps'): OwnerReference | undefined {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref || kind === undefined) return ref;
  return ref.kind === kind && ref.apiVersion.startsWith(`${group}/`) ? ref : undefined;
}

/** The reference an apps/v1 controller of `kind` puts on the objects it controls. */
export function appsControllerRef(kind: string, owner: KubeObject, apiVersion = 'apps/v1'): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

const MATCH_NOTHING: LabelSelectorMatcher = { empty: true, matches: () => false, toString: () => '' };

/**
 * A selector that matches nothing when empty or malformed: a controller must never claim
 * everything, and this runs inside storage listeners, which must not throw.
 */
export function selectorOf(selector: LabelSelector | undefined): LabelSelectorMatcher {
  try {
    const matcher = labelSelectorFromObject(selector);
    return matcher.empty ? MATCH_NOTHING : matcher;
  } catch {
    return MATCH_NOTHING;
  }
}

/**
 * Upstream's ControllerRefManager: the objects `owner` controls after adopting matching orphans
 * and releasing owned objects that no longer match. An owner being deleted neither adopts nor
 * releases. Writes re-read the object, so a concurrent claim by another controller wins cleanly.
 */
export function claimObjects(
  store: GenericStore,
  def: ResourceDef,
  owner: KubeObject,
  ref: OwnerReference,
  objects: KubeObject[],
  matches: (obj: KubeObject) => boolean,
): KubeObject[] {
  const claimed: KubeObject[] = [];
  const ownerDeleting = !!owner.metadata.deletionTimestamp;
  for (const obj of objects) {
    const current = controllerRefOf(obj);
    if (current && current.uid !== ref.uid) continue;
    if (current) {
      if (matches(obj)) claimed.push(obj);
      else if (!ownerDeleting) release(store, def, obj, ref.uid);
      continue;
    }
    if (ownerDeleting || obj.metadata.deletionTimestamp || !matches(obj)) continue;
    const adopted = adopt(store, def, obj, ref);
    if (adopted && controllerRefOf(adopted)?.uid === ref.uid) claimed.push(adopted);
  }
  return claimed;
}

function adopt(store: GenericStore, def: ResourceDef, obj: KubeObject, ref: OwnerReference): KubeObject | undefined {
  let adopted: KubeObject | undefined;
  ignoreNotFound(() => {
    adopted = store.guaranteedUpdate(def, obj.metadata.namespace, obj.metadata.name!, (current) => {
      if (current.metadata.uid !== obj.metadata.uid || controllerRefOf(current) || current.metadata.deletionTimestamp) return current;
      const others = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
      current.metadata.ownerReferences = [...others, ref];
      return current;
    });
  });
  return adopted;
}

function release(store: GenericStore, def: ResourceDef, obj: KubeObject, ownerUid: string): void {
  ignoreNotFound(() =>
    store.guaranteedUpdate(def, obj.metadata.namespace, obj.metadata.name!, (current) => {
      if (current.metadata.uid !== obj.metadata.uid) return current;
      const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (refs.length > 0) current.metadata.ownerReferences = refs;
      else delete current.metadata.ownerReferences;
      return current;
    }),
  );
}

/**
 * The queue keys (`namespace/name`) of the `kind` controllers a change to `obj` concerns: its
 * controller before and after the change, or, for an orphan still there, every candidate whose
 * selector matches it and could adopt it.
 */
export function controllersToWake(
  kind: string,
  obj: KubeObject,
  prev: KubeObject | undefined,
  deleted: boolean,
  candidates: () => KubeObject[],
  group = 'apps',
): string[] {
  const ns = obj.metadata.namespace!;
  const ref = controllerRefOf(obj, kind, group);
  const prevRef = prev && controllerRefOf(prev, kind, group);
  const keys: string[] = [];
  if (ref) keys.push(`${ns}/${ref.name}`);
  if (prevRef && prevRef.uid !== ref?.uid) keys.push(`${ns}/${prevRef.name}`);
  if (ref || deleted || controllerRefOf(obj)) return keys;
  const adopters = candidates().filter((c) => selectorOf((c.spec as { selector?: LabelSelector }).selector).matches(obj.metadata.labels));
  return [...keys, ...adopters.map(objectKey)];
}
