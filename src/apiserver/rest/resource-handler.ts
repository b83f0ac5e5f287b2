// The REST verbs over HTTP for every resource: one handler, driven by the kind's ResourceDef.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/meta.ts';
import { badRequest, methodNotAllowed, StatusError, unsupportedMediaType } from '../errors.ts';
import type { DeleteOptions, FieldValidation, GenericStore, PropagationPolicy, WriteOptions } from '../registry/generic-store.ts';
import { apiVersionOf, type ResourceDef } from '../registry/types.ts';
import { applyJsonPatch } from '../patch/json-patch.ts';
import { applyMergePatch } from '../patch/merge-patch.ts';
import { applyStrategicMergePatch } from '../patch/strategic-merge.ts';
import { mediaType, parseBody, readBody } from './body.ts';
import { negotiateShape, type ResponseShape } from './negotiate.ts';
import type { ResourceRequest } from './request-info.ts';
import { sendJson, sendRawList } from './respond.ts';
import { buildTable } from './table.ts';
import { serveWatch } from './watch-stream.ts';
import { handleScale } from './scale.ts';
import { servePodLog, type PodLogSource } from './pod-log.ts';
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from '../protobuf/decode.ts';

export interface ResourceHandlerContext {
  store: GenericStore;
  podLogs: PodLogSource;
}

export async function handleResource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceRequest,
  ctx: ResourceHandlerContext,
): Promise<void> {
  const def = ctx.store.registry.lookup(info.group, info.version, info.resource);
  if (!def) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const namespace = def.namespaced ? info.namespace : undefined;
  if (def.namespaced && info.name !== undefined && !namespace) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const q = url.searchParams;
  if (info.subresource !== undefined) return handleSubresource(req, res, url, info, def, namespace, ctx);
  const method = req.method ?? 'GET';
  const isWatch = info.watchPath || q.get('watch') === 'true' || q.get('watch') === '1';
  if (method === 'GET' && (isWatch || info.name === undefined)) {
    if (isWatch) return serveWatch(req, res, url, def, namespace, info.name, ctx.store);
    return list(req, res, q, def, namespace, ctx.store);
  }
  if (info.name === undefined) {
    if (method === 'POST') return create(req, res, q, def, namespace, ctx.store);
    if (method === 'DELETE') return deleteCollection(req, res, q, def, namespace, ctx.store);
    throw methodNotAllowed(method, `${def.plural} collections`);
  }
  switch (method) {
    case 'GET':
      return get(req, res, def, namespace, info.name, ctx.store);
    case 'PUT':
      return update(req, res, q, def, namespace, info.name, ctx.store, undefined);
    case 'PATCH':
      return patch(req, res, q, def, namespace, info.name, ctx.store, undefined);
    case 'DELETE':
      return remove(req, res, q, def, namespace, info.name, ctx.store);
    default:
      throw methodNotAllowed(method, def.plural);
  }
}

async function handleSubresource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceRequest,
  def: ResourceDef,
  namespace: string | undefined,
  ctx: ResourceHandlerContext,
): Promise<void> {
  const name = info.name!;
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  switch (info.subresource) {
    case 'status':
      if (!def.subresources.status) break;
      if (method === 'GET') return get(req, res, def, namespace, name, ctx.store);
      if (method === 'PUT') return update(req, res, q, def, namespace, name, ctx.store, 'status');
      if (method === 'PATCH') return patch(req, res, q, def, namespace, name, ctx.store, 'status');
      throw methodNotAllowed(method, `${def.plural}/status`);
    case 'finalize':
      if (!def.subresources.finalize) break;
      if (method === 'PUT') return update(req, res, q, def, namespace, name, ctx.store, 'finalize');
      throw methodNotAllowed(method, `${def.plural}/finalize`);
    case 'scale':
      if (!def.subresources.scale) break;
      return handleScale(req, res, q, def, namespace, name, ctx.store);
    case 'log':
      if (!def.subresources.log) break;
      if (method !== 'GET') throw methodNotAllowed(method, `${def.plural}/log`);
      return servePodLog(req, res, q, ctx.store.get(def, namespace, name), ctx.podLogs);
  }
  throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

function get(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, name: string, store: GenericStore): void {
  const shape = negotiateShape(req.headers.accept);
  if (shape.kind === 'object') return sendJson(res, 200, store.getRaw(def, namespace, name), { raw: true });
  const obj = store.get(def, namespace, name);
  sendJson(res, 200, shaped(shape, def, [obj], { resourceVersion: obj.metadata.resourceVersion }, queryIncludeObject(req), false));
}

function list(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, def: ResourceDef, namespace: string | undefined, store: GenericStore): void | Promise<void> {
  const shape = negotiateShape(req.headers.accept);
  const limit = q.get('limit');
  const result = store.list(def, namespace, {
    ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
    ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}),
    ...(limit ? { limit: parseNonNegativeInt(limit, 'limit') } : {}),
    ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
  });
  const listMeta = {
    resourceVersion: result.resourceVersion,
    ...(result.continue ? { continue: result.continue } : {}),
    ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
  };
  if (shape.kind === 'object') return sendRawList(res, apiVersionOf(def), def.listKind, listMeta, result.items);
  const objects = result.items.map((raw) => JSON.parse(raw) as KubeObject);
  sendJson(res, 200, shaped(shape, def, objects, listMeta, queryIncludeObject(req), true));
}

/** A Table or a PartialObjectMetadata(List) for clients that asked for one. */
export function shaped(
  shape: Exclude<ResponseShape, { kind: 'object' }>,
  def: ResourceDef,
  objects: KubeObject[],
  listMeta: { resourceVersion?: string | undefined; continue?: string; remainingItemCount?: number },
  includeObject: 'None' | 'Metadata' | 'Object',
  isList: boolean,
): unknown {
  const meta = JSON.parse(JSON.stringify(listMeta)) as typeof listMeta;
  if (shape.kind === 'table') {
    const table = buildTable(def, objects, { includeObject, now: new Date(), listMeta: meta });
    return { ...table, apiVersion: `meta.k8s.io/${shape.version}` };
  }
  const partial = (obj: KubeObject) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${shape.version}`, metadata: obj.metadata });
  if (!isList) return partial(objects[0]!);
  return { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${shape.version}`, metadata: meta, items: objects.map(partial) };
}

export function queryIncludeObject(req: IncomingMessage): 'None' | 'Metadata' | 'Object' {
  const value = new URL(req.url ?? '/', 'http://x').searchParams.get('includeObject');
  if (value === 'None' || value === 'Object' || value === 'Metadata') return value;
  if (value) throw badRequest(`includeObject must be one of None, Metadata, Object (got ${JSON.stringify(value)})`);
  return 'Metadata';
}

async function create(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, def: ResourceDef, namespace: string | undefined, store: GenericStore): Promise<void> {
  if (def.namespaced && !namespace) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const body = await readObjectBody(req, def);
  const options = writeOptions(q);
  const created = store.create(def, namespace, body, options);
  sendJson(res, 201, created, { warnings: options.warnings });
}

async function update(
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  store: GenericStore,
  subresource: 'status' | 'finalize' | undefined,
): Promise<void> {
  const body = await readObjectBody(req, def);
  const options = writeOptions(q);
  const result = store.update(def, namespace, name, body, { ...options, ...(subresource ? { subresource } : {}) });
  sendJson(res, result.created ? 201 : 200, result.object, { warnings: options.warnings });
}

async function patch(
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  store: GenericStore,
  subresource: 'status' | undefined,
): Promise<void> {
  const type = mediaType(req);
  const apply = patchFunction(type, def);
  const patchBody = parseBody(await readBody(req), type);
  if (patchBody === undefined) throw badRequest('the patch body is empty');
  const options = writeOptions(q);
  const updated = store.guaranteedUpdate(def, namespace, name, (current) => apply(current, patchBody) as KubeObject, {
    ...options,
    ...(subresource ? { subresource } : {}),
  });
  sendJson(res, 200, updated, { warnings: options.warnings });
}

/** The function that applies a patch of the given media type to an object of this kind. */
export function patchFunction(type: string, def: ResourceDef): (current: unknown, patch: unknown) => unknown {
  switch (type) {
    case 'application/json-patch+json':
      return applyJsonPatch;
    case 'application/merge-patch+json':
      return applyMergePatch;
    case 'application/strategic-merge-patch+json': {
      const schema = def.patchSchema;
      if (!schema) {
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (strategic merge patch is not supported for ${def.plural}.${def.group})`,
        );
      }
      return (current, patchBody) => applyStrategicMergePatch(current, patchBody, schema);
    }
    case 'application/apply-patch+yaml':
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        'server-side apply is not supported by the embedded API server: use client-side `kubectl apply` (without --server-side)',
      );
    default:
      throw unsupportedMediaType(type);
  }
}

async function remove(
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  store: GenericStore,
): Promise<void> {
  const options = await deleteOptions(req, q);
  const result = store.delete(def, namespace, name, options);
  sendJson(res, result.deleted ? 200 : 202, result.object);
}

async function deleteCollection(
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  def: ResourceDef,
  namespace: string | undefined,
  store: GenericStore,
): Promise<void> {
  const options = await deleteOptions(req, q);
  const deleted = store.deleteCollection(
    def,
    namespace,
    {
      ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
      ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}),
    },
    options,
  );
  sendJson(res, 200, { apiVersion: apiVersionOf(def), kind: def.listKind, metadata: {}, items: deleted });
}

async function readObjectBody(req: IncomingMessage, def: ResourceDef): Promise<KubeObject> {
  const type = mediaType(req);
  if (type === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(await readBody(req), { apiVersion: apiVersionOf(def), kind: def.kind });
  if (type !== 'application/json' && type !== 'application/yaml' && type !== '*/*') {
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_MEDIA_TYPE} (got ${JSON.stringify(type)})`);
  }
  const body = parseBody(await readBody(req), type);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`the body of the request must be a JSON object describing a ${def.kind}`);
  }
  return body as KubeObject;
}

function writeOptions(q: URLSearchParams): WriteOptions {
  const dryRun = q.getAll('dryRun');
  for (const value of dryRun) if (value !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  return { dryRun: dryRun.length > 0, fieldValidation: fieldValidation(q.get('fieldValidation')), warnings: [] };
}

function fieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
}

async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const body = parseBody(await readBody(req), 'application/json') as Record<string, unknown> | undefined;
  const policy = (body?.propagationPolicy ?? q.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan = body?.orphanDependents ?? (q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : undefined);
  const grace = body?.gracePeriodSeconds ?? q.get('gracePeriodSeconds') ?? undefined;
  const options: DeleteOptions = { ...writeOptions(q) };
  if (Array.isArray(body?.dryRun) && body.dryRun.includes('All')) options.dryRun = true;
  if (policy !== undefined) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Orphan", "Background", "Foreground"`);
    }
    options.propagationPolicy = policy as PropagationPolicy;
  } else if (orphan !== undefined) {
    options.propagationPolicy = orphan ? 'Orphan' : 'Background';
  }
  if (grace !== undefined && grace !== null) options.gracePeriodSeconds = parseNonNegativeInt(typeof grace === 'number' ? String(grace) : (grace as string), 'gracePeriodSeconds');
  const pre = body?.preconditions as DeleteOptions['preconditions'] | undefined;
  if (pre) options.preconditions = pre;
  return options;
}

export function parseNonNegativeInt(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${field} must be a non-negative integer (got ${JSON.stringify(value)})`);
  return n;
}

