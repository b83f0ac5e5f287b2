// Dataset: an index file of samples on one node, which that node's LocalController watches and
// counts (spec §1.3).
import type { KubeObject } from '../meta.ts';
import { column, defineKind } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { dateTime, integer, object, string } from './schema.ts';
import { conditionsSchema, statusSchema } from './status.ts';
import type { BaseStatus } from './status.ts';

export interface DatasetSpec {
  /** A node path (/data/train.txt) or s3://bucket/key of the index file. */
  url: string;
  /** txt (one sample per line) or csv (a header line, then one sample per line). */
  format: string;
  nodeName: string;
  credentialName?: string;
}

export interface DatasetStatus extends BaseStatus {
  numberOfSamples: number;
  updateTime?: string;
}

export interface Dataset extends KubeObject {
  spec: DatasetSpec;
  status?: DatasetStatus;
}

const spec = object(
  {
    url: string('Index file: a path on the node (no scheme) or s3://bucket/key.'),
    // Sedna's CRD leaves the format free and the LocalController checks txt/csv case-insensitively.
    format: string('txt: one sample per line; csv: a header line, then one sample per line.'),
    nodeName: string('The node whose LocalController watches the dataset.'),
    credentialName: string('Secret in the same namespace with the S3 credentials.'),
  },
  ['format', 'nodeName', 'url'],
);

const status = statusSchema(
  {
    numberOfSamples: integer('Number of samples in the index file, as the LocalController last counted.'),
    updateTime: dateTime('When the sample count was last reported.'),
  },
  conditionsSchema(),
  ['numberOfSamples'],
);

export const datasetKind: KindDefinition = defineKind({
  kind: 'Dataset',
  description: 'Dataset describes the samples a node provides to Sedna jobs.',
  spec,
  status,
  requireMetadata: false,
  columns: [
    column('Node', 'string', '.spec.nodeName'),
    column('Format', 'string', '.spec.format'),
    column('Samples', 'integer', '.status.numberOfSamples'),
    column('URL', 'string', '.spec.url', 1),
  ],
});
