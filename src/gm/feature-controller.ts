// The wiring every GM feature controller shares, so a feature writes only what is its own (which
// children it wants, how its status reads). FeatureScaffold owns:
// - the informers: the primary kind's, the owned kinds' (with the owner fan-in: a change to a child
//   enqueues its controlling owner of the primary kind) and related Sedna kinds' (with a mapper);
// - the downstream binding of the primary kind to its nodes;
// - the reconcile prelude: an object gone is removed from its nodes, one being deleted is left to
//   the garbage collector, any other is synced downstream before the feature reconciles it;
// - the involved-object reference for events;
// - status writes that trust the cache (the informer's copy saves the first read) and record an
//   event when the feature says a condition transition deserves one.
import type { KubeObject } from '../api/meta.ts';
import { SEDNA_API_VERSION, SEDNA_GROUP } from '../api/sedna/index.ts';
import { Controller, type EventType, type Informer, type KeyMapper, type ObjectKey, type ObjectRef, resourcePath, type Result } from '../controller/index.ts';
import type { FeatureContext, FeatureController } from './feature.ts';

/** The Sedna kind a feature reconciles (its KindDefinition from src/api/sedna fits). */
export interface PrimaryKind {
  kind: string;
  plural: string;
}

export interface ScaffoldOptions<T extends KubeObject> {
  /** Labels logs and metrics, e.g. `jointinference`. */
  name: string;
  primary: PrimaryKind;
  /** The nodes an object is sent to. */
  nodesFor: (obj: T) => string[];
  maxConcurrentReconciles?: number;
  /** The nodes act on the status too: a status change is sent downstream (DownstreamBinding.statusIsNews). */
  sendsStatus?: boolean;
}

/** The feature's own reconcile, handed an object that exists, is not being deleted and is synced downstream. */
export type FeatureReconcile<T> = (obj: T) => Promise<Result | void>;

/** An event to record for a status change. */
export interface TransitionEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Given the status before and after a write, the event it deserves, if any. */
export type TransitionRule<S> = (before: S | undefined, after: S) => TransitionEvent | undefined;

export type StatusOf<T> = T extends { status?: infer S } ? S : never;

export class FeatureScaffold<T extends KubeObject> {
  readonly primary: Informer<T>;
  private readonly owned: Informer<KubeObject>[] = [];
  private readonly related: { informer: Informer<KubeObject>; map: KeyMapper<KubeObject> }[] = [];
  private readonly namespace: string | undefined;

  constructor(
    readonly ctx: FeatureContext,
    private readonly options: ScaffoldOptions<T>,
  ) {
    this.namespace = ctx.config.namespace || undefined;
    this.primary = ctx.informers.informerFor<T>({ path: ctx.pathFor(options.primary.plural) });
    ctx.downstream.bind<T>({ kind: options.primary.kind, lister: this.primary.lister, nodesFor: options.nodesFor, ...(options.sendsStatus ? { statusIsNews: true } : {}) });
  }

  get kind(): string {
    return this.options.primary.kind;
  }

  /** A kind whose objects this feature controls: a change to one reconciles its owner. */
  owns<C extends KubeObject>(apiVersion: string, plural: string, labelSelector?: string): Informer<C> {
    const informer = this.ctx.informers.informerFor<C>({ path: resourcePath({ apiVersion, plural, namespace: this.namespace }), ...(labelSelector ? { labelSelector } : {}) });
    this.owned.push(informer);
    return informer;
  }

  /** Another Sedna kind the feature reads (a Model, a Dataset); `map` names the objects concerned by a change. */
  watchesSedna<R extends KubeObject>(plural: string, map: KeyMapper<R>): Informer<R> {
    const informer = this.ctx.informers.informerFor<R>({ path: this.ctx.pathFor(plural) });
    this.related.push({ informer, map: map as KeyMapper<KubeObject> });
    return informer;
  }

  /** The primary objects of `obj`'s namespace that `matches` picks. */
  keysWhere(obj: KubeObject, matches: (primary: T) => boolean): ObjectKey[] {
    const namespace = obj.metadata.namespace ?? '';
    return this.primary.lister
      .list(namespace)
      .filter(matches)
      .map((primary) => ({ namespace, name: primary.metadata.name ?? '' }));
  }

  /** The controller: `reconcile` for live objects; `forget` when one is gone (in-memory bookkeeping). */
  controller(reconcile: FeatureReconcile<T>, forget?: (key: ObjectKey) => void): FeatureController & Controller {
    const controller = new Controller({
      name: this.options.name,
      maxConcurrentReconciles: this.options.maxConcurrentReconciles ?? 4,
      logger: this.ctx.logger,
      metrics: this.ctx.metrics,
      clock: this.ctx.clock,
      reconcile: (key) => this.reconcileKey(key, reconcile, forget),
    });
    controller.watchFor(this.primary);
    for (const informer of this.owned) controller.watchOwned(informer, this.options.primary.kind, SEDNA_GROUP);
    for (const { informer, map } of this.related) controller.watches(informer, map);
    return controller;
  }

  /** The reconcile prelude shared by every feature; exposed for unit tests of a reconciler. */
  async reconcileKey(key: ObjectKey, reconcile: FeatureReconcile<T>, forget?: (key: ObjectKey) => void): Promise<Result | void> {
    const obj = this.primary.lister.get(key.namespace, key.name);
    if (!obj) {
      forget?.(key);
      await this.ctx.downstream.remove(this.kind, key.namespace, key.name);
      return;
    }
    if (obj.metadata.deletionTimestamp) return; // the garbage collector is taking its children away
    await this.ctx.downstream.sync(this.kind, obj);
    return reconcile(obj);
  }

  /** An object of `owner`'s namespace. */
  ref(owner: KubeObject, apiVersion: string, plural: string, name: string): ObjectRef {
    return { apiVersion, plural, namespace: owner.metadata.namespace ?? '', name };
  }

  /** The primary object itself, by reference. */
  selfRef(obj: T): ObjectRef {
    return this.ref(obj, SEDNA_API_VERSION, this.options.primary.plural, obj.metadata.name ?? '');
  }

  /** The object as an Event's involvedObject must name it (informer copies carry no kind). */
  involved(obj: T): KubeObject {
    return { ...obj, apiVersion: SEDNA_API_VERSION, kind: this.kind };
  }

  async event(obj: T, event: TransitionEvent): Promise<void> {
    await this.ctx.events.event(this.involved(obj), event.type, event.reason, event.message);
  }

  /**
   * Writes the status `next` computes from the latest object (undefined: leave it), starting from
   * the cached `obj`, then records the event `transition` names for the status written.
   */
  async writeStatus(obj: T, next: (latest: T, now: Date) => StatusOf<T> | undefined, transition?: TransitionRule<StatusOf<T>>): Promise<void> {
    let before: StatusOf<T> | undefined;
    let after: StatusOf<T> | undefined;
    const result = await this.ctx.status.update<T>(
      this.selfRef(obj),
      (latest, now) => {
        before = (latest as { status?: StatusOf<T> }).status;
        after = next(latest, now);
        return after as Record<string, unknown> | undefined;
      },
      obj,
    );
    if (result !== 'written' || after === undefined || !transition) return;
    const event = transition(before, after);
    if (event) await this.event(obj, event);
  }
}

/**
 * A feature's reconciler: handed objects that exist and are synced downstream, reading the
 * informers its feature registered. reconcileKey() runs the scaffold's prelude first; the GM's
 * controller and the unit tests both go through it.
 */
export abstract class FeatureReconciler<T extends KubeObject, I> {
  protected readonly ctx: FeatureContext;

  constructor(
    protected readonly scaffold: FeatureScaffold<T>,
    protected readonly informers: I,
  ) {
    this.ctx = scaffold.ctx;
  }

  abstract reconcile(obj: T): Promise<Result | void>;

  /** Drops in-memory bookkeeping about an object that is gone. */
  forget(_key: ObjectKey): void {}

  reconcileKey(namespace: string, name: string): Promise<Result | void> {
    return this.scaffold.reconcileKey(
      { namespace, name },
      (obj) => this.reconcile(obj),
      (key) => this.forget(key),
    );
  }

  /** The GM's controller for this reconciler. */
  controller(): FeatureController & Controller {
    return this.scaffold.controller(
      (obj) => this.reconcile(obj),
      (key) => this.forget(key),
    );
  }
}
