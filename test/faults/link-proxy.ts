// A TCP relay the fault suite puts between the LCs and the GM's edge hub (`sedna up
// --gm-address-for NODE=127.0.0.1:PORT`), so it can cut the GM–LC link as a network does and
// restore it. While cut:
//   - connections that were open carry nothing either way (bytes wait, as TCP retransmits do)
//     and an end one side makes is not seen by the other: both ends find out only through their
//     own heartbeats and timeouts;
//   - a new connection is black-holed for good (a SYN lost in the cut is never answered): the
//     dialler must give up on its own and dial again.
// Restored, the surviving connections carry on (their queued bytes first, an end made during the
// cut is passed on) and new connections reach the hub. The hub's address is looked up at each
// connection, since a restarted GM may listen elsewhere.
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes held during a cut, per direction. */
  toUpstream: Buffer[];
  toClient: Buffer[];
  /** An end seen during a cut, passed on at restore. */
  clientEnded: boolean;
  upstreamEnded: boolean;
}

export class LinkProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private readonly blackholed = new Set<Socket>();
  private cutNow = false;
  port = 0;

  constructor(private readonly target: () => { host: string; port: number } | undefined) {
    this.server = createServer((client) => this.accept(client));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  /** Connections relayed now (for the suite's log). */
  get open(): number {
    return this.pairs.size;
  }

  cut(): void {
    this.cutNow = true;
  }

  restore(): void {
    this.cutNow = false;
    for (const pair of [...this.pairs]) this.flush(pair);
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    for (const socket of this.blackholed) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.cutNow) {
      this.blackholed.add(client);
      client.on('data', () => {}); // read and drop: nothing reaches the hub
      client.once('close', () => this.blackholed.delete(client));
      return;
    }
    const to = this.target();
    if (!to) {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, toUpstream: [], toClient: [], clientEnded: false, upstreamEnded: false };
    this.pairs.add(pair);
    const upstream = connect({ host: to.host, port: to.port });
    pair.upstream = upstream;
    upstream.on('error', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => this.carry(pair, 'up', chunk));
    upstream.on('data', (chunk: Buffer) => this.carry(pair, 'down', chunk));
    client.once('close', () => this.ended(pair, 'client'));
    upstream.once('close', () => this.ended(pair, 'upstream'));
  }

  private carry(pair: Pair, direction: 'up' | 'down', chunk: Buffer): void {
    if (this.cutNow) {
      (direction === 'up' ? pair.toUpstream : pair.toClient).push(chunk);
      return;
    }
    (direction === 'up' ? pair.upstream : pair.client)?.write(chunk);
  }

  private ended(pair: Pair, side: 'client' | 'upstream'): void {
    if (side === 'client') pair.clientEnded = true;
    else pair.upstreamEnded = true;
    if (!this.cutNow) this.flush(pair);
  }

  /** Delivers what a cut held back, then passes on an end; forgets a pair both ends have left. */
  private flush(pair: Pair): void {
    const { client, upstream } = pair;
    for (const chunk of pair.toUpstream.splice(0)) if (upstream && !upstream.destroyed) upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) if (!client.destroyed) client.write(chunk);
    if (pair.clientEnded) upstream?.end();
    if (pair.upstreamEnded) client.end();
    if (pair.clientEnded || pair.upstreamEnded) {
      // A half-closed relay is not kept: the other side is told and then let go.
      setTimeout(() => {
        client.destroy();
        upstream?.destroy();
      }, 1_000).unref();
      this.pairs.delete(pair);
    }
  }
}
