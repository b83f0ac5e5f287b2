// A watch over HTTP: newline-delimited JSON events, as client-go and kubectl read them. Ends
// cleanly at the timeout (clients resume from their last resourceVersion), with an ERROR event
// carrying a Status when the resourceVersion is too old, and drops a watcher that stops reading
// rather than buffering without bound.
import type { KubeObject } from '../../api/meta.ts';
import type { StatusError } from '../errors.ts';
import { apiVersionOf } from '../registry/types.ts';
import { negotiateShape } from './negotiate.ts';
import { shaped } from './shape.ts';
import { includeObjectOption, parseNonNegativeInt } from './options.ts';
import type { ResourceCall } from './call.ts';

/** A watcher this far behind is cut off; it re-lists or resumes on its own. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 30_000;

export function serveWatch({ req, res, query: q, def, namespace, store }: ResourceCall, name: string | undefined): void {
  const shape = negotiateShape(req.headers.accept);
  const includeObject = shape.kind === 'object' ? 'Object' : includeObjectOption(q);
  const fieldSelector = [q.get('fieldSelector'), name ? `metadata.name=${name}` : ''].filter(Boolean).join(',');
  const timeoutSeconds = q.get('timeoutSeconds') ? parseNonNegativeInt(q.get('timeoutSeconds')!, 'timeoutSeconds') : defaultTimeoutSeconds();
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const sendInitialEvents = q.get('sendInitialEvents') === 'true';

  const encodeObject = (raw: string): string => {
    if (shape.kind === 'object') return raw;
    return JSON.stringify(shaped(shape, def, [JSON.parse(raw) as KubeObject], {}, includeObject, false));
  };
  let lastRev = 0;
  let closed = false;
  const write = (line: string): void => {
    if (closed) return;
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) finish();
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata = { resourceVersion: String(lastRev || store.storage.currentRevision()), ...(annotations ? { annotations } : {}) };
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata })}}\n`);
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  let stop: () => void = () => {};
  const timers: NodeJS.Timeout[] = [];
  function finish(): void {
    if (closed) return;
    closed = true;
    stop();
    for (const t of timers) clearTimeout(t);
    res.end();
  }
  req.on('close', finish);
  res.on('error', finish);

  stop = store.watch(
    def,
    namespace,
    {
      ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
      ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
      initialEvents: sendInitialEvents,
    },
    {
      event(type, raw, rev) {
        lastRev = Math.max(lastRev, rev);
        write(`{"type":"${type}","object":${encodeObject(raw)}}\n`);
      },
      error(err: StatusError) {
        write(`{"type":"ERROR","object":${JSON.stringify(err.toStatus())}}\n`);
        finish();
      },
    },
  );
  if (closed) return;
  if (sendInitialEvents && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  if (bookmarks) {
    const tick = (): void => {
      bookmark();
      timers[1] = setTimeout(tick, BOOKMARK_INTERVAL_MS);
    };
    timers[1] = setTimeout(tick, BOOKMARK_INTERVAL_MS);
  }
  if (timeoutSeconds > 0) timers[0] = setTimeout(finish, timeoutSeconds * 1000);
}

/** Like kube-apiserver: a random time between 30 and 60 minutes spreads reconnects out. */
function defaultTimeoutSeconds(): number {
  return 1800 + Math.floor(Math.random() * 1800);
}
