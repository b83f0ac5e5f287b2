// What the fault suite measures around each fault, with real clients against the running system:
// a writer whose acknowledged ConfigMap creations must all survive; a reporter that posts worker
// reports to the edge LC (as a worker does) whose last acknowledged one must reach the service's
// status; and a tracker of every process the system ran, by identity, to find the ones left
// running unmanaged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { identify, isSameProcess, type ProcessIdentity } from '../../src/lib/proc.ts';
import type { UpState } from '../../src/up/state.ts';

export function readState(dir: string): UpState {
  return JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpState;
}

/** Creates ConfigMaps one after another until stopped; `acked` holds those the API server confirmed. */
export class Writer {
  readonly acked: string[] = [];
  private running = true;
  private loop: Promise<void>;

  constructor(private readonly kc: k8s.KubeConfig, private readonly label: string) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const name = `${label}-${i}`;
        try {
          await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, labels: { 'fault-run': label } }, data: { i: String(i) } } });
          this.acked.push(name);
        } catch {
          // Not acknowledged (the server is down): nothing is owed.
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  /** Stops and returns the acknowledged writes that are missing now. */
  async stopAndCount(): Promise<{ acked: number; lost: number }> {
    this.running = false;
    await this.loop;
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: `fault-run=${this.label}` });
    const present = new Set(list.items.map((c) => c.metadata!.name!));
    return { acked: this.acked.length, lost: this.acked.filter((n) => !present.has(n)).length };
  }
}

/**
 * Posts a JointInferenceService report with an increasing `seq` to the edge node's LC (its URL
 * re-read from up.json, as a restarted LC keeps its port); the LC acknowledges only what it
 * committed to its outbox.
 */
export class Reporter {
  lastAcked = 0;
  private running = true;
  private loop: Promise<void>;

  constructor(private readonly dir: string, private readonly node: string, private readonly service: string) {
    this.loop = (async () => {
      for (let seq = 1; this.running; seq++) {
        const lc = readState(dir).lcs.find((l) => l.node === node);
        try {
          const res = await fetch(`${lc!.url}/sedna/workers/${service}-probe/info`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: `${service}-probe`, namespace: 'default', ownerName: service, ownerKind: 'jointinferenceservice', kind: 'inference', status: 'completed', ownerInfo: { seq } }),
            signal: AbortSignal.timeout(2_000),
          });
          if (res.ok) this.lastAcked = seq;
          await res.arrayBuffer();
        } catch {
          // The LC is down: not acknowledged.
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The seq the service's status shows now. */
  static async reported(kc: k8s.KubeConfig, service: string): Promise<number> {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const ji = (await custom.getNamespacedCustomObject({ group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural: 'jointinferenceservices', name: service })) as { status?: { metrics?: { key: string; value: string }[] } };
    return Number(ji.status?.metrics?.find((m) => m.key === 'seq')?.value ?? 0);
  }
}

/** Every process of the system seen so far, by identity. */
export class ProcessTracker {
  private readonly seen = new Map<string, ProcessIdentity & { what: string }>();

  add(pid: number | undefined, what: string): void {
    if (!pid) return;
    const id = identify(pid);
    if (id) this.seen.set(`${id.pid}/${id.startTime}`, { ...id, what });
  }

  /** Seen processes still running that are not in `managed` (pids the system reports now). */
  unmanaged(managed: ReadonlySet<number>): (ProcessIdentity & { what: string })[] {
    return [...this.seen.values()].filter((p) => isSameProcess(p) && !managed.has(p.pid));
  }

  alive(): (ProcessIdentity & { what: string })[] {
    return [...this.seen.values()].filter(isSameProcess);
  }
}
