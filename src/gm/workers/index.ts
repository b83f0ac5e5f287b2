// Worker machinery the feature controllers share: labels, names, storage injection, workload
// templates and idempotent apply.
export * from './apply.ts';
export * from './labels.ts';
export * from './names.ts';
export * from './storage.ts';
export * from './templates.ts';
export * from './token-secret.ts';
export type * from '../../api/workloads.ts';
