// Streams a container's log (pods/log?follow=true through the API server) as server-sent events,
// one `line` event per line, so a page can follow any worker's output.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** A line longer than this is cut: one SSE event must stay small. */
const MAX_LINE = 8192;

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  tailLines: number;
}

/** The query's log request, or the reason it is refused (a 400 names the field). */
export function parseLogRequest(query: URLSearchParams): LogRequest | string {
  const namespace = query.get('namespace') ?? '';
  const pod = query.get('pod') ?? '';
  const container = query.get('container') ?? '';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) return 'namespace must be a DNS label';
  if (!DNS_SUBDOMAIN.test(pod) || pod.length > 253) return 'pod must be a DNS subdomain name';
  if (!DNS_LABEL.test(container) || container.length > 63) return 'container must be a DNS label';
  const rawTail = query.get('tailLines') ?? '200';
  const tailLines = Number(rawTail);
  if (!/^\d+$/.test(rawTail) || tailLines > 5000) return 'tailLines must be an integer from 0 to 5000';
  return { namespace, pod, container, tailLines };
}

/** Writes one event; false when the response's buffer is full (wait for 'drain'). */
export function sse(res: ServerResponse, event: string, data: unknown): boolean {
  return res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Follows the log until the client goes away or the container's log ends. */
export async function streamLog(kc: k8s.KubeConfig, request: LogRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      let room = true;
      for (const line of lines) room = sse(res, 'line', line.slice(0, MAX_LINE)) && room;
      if (partial.length > MAX_LINE) {
        room = sse(res, 'line', partial.slice(0, MAX_LINE)) && room;
        partial = '';
      }
      // A slow reader slows the log stream down (backpressure) instead of filling memory.
      if (room || res.destroyed) done();
      else res.once('drain', () => done());
    },
  });
  let abort: AbortController | undefined;
  req.on('close', () => abort?.abort());
  try {
    abort = await new k8s.Log(kc).log(request.namespace, request.pod, request.container, sink, (err: unknown) => {
      if (partial) sse(res, 'line', partial);
      sse(res, 'end', err ? { error: err instanceof Error ? err.message : JSON.stringify(err) } : {});
      res.end();
    }, { follow: true, tailLines: request.tailLines });
    if (req.destroyed) abort.abort();
  } catch (err) {
    sse(res, 'end', { error: (err as Error).message });
    res.end();
  }
}
