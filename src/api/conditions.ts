// (In src/api because the API server, the kubelet and the controllers all keep conditions.)
// Status conditions, as apimachinery's meta.SetStatusCondition keeps them: lastTransitionTime moves
// only when the status flips, so "since when" stays truthful across repeated reconciles. Cached
// objects are frozen, so these return new arrays instead of editing in place.
import type { Condition } from './meta.ts';

/** metav1.Time: RFC3339 with whole seconds. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Sets `condition` by type. The transition time is kept when the status is unchanged and set to
 * `now` (unless the condition carries one) when it changes or the type is new. The other fields,
 * observedGeneration included, are taken from `condition` as given.
 */
export function setCondition(conditions: readonly Condition[] | undefined, condition: Condition, now: Date = new Date()): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === condition.type);
  const existing = index < 0 ? undefined : list[index];
  const transitioned = !existing || existing.status !== condition.status;
  const lastTransitionTime = transitioned ? (condition.lastTransitionTime ?? rfc3339(now)) : (existing.lastTransitionTime ?? rfc3339(now));
  const next: Condition = { ...condition, lastTransitionTime };
  if (index < 0) list.push(next);
  else list[index] = next;
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** A copy without the condition of this type. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
