// A watch over HTTP: newline-delimited JSON events, as client-go and kubectl read them. Ends
// cleanly at the timeout (clients resume from their last resourceVersion), with an ERROR event
// carrying a Status when the resourceVersion is too old, and drops a watcher that stops reading
// rather than buffering without bound. Every parameter is checked, and the store's watch set up,
// before the 200 is written: a bad selector or resourceVersion is a plain 400 Status.
import type { KubeObject } from '../../api/meta.ts';
import type { StatusError } from '../errors.ts';
import { apiVersionOf } from '../registry/types.ts';
import { negotiateShape } from './negotiate.ts';
import { shaped } from './shape.ts';
import { includeObjectOption, watchParameters } from './options.ts';
import { timerSeconds } from '../query.ts';
import type { ResourceCall } from './call.ts';

/** A watcher this far behind is cut off; it re-lists or resumes on its own. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 30_000;

export function serveWatch({ req, res, query: q, def, namespace, store }: ResourceCall, name: string | undefined): void {
  const shape = negotiateShape(req.headers.accept);
  const includeObject = shape.kind === 'object' ? 'Object' : includeObjectOption(q);
  const { timeoutSeconds: requestedTimeout, allowWatchBookmarks: bookmarks, ...watchOptions } = watchParameters(q, name);
  const timeoutSeconds = timerSeconds(requestedTimeout ?? defaultTimeoutSeconds());
  const sendInitialEvents = watchOptions.initialEvents === true;

  const encodeObject = (raw: string): string => {
    if (shape.kind === 'object') return raw;
    return JSON.stringify(shaped(shape, def, [JSON.parse(raw) as KubeObject], {}, includeObject, false));
  };
  let lastRev = 0;
  let closed = false;
  const write = (line: string): void => {
    if (closed) return;
    if (!res.headersSent) startStream();
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) finish();
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata = { resourceVersion: String(lastRev || store.storage.currentRevision()), ...(annotations ? { annotations } : {}) };
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata })}}\n`);
  };

  const startStream = (): void => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
  };
  let stop: () => void = () => {};
  const timers: NodeJS.Timeout[] = [];
  function finish(): void {
    if (closed) return;
    closed = true;
    stop();
    for (const t of timers) clearTimeout(t);
    if (!res.headersSent) startStream();
    res.end();
  }
  req.on('close', finish);
  res.on('error', finish);

  // Throws (before any byte is written) on a selector or version the store cannot serve.
  stop = store.watch(
    def,
    namespace,
    watchOptions,
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
  if (!res.headersSent) startStream();
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
