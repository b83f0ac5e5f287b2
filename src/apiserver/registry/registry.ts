// Every kind the server currently serves, built-in or defined by a CRD, indexed the ways requests
// and controllers look them up.
import type { ResourceDef } from './types.ts';

type ChangeListener = () => void;

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDef>();
  private readonly listeners = new Set<ChangeListener>();
  private changes = 0;

  constructor(initial: ResourceDef[] = []) {
    for (const def of initial) this.byPath.set(pathKey(def.group, def.version, def.plural), def);
  }

  /** Adds or replaces the definitions of one CRD (all its versions), replacing its previous ones. */
  replaceCrd(group: string, plural: string, defs: ResourceDef[]): void {
    this.removeCrd(group, plural, false);
    for (const def of defs) this.byPath.set(pathKey(def.group, def.version, def.plural), def);
    this.changed();
  }

  removeCrd(group: string, plural: string, notify = true): void {
    for (const [key, def] of this.byPath) {
      if (def.source === 'crd' && def.group === group && def.plural === plural) this.byPath.delete(key);
    }
    if (notify) this.changed();
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(pathKey(group, version, plural));
  }

  /** Resolves an ownerReference or an involvedObject: apiVersion plus kind. */
  byApiVersionKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    for (const def of this.byPath.values()) {
      if (def.group === group && def.version === version && def.kind === kind) return def;
    }
    return undefined;
  }

  /** One definition per stored resource (the storage version), for controllers that walk everything. */
  storedResources(): ResourceDef[] {
    return this.all().filter((def) => def.version === def.storageVersion);
  }

  all(): ResourceDef[] {
    return [...this.byPath.values()];
  }

  /** Grows whenever the set of served kinds changes; documents derived from it cache on it. */
  get generation(): number {
    return this.changes;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.changes++;
    for (const listener of this.listeners) listener();
  }
}

function pathKey(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}
