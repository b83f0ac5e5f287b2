// Listening as a promise: resolves once the server is bound, rejects with the bind error
// (EADDRINUSE, EACCES, …) instead of leaving it to an 'error' event nobody awaits.
import type { Server as HttpServer } from 'node:http';
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

/**
 * Stops an HTTP server: no new connections, and the open ones (keep-alive, streams) are closed
 * too, since server.close() alone waits for them. Resolves once the server has closed.
 */
export function closeHttpServer(server: HttpServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
