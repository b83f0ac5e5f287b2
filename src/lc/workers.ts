// Worker reports (spec §4.2 body, appendix D `WorkerMessage`) and what each becomes upstream, as
// Sedna's managers do it (§4.5, §4.6, §4.9). Which owner kinds are relayed, and how, is each
// feature's word (its edge.ts `relays`); owner kinds no feature relays are accepted and dropped.
import type { EdgeMessage } from '../api/edge-protocol.ts';
import type { WorkerMessage } from '../api/worker-message.ts';
import type { EdgeFeature, RelayRule } from './edge-feature.ts';

export type { WorkerMessage } from '../api/worker-message.ts';

export class WorkerMessageError extends Error {}

/** A report of a job that is gone: this node holds another job (another uid) of that name now. */
export class StaleOwnerError extends Error {}

const STRING_FIELDS = ['name', 'namespace', 'ownerName', 'ownerKind', 'kind', 'status'] as const;

/** Validates a decoded body; missing strings read as "" (as Go's decoder leaves them). */
export function parseWorkerMessage(body: unknown): WorkerMessage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WorkerMessageError('the body must be a JSON object');
  const value = body as Record<string, unknown>;
  const message: WorkerMessage = { name: '', namespace: '', ownerName: '', ownerKind: '', ownerInfo: null, kind: '', status: '', results: null };
  for (const field of STRING_FIELDS) {
    const v = value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new WorkerMessageError(`${field} must be a string`);
    message[field] = v;
  }
  const { ownerInfo, results, ownerUid } = value;
  if (ownerUid !== undefined && ownerUid !== null) {
    if (typeof ownerUid !== 'string') throw new WorkerMessageError('ownerUid must be a string');
    if (ownerUid !== '') message.ownerUid = ownerUid;
  }
  if (ownerInfo !== undefined && ownerInfo !== null) {
    if (typeof ownerInfo !== 'object' || Array.isArray(ownerInfo)) throw new WorkerMessageError('ownerInfo must be an object');
    message.ownerInfo = ownerInfo as Record<string, unknown>;
  }
  if (results !== undefined && results !== null) {
    if (!Array.isArray(results) || results.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) throw new WorkerMessageError('results must be an array of objects');
    message.results = results as Record<string, unknown>[];
  }
  return message;
}

/** Looks up a job this LC holds (IL/LL): its kind as stored, or undefined. */
export type JobLookup = (ownerKind: string, namespace: string, name: string) => string | undefined;

/** The features' relays as one table; two features relaying the same owner kind is an error. */
export function relayTable(features: readonly EdgeFeature[]): Map<string, RelayRule> {
  const table = new Map<string, RelayRule>();
  for (const feature of features) {
    for (const [ownerKind, rule] of Object.entries(feature.relays ?? {})) {
      if (table.has(ownerKind)) throw new Error(`two features relay worker reports of owner kind ${ownerKind}`);
      table.set(ownerKind, rule);
    }
  }
  return table;
}

/** The uid of a job this LC holds, or undefined when it holds none of that name (or knows no uid). */
export type JobUidLookup = (ownerKind: string, namespace: string, name: string) => string | undefined;

/** Refuses a report whose job uid is not the uid of the job of that name this LC holds now. */
export function checkOwnerUid(message: WorkerMessage, uidOf: JobUidLookup): void {
  if (!message.ownerUid) return;
  const current = uidOf(message.ownerKind, message.namespace, message.ownerName);
  if (current === undefined || current === message.ownerUid) return;
  throw new StaleOwnerError(`${message.ownerKind} ${message.namespace}/${message.ownerName} uid ${message.ownerUid} no longer exists (the job of that name is uid ${current}); the report is refused`);
}

/** The upstream message for a worker report, or undefined when it is dropped. */
export function upstreamFor(message: WorkerMessage, relays: ReadonlyMap<string, RelayRule>, lookupJob: JobLookup): EdgeMessage | undefined {
  const kind = message.ownerKind;
  const rule = relays.get(kind);
  let resourceKind = kind;
  let models: Record<string, unknown>[] | null;
  if (rule === 'status') models = null;
  else if (rule === 'results') models = message.results;
  else if (rule === 'held-job') {
    const jobKind = lookupJob(kind, message.namespace, message.ownerName);
    if (jobKind === undefined) return undefined;
    resourceKind = jobKind;
    models = message.results;
  } else return undefined;
  return {
    header: { namespace: message.namespace, resourceKind, resourceName: message.ownerName, operation: 'status' },
    content: { phase: message.kind, status: message.status, output: { models, ownerInfo: message.ownerInfo }, ...(message.ownerUid ? { ownerUid: message.ownerUid } : {}) },
  };
}
