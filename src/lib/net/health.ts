// Probe endpoints for the kubelet: GET /healthz (the process serves requests) and GET /readyz
// (the component can do its work, e.g. the GM leads and its edge hub listens). They carry no
// credential, as kubelet probes send none, and say nothing beyond "ok" or why not ready.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Whether the component is ready, and why not when it is not. */
export type ReadinessCheck = () => { ready: true } | { ready: false; reason: string };

export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** Answers a probe and returns true, or returns false when `req` is not one. */
export function answerHealth(req: IncomingMessage, res: ServerResponse, readiness?: ReadinessCheck): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end(`method ${req.method ?? ''} not allowed; use GET\n`);
    return true;
  }
  const state = path === '/readyz' && readiness ? readiness() : { ready: true as const };
  if (state.ready) res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end('ok\n');
  else res.writeHead(503, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end(`not ready: ${state.reason}\n`);
  return true;
}
