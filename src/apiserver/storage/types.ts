// What the storage layer hands out, and the errors it raises. Values are JSON text: the store
// never parses objects, so lists and watches can be served without re-encoding them.

export type StoredEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredObject {
  key: string;
  /** The revision of the write that produced this value (its resourceVersion). */
  rev: number;
  /** The object as JSON text, metadata.resourceVersion included. */
  value: string;
}

export interface StoredEvent {
  rev: number;
  key: string;
  type: StoredEventType;
  /** The object after the change; for DELETED, its last state stamped with the delete's revision. */
  value: string;
  /** The object before the change (absent for ADDED). Watches with selectors need it. */
  prev: string | undefined;
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
    this.name = 'KeyExistsError';
  }
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} not found`);
    this.name = 'NotFoundError';
  }
}

/** The stored revision was not the one the caller read; `current` is what is there now. */
export class ConflictError extends Error {
  constructor(
    readonly key: string,
    readonly current: StoredObject,
  ) {
    super(`key ${key} was modified (now at revision ${current.rev})`);
    this.name = 'ConflictError';
  }
}

/** The requested revision is older than the log still holds. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
    message = `revision ${requested} has been compacted (oldest available: ${compacted})`,
  ) {
    super(message);
    this.name = 'CompactedError';
  }
}

/**
 * A watch resuming from a revision whose backlog is larger than the store will replay in one go.
 * Like kube-apiserver's watch cache answering "too old resource version", it ends in 410 Gone and
 * the client relists (a paged list) instead of pinning the whole backlog in memory at once.
 */
export class ReplayTooLargeError extends CompactedError {
  constructor(requested: number, oldestResumable: number, limitBytes: number) {
    super(requested, oldestResumable, `the events after revision ${requested} exceed the ${limitBytes}-byte replay limit (resume from ${oldestResumable} or later, or list again)`);
    this.name = 'ReplayTooLargeError';
  }
}
