// The edge's side of the big-model route (spec lib.md §7): `POST http://{BIG_MODEL_IP}:{BIG_MODEL_PORT}/{job}/predict`
// with `{"data": ..., "post_process": null}`, answered `{"result": ...}`. Differences from Sedna's
// client: one keep-alive connection pool (service names resolved the embedded way too), a deadline
// per request instead of none, no 5×3 s retries (an inference cannot wait 15 s: the edge answers
// on its own instead), and the service's bearer token.
import { request, type Agent } from 'node:http';
import { serviceAgent } from '../../lib/net/http-agent.ts';

export type CloudFailure = 'timeout' | 'unreachable' | 'rejected';

export class CloudError extends Error {
  constructor(
    readonly failure: CloudFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CloudError';
  }
}

export interface CloudClientOptions {
  host: string;
  port: number;
  /** The route segment, Sedna's job name. */
  jobName: string;
  token?: string;
  /** Deadline of one request, ms. */
  timeoutMs: number;
  agent?: Agent;
}

const MAX_RESPONSE_BYTES = 100 * 1024 * 1024;

export class CloudClient {
  private readonly agent: Agent;
  private readonly path: string;

  constructor(private readonly options: CloudClientOptions) {
    this.agent = options.agent ?? serviceAgent();
    this.path = `/${encodeURIComponent(options.jobName)}/predict`;
  }

  get url(): string {
    return `http://${this.options.host}:${this.options.port}${this.path}`;
  }

  /** The cloud model's result for `data`; a CloudError says why there is none. */
  async predict(data: unknown): Promise<unknown> {
    // Typed arrays become JSON lists, as numpy arrays do through Sedna's `data.tolist()`.
    const payload = ArrayBuffer.isView(data) ? Array.from(data as unknown as ArrayLike<number>) : data;
    const body = Buffer.from(JSON.stringify({ data: payload, post_process: null }));
    const deadline = Date.now() + this.options.timeoutMs;
    try {
      return await this.post(body, this.options.timeoutMs);
    } catch (error) {
      // A pooled keep-alive connection the server already closed (it restarted, or its idle
      // timeout fired as we sent) fails at once with a reset: that says nothing about the cloud,
      // so try once more on a fresh connection within the same deadline (Node's documented pattern).
      if (!(error instanceof StaleConnection)) throw error;
      if (Date.now() >= deadline) throw error.cause;
      try {
        return await this.post(body, deadline - Date.now());
      } catch (retryError) {
        throw retryError instanceof StaleConnection ? retryError.cause : retryError;
      }
    }
  }

  private post(body: Buffer, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.options.host,
          port: this.options.port,
          path: this.path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new CloudError('rejected', `response from ${this.url} exceeds ${MAX_RESPONSE_BYTES} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) return reject(new CloudError('rejected', `${this.url} answered ${res.statusCode}: ${text.slice(0, 200)}`));
            let body: unknown;
            try {
              body = JSON.parse(text);
            } catch {
              return reject(new CloudError('rejected', `${this.url} answered with a body that is not JSON`));
            }
            // No "result" field is a broken answer, not a null one: the edge must answer instead.
            if (typeof body !== 'object' || body === null || !('result' in body)) return reject(new CloudError('rejected', `${this.url} answered without a "result" field`));
            resolve(body.result);
          });
          res.on('error', (error) => reject(toCloudError(error, this.url)));
        },
      );
      const timer = setTimeout(() => req.destroy(new CloudError('timeout', `${this.url} did not answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        const cloudError = toCloudError(error, this.url);
        const stale = req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
        reject(stale ? new StaleConnection(cloudError) : cloudError);
      });
      req.end(body);
    });
  }

  close(): void {
    if (!this.options.agent) this.agent.destroy();
  }
}

/** A reset on a reused keep-alive socket: worth one retry on a fresh connection. */
class StaleConnection extends Error {
  constructor(override readonly cause: CloudError) {
    super(cause.message);
  }
}

function toCloudError(error: unknown, url: string): CloudError {
  if (error instanceof CloudError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return new CloudError('unreachable', `${url} is unreachable: ${code || (error as Error).message}`);
}
