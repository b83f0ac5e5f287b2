// An ApiServer in this process on a free loopback port, and raw HTTPS calls to it: for tests that
// send what no well-behaved client sends (malformed bodies, odd query values) and read the exact
// status code back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiServer, type ApiServerOptions } from '../../src/apiserver/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';

export interface RawResponse {
  code: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  json<T = Record<string, unknown>>(): T;
}

export interface InProcessApiServer {
  server: ApiServer;
  call(method: string, path: string, body?: unknown, options?: { contentType?: string; raw?: string; timeoutMs?: number }): Promise<RawResponse>;
  stop(): Promise<void>;
}

interface Kubeconfig {
  clusters: { cluster: { 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}

export async function startInProcessApiServer(options: Partial<ApiServerOptions> = {}): Promise<InProcessApiServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sedna-apiserver-test-'));
  const server = new ApiServer({ dataDir, port: 0, log: silentLogger(), controllers: false, ...options });
  await server.start();
  const kubeconfig = parseYaml(readFileSync(server.kubeconfigPath, 'utf8')) as Kubeconfig;
  const ca = Buffer.from(kubeconfig.clusters[0]!.cluster['certificate-authority-data'], 'base64');
  const token = kubeconfig.users[0]!.user.token;
  const base = new URL(server.address);
  const call: InProcessApiServer['call'] = (method, path, body, opts = {}) => {
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method,
          ca,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': opts.contentType ?? 'application/json',
            ...(payload !== undefined ? { 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () =>
            resolve({ code: res.statusCode ?? 0, body: text, headers: res.headers, json: <T>() => JSON.parse(text) as T }),
          );
        },
      );
      req.on('error', reject);
      if (opts.timeoutMs !== undefined) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  };
  return {
    server,
    call,
    async stop() {
      await server.stop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
