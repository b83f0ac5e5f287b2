// The model manager (spec §4.4): keeps the Models the GM sends, in memory and in the database, for
// the learning-job managers to resolve initial/deploy/eval models by name. Worker messages are
// not for it.
import type { LcDatabase } from './db.ts';
import { resourceKey, type SednaObject } from './objects.ts';

export interface ModelSpec {
  url?: string;
  format?: string;
  device_soc_versions?: string[];
  credentialName?: string;
}

export class ModelManager {
  private readonly models = new Map<string, SednaObject>();

  constructor(private readonly db: LcDatabase) {
    // Known again after a restart, before the GM re-sends them.
    for (const row of db.listResources()) {
      if (row.name.split('/')[1] !== 'model') continue;
      this.models.set(row.name, { kind: 'Model', metadata: row.objectMeta, spec: row.spec });
    }
  }

  insert(object: SednaObject): void {
    const key = resourceKey(object, 'model');
    this.db.saveResource(key, object as unknown as Record<string, unknown>);
    this.models.set(key, object);
  }

  delete(object: SednaObject): void {
    const key = resourceKey(object, 'model');
    this.db.deleteResource(key);
    this.models.delete(key);
  }

  get(namespace: string, name: string): SednaObject | undefined {
    return this.models.get(`${namespace}/model/${name}`);
  }

  /** The model's `spec` (url, format, devices), if known. */
  spec(namespace: string, name: string): ModelSpec | undefined {
    return this.get(namespace, name)?.spec as ModelSpec | undefined;
  }

  get size(): number {
    return this.models.size;
  }
}
