// The fault suite's link relay against real sockets on 127.0.0.1: it carries bytes both ways, a cut
// holds them (and any end) until the restore, and a dial made during the cut is never answered.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LinkProxy } from '../faults/link-proxy.ts';

/** Resolves with the next chunk the socket receives. */
const nextData = (socket: Socket): Promise<string> => once(socket, 'data').then(([d]) => (d as Buffer).toString());
/** Whether the socket receives anything within `ms`. */
const quietFor = (socket: Socket, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const onData = (): void => resolve(false);
    socket.once('data', onData);
    setTimeout(() => {
      socket.off('data', onData);
      resolve(true);
    }, ms);
  });

describe('LinkProxy', () => {
  let echo: Server;
  let proxy: LinkProxy;
  const accepted: Socket[] = [];

  before(async () => {
    echo = createServer((s) => {
      accepted.push(s);
      s.on('data', (d) => s.write(`echo:${d.toString()}`));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    proxy = new LinkProxy(() => ({ host: '127.0.0.1', port }));
    await proxy.start();
  });

  after(async () => {
    await proxy.stop();
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  const dial = async (): Promise<Socket> => {
    const s = connect({ host: '127.0.0.1', port: proxy.port });
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  };

  it('relays both ways, holds the bytes of a cut and delivers them at the restore', async () => {
    const client = await dial();
    client.write('a');
    assert.equal(await nextData(client), 'echo:a');
    proxy.cut();
    client.write('b');
    assert.equal(await quietFor(client, 300), true, 'nothing crosses a cut link');
    const reply = nextData(client);
    proxy.restore();
    assert.equal(await reply, 'echo:b');
    client.destroy();
  });

  it('never answers a dial made during a cut, even after the restore', async () => {
    const before = accepted.length;
    proxy.cut();
    const lost = await dial(); // the relay accepts, as a half-open path would look to the dialler
    lost.write('x');
    assert.equal(await quietFor(lost, 300), true);
    proxy.restore();
    assert.equal(await quietFor(lost, 300), true, 'still black-holed');
    assert.equal(accepted.length, before, 'the hub never saw it');
    const fresh = await dial();
    fresh.write('y');
    assert.equal(await nextData(fresh), 'echo:y', 'a new dial after the restore goes through');
    lost.destroy();
    fresh.destroy();
  });

  it('passes on an end made during the cut only at the restore', async () => {
    const client = await dial();
    client.write('c');
    await nextData(client);
    const upstream = accepted.at(-1)!;
    proxy.cut();
    const ended = once(upstream, 'end').then(() => 'ended');
    client.end();
    assert.equal(await Promise.race([ended, new Promise((r) => setTimeout(() => r('quiet'), 300))]), 'quiet');
    proxy.restore();
    assert.equal(await ended, 'ended');
  });
});
