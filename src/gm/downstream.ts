// Downstream sync (spec §2.4, §3): which resource goes to which node, and keeping each node's
// copy current. A feature binds its kind with a function naming the nodes an object belongs to
// (a Dataset: spec.nodeName); the GM then sends `insert` when an object is new or its desired
// state changed, `delete` to a node the object left (Sedna never did) or when it is deleted, and
// on every (re)connection of a node the current state of everything bound to it. The hub's outbox
// coalesces by resource, so a resend on reconnect costs nothing when the node already has it.
import type { KubeObject } from '../api/meta.ts';
import { Operation, type EdgeMessage } from '../api/edge-protocol.ts';
import type { Lister } from '../controller/index.ts';
import type { Logger } from '../lib/logger.ts';
import { UnknownNodeError } from '../edgelink/index.ts';

/** What the GM needs from the hub; the EdgeHub provides it. */
export interface DownstreamHub {
  send(node: string, message: EdgeMessage): Promise<void>;
  onNodeConnected(handler: (node: string) => Promise<void> | void): () => void;
}

export interface DownstreamBinding<T extends KubeObject = KubeObject> {
  /** The CR kind, e.g. `Dataset`; sent lower-cased as `resourceKind`. */
  kind: string;
  lister: Lister<T>;
  /** The nodes that need this object (empty: none). */
  nodesFor(obj: T): string[];
  /**
   * The content sent (default: the whole object with `kind` set, as Sedna sends it, plus the
   * `sedna.io/credential` annotation when it names a credential Secret).
   */
  payload?(obj: T): unknown;
  /**
   * The node acts on the object's status (incremental learning's LC dispatches on the latest
   * condition, as Sedna's does), so a status change is sent too.
   */
  statusIsNews?: boolean;
}

export interface SyncResult {
  /** Bound nodes that have no credential, so can never receive it. */
  unknownNodes: string[];
}

interface Sent {
  obj: KubeObject;
  nodes: Set<string>;
  /** The desired state last sent: a status-only change is not sent again. */
  fingerprint: string;
}

export class DownstreamSync {
  private readonly bindings = new Map<string, DownstreamBinding>();
  /** key `<kind>/<namespace>/<name>` → what was sent where. */
  private readonly sent = new Map<string, Sent>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly hub: DownstreamHub,
    private readonly logger: Logger,
    private readonly withCredential: (obj: KubeObject) => KubeObject = (obj) => obj,
  ) {
    this.unsubscribe = hub.onNodeConnected((node) => this.resendTo(node));
  }

  bind<T extends KubeObject>(binding: DownstreamBinding<T>): void {
    const kind = binding.kind.toLowerCase();
    if (this.bindings.has(kind)) throw new Error(`kind ${binding.kind} is already bound for downstream sync`);
    this.bindings.set(kind, binding);
  }

  close(): void {
    this.unsubscribe();
  }

  /** Brings the nodes' copies of `obj` up to date: insert where bound, delete where no longer. */
  async sync(kind: string, obj: KubeObject): Promise<SyncResult> {
    const binding = this.binding(kind);
    const key = keyFor(kind, obj);
    const nodes = new Set(binding.nodesFor(obj));
    const fingerprint = fingerprintOf(obj, binding.statusIsNews === true);
    const previous = this.sent.get(key);
    const unknownNodes: string[] = [];
    const content = this.payload(binding, obj);
    const sentTo = new Set<string>();
    for (const node of nodes) {
      // A status-only change (our own writes, mostly) is not news to the node.
      if (previous?.nodes.has(node) && previous.fingerprint === fingerprint) sentTo.add(node);
      else if (await this.send(node, message(kind, obj, Operation.Insert, content))) sentTo.add(node);
      else unknownNodes.push(node); // tried again at the next sync: its token may appear
    }
    for (const node of previous?.nodes ?? []) {
      if (!nodes.has(node)) await this.send(node, message(kind, previous!.obj, Operation.Delete, this.payload(binding, previous!.obj)));
    }
    if (sentTo.size === 0) this.sent.delete(key);
    else this.sent.set(key, { obj, nodes: sentTo, fingerprint });
    return { unknownNodes };
  }

  /** The object is gone: every node it was sent to gets a `delete` with its last known state. */
  async remove(kind: string, namespace: string, name: string): Promise<void> {
    const binding = this.binding(kind);
    const key = `${kind.toLowerCase()}/${namespace}/${name}`;
    const previous = this.sent.get(key);
    if (!previous) return;
    this.sent.delete(key);
    for (const node of previous.nodes) await this.send(node, message(kind, previous.obj, Operation.Delete, this.payload(binding, previous.obj)));
  }

  /** Nodes the object was last sent to (for checking that a node may report on it). */
  nodesOf(kind: string, namespace: string, name: string): ReadonlySet<string> {
    return this.sent.get(`${kind.toLowerCase()}/${namespace}/${name}`)?.nodes ?? new Set();
  }

  /**
   * Full resend on (re)connection: the current state of every object bound to `node`. The part up
   * to the first await queues synchronously, before the hub flushes the node's outbox.
   */
  private resendTo(node: string): Promise<void> {
    const sends: Promise<boolean>[] = [];
    let count = 0;
    for (const [kind, binding] of this.bindings) {
      for (const obj of binding.lister.list()) {
        if (!binding.nodesFor(obj).includes(node)) continue;
        count++;
        sends.push(this.send(node, message(kind, obj, Operation.Insert, this.payload(binding, obj))));
      }
    }
    this.logger.info({ node, resources: count }, 'node connected: sending the current state of its resources');
    return Promise.all(sends).then(() => undefined);
  }

  private async send(node: string, msg: EdgeMessage): Promise<boolean> {
    try {
      await this.hub.send(node, msg);
      return true;
    } catch (err) {
      if (err instanceof UnknownNodeError) {
        this.logger.warn({ node, header: msg.header }, 'resource bound to a node without a credential; not sent');
        return false;
      }
      throw err;
    }
  }

  private binding(kind: string): DownstreamBinding {
    const binding = this.bindings.get(kind.toLowerCase());
    if (!binding) throw new Error(`kind ${kind} is not bound for downstream sync`);
    return binding;
  }

  private payload(binding: DownstreamBinding, obj: KubeObject): unknown {
    return binding.payload ? binding.payload(obj) : { ...this.withCredential(obj), kind: binding.kind };
  }
}

function keyFor(kind: string, obj: KubeObject): string {
  return `${kind.toLowerCase()}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function message(kind: string, obj: KubeObject, operation: string, content: unknown): EdgeMessage {
  return {
    header: { namespace: obj.metadata.namespace ?? '', resourceKind: kind.toLowerCase(), resourceName: obj.metadata.name ?? '', operation },
    content,
  };
}

function fingerprintOf(obj: KubeObject, withStatus: boolean): string {
  const { metadata } = obj;
  const status = withStatus ? ((obj as { status?: unknown }).status ?? null) : null;
  // A rotated credential Secret is not seen here; it reaches the node at its next (re)connection.
  return JSON.stringify([metadata.uid, metadata.generation, metadata.labels ?? {}, metadata.annotations ?? {}, (obj as { spec?: unknown }).spec ?? null, status]);
}
