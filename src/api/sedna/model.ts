// Model: where a model's files are and in which format (spec §1.4).
import type { KubeObject } from '../meta.ts';
import { column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { array, dateTime, object, string } from './schema.ts';
import { conditionsSchema, metricsSchema, statusSchema } from './status.ts';
import type { BaseStatus, Metric } from './status.ts';

export interface ModelSpec {
  /** A node path, s3://… or http(s)://… */
  url: string;
  /** Free text (pb, ckpt, pkl, …); trained models are matched to deploy models by format. */
  format: string;
  // Sedna's JSON key is snake_case; kept as is so existing YAML applies.
  device_soc_versions?: string[];
  credentialName?: string;
}

export interface ModelStatus extends BaseStatus {
  updateTime?: string;
  metrics?: Metric[];
}

export interface Model extends KubeObject {
  spec: ModelSpec;
  status?: ModelStatus;
}

const spec = object(
  {
    url: string('Model location: a path on the node, s3://… or http(s)://….'),
    format: string('Model format, e.g. pb, ckpt or pkl.'),
    device_soc_versions: array(string(), 'Device SoC versions the model was built for.'),
    credentialName: string('Secret in the same namespace with the S3 credentials.'),
  },
  ['format', 'url'],
);

const status = statusSchema(
  {
    updateTime: dateTime('When the model was last updated.'),
    metrics: metricsSchema,
  },
  conditionsSchema(),
);

export const modelKind: KindDefinition = defineKind({
  kind: 'Model',
  description: 'Model describes a trained model that Sedna workers load or produce.',
  spec,
  status,
  requireMetadata: false,
  columns: [column('Format', 'string', '.spec.format'), column('URL', 'string', '.spec.url')],
});
