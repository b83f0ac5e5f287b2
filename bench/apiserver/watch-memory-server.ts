// The API server under the watch-memory probe: the real ApiServer in a child process started with
// --expose-gc, answering the probe over IPC with its memory after a full garbage collection.
import { writeHeapSnapshot } from 'node:v8';
import { ApiServer } from '../../src/apiserver/server.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: watch-memory-server.ts <data dir>');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const server = new ApiServer({ dataDir, port: 0, log: silentLogger() });
await server.start();

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

process.on('message', (message: { type: string; collect?: boolean }) => {
  if (message.type === 'memory') {
    if (message.collect) {
      // Several passes: weak callbacks and finalizers free more on the next one.
      for (let i = 0; i < 4; i++) gc();
    }
    const m = process.memoryUsage();
    process.send!({ type: 'memory', figures: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } satisfies MemoryFigures });
  } else if (message.type === 'snapshot') {
    for (let i = 0; i < 4; i++) gc();
    process.send!({ type: 'snapshot', file: writeHeapSnapshot((message as { file?: string }).file) });
  } else if (message.type === 'stop') {
    void server.stop().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', kubeconfig: server.kubeconfigPath });
