// Everything that is not a resource: health, version, discovery and OpenAPI documents.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError } from '../errors.ts';
import type { ResourceDef } from '../registry/types.ts';
import {
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  coreApiVersions,
  negotiateDiscovery,
  servedGroups,
  versionInfo,
} from './discovery.ts';
import { openapiV2, openapiV3GroupVersion, openapiV3Root, parseOpenapiV3Key } from './openapi.ts';
import { parseAccept } from './negotiate.ts';
import { sendJson } from './respond.ts';

const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);

/**
 * OpenAPI documents are rebuilt only when the served kinds change: kubectl fetches the root (which
 * hashes every group-version document) on each apply.
 */
class OpenApiCache {
  private generation = -1;
  private readonly entries = new Map<string, unknown>();

  get(generation: number, key: string, build: () => unknown): unknown {
    if (generation !== this.generation) {
      this.entries.clear();
      this.generation = generation;
    }
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = build();
      this.entries.set(key, entry);
    }
    return entry;
  }
}

const openapiCache = new OpenApiCache();

export function handleDocument(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  defs: ResourceDef[],
  serverUrl: string,
  generation: number,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw notFound();
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (HEALTH_PATHS.has(path) || /^\/(healthz|livez|readyz)\//.test(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    return void res.end('ok');
  }
  if (path === '/version') return sendJson(res, 200, versionInfo());
  if (path === '/api' || path === '/apis') return discoveryRoot(req, res, path, defs, serverUrl);
  if (path === '/openapi/v2') return openapiV2Document(req, res, () => openapiCache.get(generation, 'v2', () => openapiV2(defs)));
  if (path === '/openapi/v3') return sendJson(res, 200, openapiCache.get(generation, 'v3', () => openapiV3Root(defs)));
  if (path.startsWith('/openapi/v3/')) {
    const gv = parseOpenapiV3Key(path.slice('/openapi/v3/'.length));
    if (gv && servesGroupVersion(defs, gv.group, gv.version)) {
      const doc = openapiCache.get(generation, path, () => openapiV3GroupVersion(defs, gv.group, gv.version));
      return sendJson(res, 200, doc);
    }
    throw notFound();
  }
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length === 2 && servesGroupVersion(defs, '', parts[1]!)) {
    return sendJson(res, 200, apiResourceList(defs, '', parts[1]!));
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const group = apiGroupDocument(defs, parts[1]!);
    if (group) return sendJson(res, 200, group);
  }
  if (parts[0] === 'apis' && parts.length === 3 && servesGroupVersion(defs, parts[1]!, parts[2]!)) {
    return sendJson(res, 200, apiResourceList(defs, parts[1]!, parts[2]!));
  }
  throw notFound();
}

function discoveryRoot(req: IncomingMessage, res: ServerResponse, path: string, defs: ResourceDef[], serverUrl: string): void {
  const choice = negotiateDiscovery(req.headers.accept);
  const scope = path === '/api' ? 'core' : 'apis';
  if (choice.aggregated) {
    return sendJson(res, 200, aggregatedDiscovery(defs, scope, choice.apiVersion), { contentType: choice.contentType });
  }
  const address = new URL(serverUrl || 'https://127.0.0.1').host;
  sendJson(res, 200, scope === 'core' ? coreApiVersions(address) : apiGroupList(defs));
}

/** kubectl asks for the protobuf form first; we only speak JSON, and say so when JSON is not accepted. */
function openapiV2Document(req: IncomingMessage, res: ServerResponse, document: () => unknown): void {
  const acceptsJson = parseAccept(req.headers.accept).some((r) => r.type === 'application/json' || r.type === '*/*');
  if (!acceptsJson) throw new StatusError(406, 'NotAcceptable', 'only application/json is served for /openapi/v2');
  sendJson(res, 200, document());
}

function servesGroupVersion(defs: ResourceDef[], group: string, version: string): boolean {
  return servedGroups(defs).some((g) => g.group === group && g.versions.includes(version));
}

function notFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}
