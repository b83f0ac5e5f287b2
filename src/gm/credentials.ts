// Credentials for objects synced to the edge (spec §2.3.6): an object naming a Secret in
// `spec.credentialName` is sent with the annotation `sedna.io/credential`, a JSON object of the
// Secret's annotations merged with its decoded data (e.g. s3-endpoint, ACCESS_KEY_ID, …). Only
// the in-flight copy carries it; it is never written to the API server. Secrets come from an
// informer, so the lookup is synchronous and a node's full resend needs no API round trip.
import type { KubeObject } from '../api/meta.ts';
import type { Lister } from '../controller/index.ts';

export const CREDENTIAL_ANNOTATION = 'sedna.io/credential';

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export type CredentialLookup = (obj: KubeObject) => KubeObject;

/**
 * Returns `obj` with the credential annotation when it names a Secret that exists; unchanged
 * otherwise (`onMissing` is told, so the caller can log it).
 */
export function credentialInjector(secrets: Lister<Secret>, onMissing: (obj: KubeObject, secret: string) => void): CredentialLookup {
  return (obj) => {
    const name = (obj as { spec?: { credentialName?: unknown } }).spec?.credentialName;
    if (typeof name !== 'string' || name === '') return obj;
    const secret = secrets.get(obj.metadata.namespace ?? '', name);
    if (!secret) {
      onMissing(obj, name);
      return obj;
    }
    const credential: Record<string, string> = { ...secret.metadata.annotations };
    for (const [key, value] of Object.entries(secret.data ?? {})) credential[key] = Buffer.from(value, 'base64').toString('utf8');
    return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [CREDENTIAL_ANNOTATION]: JSON.stringify(credential) } } };
  };
}
