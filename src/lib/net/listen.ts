// Listening as a promise: resolves once the server is bound, rejects with the bind error
// (EADDRINUSE, EACCES, …) instead of leaving it to an 'error' event nobody awaits.
import type { Server } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
