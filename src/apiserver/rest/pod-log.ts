// GET pods/NAME/log. The node agent that runs a pod's containers (the LocalController's embedded
// kubelet) writes each container's output to a file under the data directory; this reads it back
// with kubectl's options: container, tailLines, limitBytes, previous, follow.
import { createReadStream, existsSync, statSync, watch as watchFile } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { KubeObject } from '../../api/meta.ts';
import { badRequest } from '../errors.ts';
import { queryBool, queryNonNegativeInt } from '../query.ts';

export interface PodLogSource {
  /** The file holding a container's output (current or previous run). */
  path(namespace: string, pod: string, container: string, previous: boolean): string;
}

/** Layout: DIR/<namespace>/<pod>/<container>.log, and <container>.previous.log after a restart. */
export function podLogDirectory(dir: string): PodLogSource {
  return {
    path: (namespace, pod, container, previous) => join(dir, namespace, pod, `${container}${previous ? '.previous' : ''}.log`),
  };
}

export async function servePodLog(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, pod: KubeObject, source: PodLogSource): Promise<void> {
  const previous = queryBool(q, 'previous');
  const followLog = queryBool(q, 'follow');
  queryBool(q, 'timestamps');
  queryBool(q, 'insecureSkipTLSVerifyBackend');
  const tail = queryNonNegativeInt(q, 'tailLines');
  const limit = queryNonNegativeInt(q, 'limitBytes');
  queryNonNegativeInt(q, 'sinceSeconds');
  const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
  const containers = (spec?.containers ?? []).map((c) => c.name);
  const initContainers = (spec?.initContainers ?? []).map((c) => c.name);
  const name = pod.metadata.name!;
  let container = q.get('container') ?? undefined;
  if (!container) {
    if (containers.length !== 1) {
      const inits = initContainers.length > 0 ? ` or one of the init containers: [${initContainers.join(' ')}]` : '';
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${inits}`);
    }
    container = containers[0]!;
  } else if (!containers.includes(container) && !initContainers.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  }
  const file = source.path(pod.metadata.namespace!, name, container, previous);
  if (!existsSync(file)) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${phase === 'Pending' ? 'ContainerCreating' : 'no logs yet'}`);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  const start = tail === undefined ? 0 : await offsetOfLastLines(file, tail);
  const end = limit === undefined ? undefined : start + limit - 1;
  if (end !== undefined && end < start) return void res.end();
  await pipeRange(file, start, end, res);
  if (!followLog || end !== undefined) return void res.end();
  follow(file, statSync(file).size, req, res);
}

function pipeRange(file: string, start: number, end: number | undefined, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(file, { start, ...(end !== undefined ? { end } : {}) });
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.pipe(res, { end: false });
  });
}

/** Streams what is appended to the file until the client goes away. */
function follow(file: string, from: number, req: IncomingMessage, res: ServerResponse): void {
  let offset = from;
  let reading = false;
  const readMore = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      const size = statSync(file).size;
      if (size < offset) offset = 0; // truncated: start over
      if (size > offset) {
        await pipeRange(file, offset, size - 1, res);
        offset = size;
      }
    } finally {
      reading = false;
    }
  };
  const watcher = watchFile(file, () => void readMore().catch(() => stop()));
  // fs.watch can miss events on some filesystems; a slow poll backs it up.
  const poll = setInterval(() => void readMore().catch(() => stop()), 1000);
  function stop(): void {
    watcher.close();
    clearInterval(poll);
    res.end();
  }
  req.on('close', stop);
}

async function offsetOfLastLines(file: string, lines: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (lines === 0) return size;
    let position = size;
    let newlines = 0;
    const chunk = Buffer.alloc(64 * 1024);
    // A trailing newline ends the last line; it does not start a new one.
    let skipTrailing = true;
    while (position > 0) {
      const length = Math.min(chunk.length, position);
      position -= length;
      await handle.read(chunk, 0, length, position);
      for (let i = length - 1; i >= 0; i--) {
        if (chunk[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        newlines++;
        if (newlines === lines) return position + i + 1;
      }
    }
    return 0;
  } finally {
    await handle.close();
  }
}
