// Turns a request's label and field selectors into one predicate over objects of a kind.
import type { KubeObject } from '../../api/meta.ts';
import { checkFieldsSupported, type FieldSelector } from '../../api/selectors/fields.ts';
import type { LabelSelectorMatcher, RequirementSelector } from '../../api/selectors/labels.ts';
import type { ResourceDef } from './types.ts';

export type ObjectMatcher = (obj: KubeObject) => boolean;

export function supportedFields(def: ResourceDef): string[] {
  return ['metadata.name', 'metadata.namespace', ...Object.keys(def.selectableFields({ metadata: {} }))];
}

export function selectableFieldsOf(def: ResourceDef, obj: KubeObject): Record<string, string> {
  return {
    'metadata.name': obj.metadata.name ?? '',
    'metadata.namespace': obj.metadata.namespace ?? '',
    ...def.selectableFields(obj),
  };
}

/** Refuses a field selector on a field the kind does not index, as kube-apiserver does. */
export function checkListSelectors(def: ResourceDef, fields: FieldSelector | undefined): void {
  if (fields && !fields.empty) {
    // Custom resources answer as apiextensions does; built-ins pick their wording from the fields.
    checkFieldsSupported(fields, supportedFields(def), def.plural, def.source === 'crd' ? 'fieldLabel' : undefined);
  }
}

/** undefined when nothing is selected on, so callers can skip parsing objects entirely. */
export function objectMatcher(
  def: ResourceDef,
  labels: LabelSelectorMatcher | undefined,
  fields: FieldSelector | undefined,
): ObjectMatcher | undefined {
  const byLabels = labels && !labels.empty ? labels : undefined;
  const byFields = fields && !fields.empty ? fields : undefined;
  if (!byLabels && !byFields) return undefined;
  return (obj) =>
    (!byLabels || byLabels.matches(obj.metadata.labels)) && (!byFields || byFields.matches(selectableFieldsOf(def, obj)));
}

/**
 * A cheap test on an object's stored JSON text that rejects objects the label selector cannot
 * match, before paying for JSON.parse. Only positive requirements (=, ==, in, exists) narrow it:
 * a matching object must contain `"key":"value"` (or `"key":`) somewhere in its text. Label keys
 * and values are limited to characters JSON never escapes, so the substring test is exact in the
 * direction that matters (no false rejects); a hit still goes through the full matcher.
 */
export function rawLabelPrefilter(labels: RequirementSelector | undefined): ((raw: string) => boolean) | undefined {
  if (!labels || labels.empty) return undefined;
  const needles: string[][] = [];
  for (const r of labels.requirements) {
    const key = JSON.stringify(r.key);
    if (r.operator === '=' || r.operator === '==' || r.operator === 'in') needles.push(r.values.map((v) => `${key}:${JSON.stringify(v)}`));
    else if (r.operator === 'exists') needles.push([`${key}:`]);
  }
  if (needles.length === 0) return undefined;
  return (raw) => needles.every((anyOf) => anyOf.some((needle) => raw.includes(needle)));
}
