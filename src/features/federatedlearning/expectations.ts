// What the controller has done that its pod cache may not show yet (controller-runtime's
// "expectations"): a pod created a moment ago fills its slot until the informer delivers it, so
// a reconcile woken by another event meanwhile does not create the slot's pod twice. Also the
// slots whose pod succeeded: their work is done, so a deletion of that pod is not healed.
import type { KubeObject } from '../../api/meta.ts';

/** After this, a created pod the cache never showed (deleted at once, say) stops filling its slot. */
const CREATE_EXPECTATION_MS = 30_000;

interface Created {
  name: string;
  at: number;
}

interface JobRecord {
  /** The job generation the records are about; another generation starts over. */
  generation: number;
  created: Map<string, Created>;
  succeeded: Set<string>;
}

export class PodExpectations {
  private readonly jobs = new Map<string, JobRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  private record(job: KubeObject): JobRecord {
    const key = `${job.metadata.namespace}/${job.metadata.name}/${job.metadata.uid}`;
    const generation = job.metadata.generation ?? 0;
    let record = this.jobs.get(key);
    if (!record || record.generation !== generation) {
      record = { generation, created: new Map(), succeeded: new Set() };
      this.jobs.set(key, record);
    }
    return record;
  }

  created(job: KubeObject, slot: string, podName: string): void {
    this.record(job).created.set(slot, { name: podName, at: this.now() });
  }

  /** The cache shows this pod: its expectation is met. */
  observed(job: KubeObject, podName: string): void {
    const record = this.record(job);
    for (const [slot, created] of record.created) if (created.name === podName) record.created.delete(slot);
  }

  succeeded(job: KubeObject, slot: string): void {
    this.record(job).succeeded.add(slot);
  }

  /** A pod was created for the slot and is not in the cache yet, or the slot's pod succeeded. */
  isFilled(job: KubeObject, slot: string): boolean {
    const record = this.record(job);
    if (record.succeeded.has(slot)) return true;
    const created = record.created.get(slot);
    if (!created) return false;
    if (this.now() - created.at < CREATE_EXPECTATION_MS) return true;
    record.created.delete(slot);
    return false;
  }

  /** Some created pod is still awaited from the cache. */
  pendingFor(job: KubeObject): boolean {
    return this.record(job).created.size > 0;
  }

  forgetJob(namespace: string, name: string): void {
    for (const key of this.jobs.keys()) if (key.startsWith(`${namespace}/${name}/`)) this.jobs.delete(key);
  }
}
