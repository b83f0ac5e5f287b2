// Plain JSON requests against the API server, authenticated from a KubeConfig. The generated
// client-node APIs cannot take an AbortSignal or a timeout, and re-encode times (MicroTime) and
// patches their own way; the controller runtime needs all three under its control, because a
// request that hangs on a dead connection must never hang a control loop.
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Status } from '../api/meta.ts';

/** A non-2xx answer; `status` is the server's v1 Status body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly status: Status | undefined,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: ${statusCode} ${status?.reason ?? ''} ${status?.message ?? ''}`.trim());
    this.name = 'ApiError';
  }
}

export function isApiError(err: unknown, statusCode?: number): err is ApiError {
  return err instanceof ApiError && (statusCode === undefined || err.statusCode === statusCode);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json; PATCH callers name their patch type. */
  contentType?: string;
  signal?: AbortSignal;
  /** Aborts the request when it takes longer than this (default 60 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export async function requestJson<T>(kc: KubeConfig, options: RequestOptions): Promise<T> {
  const method = options.method ?? 'GET';
  const url = requestUrl(kc, options);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const signals = [AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS))), ...(options.signal ? [options.signal] : [])];
  const httpOptions: https.RequestOptions = { method, headers, signal: AbortSignal.any(signals) };
  await kc.applyToHTTPSOptions(httpOptions);
  const { statusCode, text } = await send(url, httpOptions, body);
  if (statusCode < 200 || statusCode > 299) throw new ApiError(statusCode, parseStatus(text), method, options.path);
  return JSON.parse(text) as T;
}

function requestUrl(kc: KubeConfig, options: RequestOptions): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + options.path);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
}

function send(url: URL, options: https.RequestOptions, body: string | undefined): Promise<{ statusCode: number; text: string }> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function parseStatus(text: string): Status | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Status>;
    return parsed.kind === 'Status' ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}
