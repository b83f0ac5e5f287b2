// Authentication at the HTTP upgrade, before any WebSocket exists: a node keeps Sedna's
// identification (`Node-Name`, §3.1) and adds `Authorization: Bearer <token>`. A refused request
// gets a plain HTTP answer and a closed socket, never a WebSocket.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AUTHORIZATION_HEADER, NODE_NAME_HEADER } from '../api/edge-protocol.ts';
import type { NodeAuthenticator } from './tokens.ts';

export type AuthResult = { ok: true; node: string } | { ok: false; status: 401 | 503; reason: RefusalReason; error?: unknown };

export type RefusalReason = 'missing-credentials' | 'invalid-node-name' | 'unknown-node-or-bad-token' | 'token-source-failed';

/** Kubernetes node names are DNS-1123 subdomains. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const BEARER = /^Bearer +(\S+)$/i;

export async function authenticate(req: IncomingMessage, nodes: NodeAuthenticator): Promise<AuthResult> {
  const node = req.headers[NODE_NAME_HEADER];
  const token = BEARER.exec(req.headers[AUTHORIZATION_HEADER] ?? '')?.[1];
  if (typeof node !== 'string' || node === '' || token === undefined) return { ok: false, status: 401, reason: 'missing-credentials' };
  if (!isValidNodeName(node)) return { ok: false, status: 401, reason: 'invalid-node-name' };
  let verified: boolean;
  try {
    verified = await nodes.verify(node, token);
  } catch (error) {
    return { ok: false, status: 503, reason: 'token-source-failed', error };
  }
  // One reason for both cases, so the answer does not reveal which node names exist.
  if (!verified) return { ok: false, status: 401, reason: 'unknown-node-or-bad-token' };
  return { ok: true, node };
}

export function isValidNodeName(node: string): boolean {
  return node.length <= 253 && NODE_NAME.test(node);
}

/** Answers the upgrade request with `status` and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number): void {
  const text = STATUS_CODES[status] ?? 'Error';
  const headers = [
    `HTTP/1.1 ${status} ${text}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...(status === 401 ? ['WWW-Authenticate: Bearer realm="sedna-edge-hub"'] : []),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${text}`);
}
