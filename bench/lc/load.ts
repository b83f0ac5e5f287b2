// Closed-loop POST load over keep-alive HTTP/1.1: `concurrency` requests in flight, one per
// socket, each a worker report as Sedna's workers send it (`POST /sedna/workers/{name}/info`,
// spec §4.2). The same load runs against the LC and against the trivial baseline server.
import { Agent, request } from 'node:http';
import { now } from '../apiserver/stats.ts';

export const WORKER = 'trainworker-bench';

/** A federated-learning worker report: the LC relays it upstream without needing the job (workers.ts). */
export function report(seq: number, phase: 'warmup' | 'run' | 'baseline'): string {
  return JSON.stringify({
    name: WORKER,
    namespace: 'default',
    ownerName: `fl-job-${seq % 8}`,
    ownerKind: 'federatedlearningjob',
    ownerInfo: { phase, seq, sentAt: now(), currentRound: seq, updateTime: '2026-01-01T00:00:00Z' },
    kind: 'train',
    status: 'running',
    results: [{ format: 'pb', url: `/output/round-${seq}/model.pb`, metrics: { accuracy: [0.9] } }],
  });
}

export interface LoadResult {
  count: number;
  elapsedMs: number;
  firstSendAt: number;
  /** Request round trips (send to response end), ms. */
  rtts: number[];
  errors: number;
  firstError: string | undefined;
}

export interface LoadOptions {
  port: number;
  phase: 'warmup' | 'run' | 'baseline';
  concurrency: number;
  minCount: number;
  minMs: number;
  /** Sequence numbers start here (the LC run and its warm-up use distinct ranges). */
  firstSeq?: number;
}

function post(agent: Agent, port: number, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/sedna/workers/${WORKER}/info`,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts until at least `minCount` reports are sent and `minMs` have passed. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const rtts: number[] = [];
  let next = options.firstSeq ?? 0;
  const last = (options.firstSeq ?? 0) + options.minCount;
  let errors = 0;
  let firstError: string | undefined;
  const started = now();
  const more = (): boolean => next < last || now() - started < options.minMs;
  const worker = async (): Promise<void> => {
    while (more()) {
      const body = report(next++, options.phase);
      const sent = now();
      try {
        const res = await post(agent, options.port, body);
        rtts.push(now() - sent);
        if (res.status !== 200) {
          errors++;
          firstError ??= `HTTP ${res.status}: ${res.body}`;
        }
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { count: next - (options.firstSeq ?? 0), elapsedMs: now() - started, firstSendAt: started, rtts, errors, firstError };
}
