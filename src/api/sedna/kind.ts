// What we know about one Sedna kind: its names, its structural schema and how `kubectl get` prints
// it. The CRD objects in deploy/crds are generated from these definitions (see index.ts).
import type { CustomResourceColumnDefinition, JSONSchemaProps } from '../meta.ts';
import { object, string } from './schema.ts';

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  listKind: string;
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  /** The OpenAPI v3 structural schema of the whole resource (spec and status). */
  schema: JSONSchemaProps;
  printerColumns: CustomResourceColumnDefinition[];
  subresources: { status: Record<string, never> };
}

export interface KindOptions {
  kind: string;
  shortNames?: string[];
  description: string;
  spec: JSONSchemaProps;
  status: JSONSchemaProps;
  /** Sedna's CRDs mark metadata required on some kinds and not on others; we keep each as it is. */
  requireMetadata: boolean;
  /** Columns before Age, which every kind ends with. */
  columns: CustomResourceColumnDefinition[];
}

// A CRD with its own printer columns loses the implicit Age column, so each kind lists it last.
const AGE_COLUMN: CustomResourceColumnDefinition = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function column(name: string, type: 'string' | 'integer' | 'number' | 'date', jsonPath: string, priority = 0): CustomResourceColumnDefinition {
  return priority > 0 ? { name, type, jsonPath, priority } : { name, type, jsonPath };
}

// Conditions are append-only and the last one is current (spec §1.1), hence the [-1:] slices.
export const CONDITION_COLUMN = column('Status', 'string', '.status.conditions[-1:].type');
export const STAGE_COLUMN = column('Stage', 'string', '.status.conditions[-1:].stage');
export const PHASE_COLUMN = column('Phase', 'string', '.status.phase');
export const ACTIVE_COLUMN = column('Active', 'integer', '.status.active');
export const SUCCEEDED_COLUMN = column('Succeeded', 'integer', '.status.succeeded');
export const FAILED_COLUMN = column('Failed', 'integer', '.status.failed');

function rootSchema(o: KindOptions): JSONSchemaProps {
  return object(
    {
      apiVersion: string('Versioned schema of this representation of the object: sedna.io/v1alpha1.'),
      kind: string(`Kind of the object: ${o.kind}.`),
      metadata: { type: 'object' },
      spec: o.spec,
      status: o.status,
    },
    o.requireMetadata ? ['metadata', 'spec'] : ['spec'],
    o.description,
  );
}

/** Names follow Sedna's: lower-case kind as singular, plus "s" as plural, <Kind>List as list kind. */
export function defineKind(o: KindOptions): KindDefinition {
  const singular = o.kind.toLowerCase();
  return {
    kind: o.kind,
    plural: `${singular}s`,
    singular,
    shortNames: o.shortNames ?? [],
    listKind: `${o.kind}List`,
    categories: ['sedna'],
    scope: 'Namespaced',
    schema: rootSchema(o),
    printerColumns: [...o.columns, AGE_COLUMN],
    subresources: { status: {} },
  };
}
