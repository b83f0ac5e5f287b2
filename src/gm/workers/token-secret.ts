// The bearer tokens the GM hands a CR's workers: each in a Secret the CR owns (so the garbage
// collector removes it with the CR), and in the pod spec only as a secretKeyRef, so whoever may
// read pods, Deployments or the CR does not see the token itself.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../api/meta.ts';
import type { CoreSecret, EnvVar } from '../../api/workloads.ts';
import { controllerRef, type GroupVersionKind } from '../../controller/owner.ts';
import { allWorkersLabels } from './labels.ts';

/** The key a token Secret holds its token under. */
export const TOKEN_SECRET_KEY = 'token';

/** 32 random bytes, hex: a token only the GM and the workers it hands it to know. */
export function randomToken(): string {
  return randomBytes(32).toString('hex');
}

/** The Secret `name` holding `token` for the owner's workers, with the workers' labels. */
export function buildTokenSecret(owner: KubeObject, gvk: GroupVersionKind, name: string, token: string): CoreSecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name, namespace: owner.metadata.namespace, labels: allWorkersLabels(owner, gvk.kind), ownerReferences: [controllerRef(owner, gvk)] },
    data: { [TOKEN_SECRET_KEY]: Buffer.from(token).toString('base64') },
  };
}

/** The env var `envName` taking its value from the token Secret `secretName` when the pod starts. */
export function tokenSecretEnv(envName: string, secretName: string): EnvVar {
  return { name: envName, valueFrom: { secretKeyRef: { name: secretName, key: TOKEN_SECRET_KEY } } };
}
