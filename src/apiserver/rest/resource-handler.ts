// The REST verbs over HTTP for every resource: one handler, driven by the kind's ResourceDef.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/meta.ts';
import { badRequest, FieldErrors, invalid, methodNotAllowed, StatusError } from '../errors.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { apiVersionOf, type ResourceDef } from '../registry/types.ts';
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from '../protobuf/decode.ts';
import { mediaType, parseBody, readBody } from './body.ts';
import type { ResourceCall } from './call.ts';
import { negotiateShape } from './negotiate.ts';
import { shaped } from './shape.ts';
import { deleteOptions, includeObjectOption, listOptions, selectorOptions, writeOptions } from './options.ts';
import { patchFunction } from './patch-function.ts';
import { queryBool, queryResourceVersion } from '../query.ts';
import { servePodLog, type PodLogSource } from './pod-log.ts';
import type { ResourceRequest } from './request-info.ts';
import { sendJson, sendRawList } from './respond.ts';
import { handleScale } from './scale.ts';
import { serveWatch } from './watch-stream.ts';
import type { UserInfo } from '../authn/user.ts';
import type { AuthServices } from '../authz/types.ts';
import type { ServiceAccountTokens } from '../authn/service-account-tokens.ts';
import { createToken } from './token-request.ts';
import { checkApplied, serverSideApply } from '../ssa/apply.ts';
import { fieldManagerOf, trackUpdate } from '../ssa/managed-fields.ts';
import type { WriteOptions } from '../registry/generic-store.ts';

export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';

/** The write options of a request: the query's, who asks, and managedFields tracking for its manager. */
function requestWriteOptions(call: ResourceCall, subresource: string | undefined): WriteOptions {
  const manager = fieldManagerOf(call.req, call.query);
  return {
    ...writeOptions(call.query),
    ...(call.user ? { user: call.user } : {}),
    track: (old, obj) => trackUpdate(call.def, old, obj, manager, subresource),
  };
}

export interface ResourceHandlerContext {
  store: GenericStore;
  podLogs: PodLogSource;
  /** The authenticated caller; absent only for tests of the bare REST layer. */
  user?: UserInfo;
  auth?: AuthServices;
  tokens?: ServiceAccountTokens;
}

function resourceNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

export async function handleResource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceRequest,
  ctx: ResourceHandlerContext,
): Promise<void> {
  const def = ctx.store.registry.lookup(info.group, info.version, info.resource);
  if (!def) throw resourceNotFound();
  const namespace = def.namespaced ? info.namespace : undefined;
  if (def.namespaced && info.name !== undefined && !namespace) throw resourceNotFound();
  const call: ResourceCall = { req, res, query: url.searchParams, def, namespace, store: ctx.store, ...(ctx.user ? { user: ctx.user } : {}) };
  if (def.handler) return review(call, info, ctx);
  if (info.subresource === 'token' && def.group === '' && def.plural === 'serviceaccounts' && info.name !== undefined && ctx.tokens) {
    if ((req.method ?? 'GET') !== 'POST') throw methodNotAllowed(req.method ?? 'GET', 'serviceaccounts/token');
    return sendJson(res, 201, createToken(ctx.store, ctx.tokens, namespace!, info.name, await readTokenRequest(req)));
  }
  if (info.subresource !== undefined) return handleSubresource(call, info.name!, info.subresource, ctx.podLogs);
  const method = req.method ?? 'GET';
  if (method === 'GET' && (info.watchPath || queryBool(call.query, 'watch'))) return serveWatch(call, info.name);
  if (info.name === undefined) {
    if (method === 'GET') return list(call);
    if (method === 'POST') return create(call);
    if (method === 'DELETE') return deleteCollection(call);
    throw methodNotAllowed(method, `${def.plural} collections`);
  }
  switch (method) {
    case 'GET':
      return get(call, info.name);
    case 'PUT':
      return update(call, info.name, undefined);
    case 'PATCH':
      return patch(call, info.name, undefined);
    case 'DELETE':
      return remove(call, info.name);
    default:
      throw methodNotAllowed(method, def.plural);
  }
}

/** TokenReview, SubjectAccessReview...: answered from the request alone, never stored. */
async function review(call: ResourceCall, info: ResourceRequest, ctx: ResourceHandlerContext): Promise<void> {
  const { req, res, def } = call;
  if (info.name !== undefined || info.subresource !== undefined) throw resourceNotFound();
  if ((req.method ?? 'GET') !== 'POST') throw methodNotAllowed(req.method ?? 'GET', def.plural);
  if (!ctx.user || !ctx.auth) throw resourceNotFound();
  const body = await readObjectBody(req, def);
  const answer = def.handler!({ ...body, apiVersion: apiVersionOf(def), kind: def.kind, metadata: body.metadata ?? {} }, { user: ctx.user, namespace: call.namespace, auth: ctx.auth });
  sendJson(res, 201, answer);
}

async function readTokenRequest(req: IncomingMessage): Promise<KubeObject> {
  const type = mediaType(req);
  if (type === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(await readBody(req), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' });
  const body = parseBody(await readBody(req), type);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body of the request must be a JSON object describing a TokenRequest');
  return body as KubeObject;
}

async function handleSubresource(call: ResourceCall, name: string, subresource: string, podLogs: PodLogSource): Promise<void> {
  const { def } = call;
  const method = call.req.method ?? 'GET';
  switch (subresource) {
    case 'status':
      if (!def.subresources.status) break;
      if (method === 'GET') return get(call, name);
      if (method === 'PUT') return update(call, name, 'status');
      if (method === 'PATCH') return patch(call, name, 'status');
      throw methodNotAllowed(method, `${def.plural}/status`);
    case 'finalize':
      if (!def.subresources.finalize) break;
      if (method === 'PUT') return update(call, name, 'finalize');
      throw methodNotAllowed(method, `${def.plural}/finalize`);
    case 'scale':
      if (!def.subresources.scale) break;
      return handleScale(call, name);
    case 'log':
      if (!def.subresources.log) break;
      if (method !== 'GET') throw methodNotAllowed(method, `${def.plural}/log`);
      return servePodLog(call.req, call.res, call.query, call.store.get(def, call.namespace, name), podLogs);
  }
  throw resourceNotFound();
}

function get({ req, res, query, def, namespace, store }: ResourceCall, name: string): void {
  queryResourceVersion(query);
  const shape = negotiateShape(req.headers.accept);
  if (shape.kind === 'object') return sendJson(res, 200, store.getRaw(def, namespace, name), { raw: true });
  const obj = store.get(def, namespace, name);
  sendJson(res, 200, shaped(shape, def, [obj], { resourceVersion: obj.metadata.resourceVersion }, includeObjectOption(query), false));
}

function list({ req, res, query, def, namespace, store }: ResourceCall): void | Promise<void> {
  const shape = negotiateShape(req.headers.accept);
  const result = store.list(def, namespace, listOptions(query));
  const listMeta = {
    resourceVersion: result.resourceVersion,
    ...(result.continue ? { continue: result.continue } : {}),
    ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
  };
  if (shape.kind === 'object') return sendRawList(res, apiVersionOf(def), def.listKind, listMeta, result.items);
  const objects = result.items.map((raw) => JSON.parse(raw) as KubeObject);
  sendJson(res, 200, shaped(shape, def, objects, listMeta, includeObjectOption(query), true));
}

async function create(call: ResourceCall): Promise<void> {
  const { req, res, def, namespace, store } = call;
  if (def.namespaced && !namespace) throw resourceNotFound();
  const body = await readObjectBody(req, def);
  const options = requestWriteOptions(call, undefined);
  const created = store.create(def, namespace, body, options);
  sendJson(res, 201, created, { warnings: options.warnings });
}

async function update(call: ResourceCall, name: string, subresource: 'status' | 'finalize' | undefined): Promise<void> {
  const { req, res, def, namespace, store } = call;
  const body = await readObjectBody(req, def);
  const options = requestWriteOptions(call, subresource);
  const result = store.update(def, namespace, name, body, { ...options, ...(subresource ? { subresource } : {}) });
  sendJson(res, result.created ? 201 : 200, result.object, { warnings: options.warnings });
}

async function patch(call: ResourceCall, name: string, subresource: 'status' | undefined): Promise<void> {
  const { req, res, def, namespace, store } = call;
  const type = mediaType(req);
  if (type === APPLY_PATCH_TYPE) return applyPatch(call, name, subresource);
  const apply = patchFunction(type, def);
  const patchBody = parseBody(await readBody(req), type);
  if (patchBody === undefined) throw badRequest('the patch body is empty');
  const options = requestWriteOptions(call, subresource);
  const updated = store.guaranteedUpdate(def, namespace, name, (current) => apply(current, patchBody) as KubeObject, {
    ...options,
    ...(subresource ? { subresource } : {}),
  });
  sendJson(res, 200, updated, { warnings: options.warnings });
}

/** Server-side apply: creates the object when missing, else merges it in as fieldManager (see ssa/apply.ts). */
async function applyPatch(call: ResourceCall, name: string, subresource: 'status' | undefined): Promise<void> {
  const { req, res, query, def, namespace, store, user } = call;
  const manager = query.get('fieldManager');
  if (!manager) throw invalid('PatchOptions', 'meta.k8s.io', '', [FieldErrors.required('fieldManager', 'is required for apply patch')]);
  const forceValue = query.get('force');
  if (forceValue !== null && !['true', 'false', '1', '0', 't', 'f', 'True', 'False', 'TRUE', 'FALSE', 'T', 'F'].includes(forceValue)) throw badRequest(`force: invalid boolean ${JSON.stringify(forceValue)}`);
  const applyOptions = { manager, force: ['true', '1', 't', 'True', 'TRUE', 'T'].includes(forceValue ?? ''), ...(subresource ? { subresource } : {}) };
  const applied = checkApplied(def, parseBody(await readBody(req), 'application/yaml'), name);
  const options: WriteOptions = { ...writeOptions(query), ...(user ? { user } : {}) };
  if (!subresource && !store.tryGet(def, namespace, name)) {
    const created = store.create(def, namespace, serverSideApply(def, undefined, { ...applied, metadata: { ...applied.metadata, ...(namespace ? { namespace } : {}) } }, applyOptions), options);
    return sendJson(res, 201, created, { warnings: options.warnings });
  }
  const updated = store.guaranteedUpdate(def, namespace, name, (current) => serverSideApply(def, current, applied, applyOptions), { ...options, ...(subresource ? { subresource } : {}) });
  sendJson(res, 200, updated, { warnings: options.warnings });
}

async function remove({ req, res, query, def, namespace, store, user }: ResourceCall, name: string): Promise<void> {
  const result = store.delete(def, namespace, name, { ...(await deleteOptions(req, query)), ...(user ? { user } : {}) });
  sendJson(res, result.deleted ? 200 : 202, result.object);
}

async function deleteCollection({ req, res, query, def, namespace, store, user }: ResourceCall): Promise<void> {
  const deleted = store.deleteCollection(def, namespace, selectorOptions(query), { ...(await deleteOptions(req, query)), ...(user ? { user } : {}) });
  sendJson(res, 200, { apiVersion: apiVersionOf(def), kind: def.listKind, metadata: {}, items: deleted });
}

async function readObjectBody(req: IncomingMessage, def: ResourceDef): Promise<KubeObject> {
  const type = mediaType(req);
  if (type === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(await readBody(req), { apiVersion: apiVersionOf(def), kind: def.kind });
  if (type !== 'application/json' && type !== 'application/yaml' && type !== '*/*') {
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_MEDIA_TYPE} (got ${JSON.stringify(type)})`,
    );
  }
  const body = parseBody(await readBody(req), type);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`the body of the request must be a JSON object describing a ${def.kind}`);
  }
  return body as KubeObject;
}
