// The GM ⇄ LC link end to end over real sockets: authentication at the upgrade, acknowledged
// delivery both ways, the outbox across disconnections, half-open detection by heartbeat,
// redelivery processed once, dispatch by kind, coalescing, metrics and TLS.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import type { DataFrame, EdgeMessage } from '../../src/api/edge-protocol.ts';
import { ensureCredentials } from '../../src/apiserver/pki.ts';
import { EdgeClient, EdgeConnectError, EdgeHub, FileNodeTokens, StaticNodeTokens, UnknownNodeError, type EdgeClientOptions, type EdgeHubOptions } from '../../src/edgelink/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { until } from '../helpers/wait.ts';

const TOKENS = { 'edge-1': 'token-of-edge-1', 'edge-2': 'token-of-edge-2' };
const NODE = 'edge-1';
const TOKEN = TOKENS[NODE];

// ---------------------------------------------------------------------------------------------
// helpers

type Defer = (cleanup: () => unknown) => void;

/** Cleanups run after the test, last registered first (clients before their hub). */
function cleanups(t: TestContext): Defer {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup();
  });
  return (cleanup) => void stack.push(cleanup);
}

async function startHub(defer: Defer, options: Partial<EdgeHubOptions> = {}): Promise<EdgeHub> {
  const hub = new EdgeHub({
    tokens: new StaticNodeTokens(TOKENS),
    port: 0,
    registry: new Registry(),
    logger: silentLogger(),
    heartbeat: { intervalMs: 1_000, timeoutMs: 10_000 },
    ...options,
  });
  await hub.start();
  defer(() => hub.stop());
  return hub;
}

function newClient(defer: Defer, port: number, options: Partial<EdgeClientOptions> = {}): EdgeClient {
  const client = new EdgeClient({
    url: `ws://127.0.0.1:${port}/`,
    nodeName: NODE,
    token: TOKEN,
    logger: silentLogger(),
    heartbeat: { intervalMs: 1_000, timeoutMs: 10_000 },
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    ...options,
  });
  defer(() => client.stop());
  return client;
}

/** Resolves on the next event a `subscribe`-style registration reports. */
function next<A extends unknown[]>(register: (listener: (...args: A) => void) => () => void): Promise<A> {
  return new Promise((resolve) => {
    const off = register((...args) => {
      off();
      resolve(args);
    });
  });
}

async function startClient(defer: Defer, port: number, options: Partial<EdgeClientOptions> = {}): Promise<EdgeClient> {
  const client = newClient(defer, port, options);
  const connected = next((listener) => client.onConnected(listener));
  client.start();
  await connected;
  return client;
}

/** Collects items and lets a test wait for the n-th. */
class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  readonly push = (item: T): void => {
    this.items.push(item);
    for (const waiter of this.waiters.filter((w) => this.items.length >= w.count)) waiter.resolve();
  };

  async until(count: number): Promise<T[]> {
    if (this.items.length < count) await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return this.items;
  }
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** For state with no event of its own (an ack landing in an outbox): checks on every turn. */

function message(kind: string, name: string, operation: string, content: unknown, namespace = 'default'): EdgeMessage {
  return { header: { namespace, resourceKind: kind, resourceName: name, operation }, content };
}

const dataset = (name: string, version: number, operation = 'insert'): EdgeMessage =>
  message('dataset', name, operation, { kind: 'Dataset', metadata: { name, namespace: 'default' }, spec: { version } });

const describeMessage = (m: EdgeMessage): string => `${m.header.operation} ${m.header.resourceName} ${JSON.stringify((m.content as { spec?: unknown } | null)?.spec ?? null)}`;

interface UpgradeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  upgraded: boolean;
}

/** A bare WebSocket upgrade request, to see exactly what the hub answers. */
function rawUpgrade(port: number, headers: Record<string, string>): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, upgraded: true });
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, upgraded: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A TCP relay that can fail like a real network: `blackhole()` stops forwarding on the current
 * connections without closing either side (each end now holds a half-open connection) and holds
 * new connections until `heal()`.
 */
class FlakyLink {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs: { dead: boolean }[] = [];
  private held: Socket[] = [];
  private holding = false;

  constructor(private readonly targetPort: number) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  blackhole(): void {
    for (const pair of this.pairs) pair.dead = true;
    this.holding = true;
  }

  heal(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const socket of held) this.forward(socket);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(socket: Socket): void {
    this.track(socket);
    if (this.holding) {
      socket.pause();
      this.held.push(socket);
    } else this.forward(socket);
  }

  private forward(client: Socket): void {
    const upstream = this.track(connect(this.targetPort, '127.0.0.1'));
    const pair = { dead: false };
    this.pairs.push(pair);
    client.on('data', (data) => pair.dead || upstream.write(data));
    upstream.on('data', (data) => pair.dead || client.write(data));
    client.on('close', () => pair.dead || upstream.destroy());
    upstream.on('close', () => pair.dead || client.destroy());
    client.resume();
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }
}

// ---------------------------------------------------------------------------------------------

describe('edge hub', () => {
  it('refuses a missing, unknown or wrong credential at the upgrade with 401 and no socket', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const connected = new Recorder<string>();
    hub.onNodeConnected(connected.push);
    const attempts: Record<string, string>[] = [
      {},
      { 'Node-Name': NODE },
      { Authorization: `Bearer ${TOKEN}` },
      { 'Node-Name': 'edge-9', Authorization: `Bearer ${TOKEN}` },
      { 'Node-Name': NODE, Authorization: 'Bearer wrong' },
      { 'Node-Name': NODE, Authorization: `Bearer ${TOKENS['edge-2']}` },
      { 'Node-Name': NODE, Authorization: `Basic ${TOKEN}` },
      { 'Node-Name': 'Edge_1', Authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const answer = await rawUpgrade(hub.port, headers);
      assert.equal(answer.upgraded, false, JSON.stringify(headers));
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer /);
    }
    const client = newClient(defer, hub.port, { token: 'wrong' });
    const refused = next((listener) => client.onConnectError(listener));
    client.start();
    const [err] = await refused;
    assert.ok(err instanceof EdgeConnectError);
    assert.equal(err.statusCode, 401);
    await client.stop();

    assert.deepEqual(hub.connectedNodes(), []);
    assert.deepEqual(connected.items, []);
    const metrics = await hub.registry.metrics();
    assert.match(metrics, /sedna_edge_refused_connections_total\{reason="missing-credentials"\} 4/);
    const badToken = /sedna_edge_refused_connections_total\{reason="unknown-node-or-bad-token"\} (\d+)/.exec(metrics)?.[1];
    assert.ok(Number(badToken) >= 4, `3 raw attempts and the client's, got ${badToken}`);
    assert.match(metrics, /sedna_edge_refused_connections_total\{reason="invalid-node-name"\} 1/);
    assert.equal((await rawUpgrade(hub.port, { 'Node-Name': NODE, Authorization: `Bearer ${TOKEN}` })).status, 101);
  });

  it('reads node tokens from a file, picking up a rotated token without a restart', async (t) => {
    const defer = cleanups(t);
    const dir = mkdtempSync(join(tmpdir(), 'sedna-edge-tokens-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'node-tokens.yaml');
    writeFileSync(path, 'edge-1: first-token\n');
    const hub = await startHub(defer, { tokens: new FileNodeTokens(path) });
    const upgrade = (token: string): Promise<number> => rawUpgrade(hub.port, { 'Node-Name': NODE, Authorization: `Bearer ${token}` }).then((answer) => answer.status);
    assert.equal(await upgrade('first-token'), 101);
    writeFileSync(path, 'edge-1: the-rotated-token\n');
    assert.equal(await upgrade('first-token'), 401);
    assert.equal(await upgrade('the-rotated-token'), 101);
    writeFileSync(path, 'edge-1: [not, a, token]\n');
    assert.equal(await upgrade('the-rotated-token'), 503, 'a broken token file refuses everyone');
  });

  it("speaks Sedna's envelope with ids and acks on the wire", async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const upstream = new Recorder<[string, EdgeMessage]>();
    hub.onMessage('dataset', (node, m) => upstream.push([node, m]));
    const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/`, { headers: { 'Node-Name': NODE, Authorization: `Bearer ${TOKEN}` } });
    defer(() => ws.terminate());
    const frames = new Recorder<Record<string, unknown>>();
    ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    await new Promise((resolve) => ws.once('open', resolve));

    await hub.send(NODE, dataset('ds', 1));
    const [frame] = (await frames.until(1)) as unknown as DataFrame[];
    assert.ok(frame);
    assert.deepEqual(frame.header, { namespace: 'default', resourceKind: 'dataset', resourceName: 'ds', operation: 'insert' });
    assert.deepEqual(JSON.parse(Buffer.from(frame.content ?? '', 'base64').toString('utf8')), dataset('ds', 1).content);
    assert.equal(frame.id, 1);
    assert.equal(frame.floor, 1);
    assert.equal(typeof frame.stream, 'string');
    assert.equal(hub.pendingFor(NODE).length, 1, 'kept until acknowledged');
    ws.send(JSON.stringify({ ack: 1 }));
    await until(() => hub.pendingFor(NODE).length === 0, 'the ack to settle the message');

    // Sedna's LC opens with a bare header frame; it is accepted and ignored.
    ws.send(JSON.stringify({ namespace: '', resourceKind: '', resourceName: '', operation: '' }));
    const report = { numberOfSamples: 42 };
    const content = Buffer.from(JSON.stringify(report)).toString('base64');
    ws.send(JSON.stringify({ header: { namespace: 'default', resourceKind: 'Dataset', resourceName: 'ds', operation: 'status' }, content, stream: 's1', id: 7, floor: 7 }));
    const [[node, received]] = (await upstream.until(1)) as [[string, EdgeMessage]];
    assert.equal(node, NODE);
    assert.deepEqual(received.content, report);
    assert.deepEqual((await frames.until(2))[1], { ack: 7 });
  });

  it('delivers messages both ways and settles both outboxes with acks', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const upstream = new Recorder<[string, EdgeMessage]>();
    hub.onMessage('incrementallearningjob', (node, m) => upstream.push([node, m]));
    const client = await startClient(defer, hub.port);
    const downstream = new Recorder<EdgeMessage>();
    client.onMessage('dataset', downstream.push);

    for (let i = 1; i <= 5; i++) await hub.send(NODE, dataset(`ds-${i}`, i));
    const status = (i: number): EdgeMessage => message('IncrementalLearningJob', 'job', 'status', { phase: 'Train', status: 'Ready', round: i });
    for (let i = 1; i <= 3; i++) client.send(status(i));

    assert.deepEqual((await downstream.until(5)).map((m) => m.header.resourceName), ['ds-1', 'ds-2', 'ds-3', 'ds-4', 'ds-5']);
    assert.deepEqual(downstream.items[2]?.content, dataset('ds-3', 3).content);
    const received = await upstream.until(3);
    assert.deepEqual(received.map(([node]) => node), [NODE, NODE, NODE]);
    assert.deepEqual(received.map(([, m]) => m), [status(1), status(2), status(3)], 'status reports are events: none coalesced');
    await until(() => hub.pendingFor(NODE).length === 0 && client.pending === 0, 'both outboxes to settle');
    assert.deepEqual(hub.connectedNodes(), [NODE]);
  });

  it('keeps messages for an offline node and delivers them when it connects', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    await hub.send(NODE, dataset('early', 1));
    await hub.send(NODE, dataset('later', 1));
    assert.equal(hub.pendingFor(NODE).length, 2);
    await assert.rejects(hub.send('edge-9', dataset('x', 1)), UnknownNodeError);
    await assert.rejects(hub.send('', dataset('x', 1)), UnknownNodeError);

    const client = newClient(defer, hub.port);
    const downstream = new Recorder<EdgeMessage>();
    client.onMessage('dataset', downstream.push);
    client.start();
    assert.deepEqual((await downstream.until(2)).map((m) => m.header.resourceName), ['early', 'later']);
    await until(() => hub.pendingFor(NODE).length === 0, 'the acks');
  });

  it('notices a half-open connection by heartbeat, then resends what is unacked and the node processes it once', async (t) => {
    const defer = cleanups(t);
    const heartbeat = { intervalMs: 50, timeoutMs: 300 };
    const hub = await startHub(defer, { heartbeat });
    const link = new FlakyLink(hub.port);
    defer(() => link.stop());
    const client = newClient(defer, await link.start(), { heartbeat });
    const processed = new Recorder<string>();
    const slow = gate();
    client.onMessage('dataset', async (m) => {
      if (m.header.resourceName === 'ds-3') await slow.opened;
      processed.push(m.header.resourceName);
    });
    const connects = new Recorder<string>();
    hub.onNodeConnected(connects.push);
    client.start();
    await connects.until(1);

    for (const name of ['ds-1', 'ds-2', 'ds-3']) await hub.send(NODE, dataset(name, 1));
    await processed.until(2);
    await until(() => hub.pendingFor(NODE).length === 1, 'ds-1 and ds-2 acked');

    // The network dies mid-stream without a FIN: ds-3 gets processed but its ack is lost, and ds-4
    // is written into the void.
    const disconnected = next<[string, string]>((listener) => hub.onNodeDisconnected(listener));
    const cut = Date.now();
    link.blackhole();
    slow.open();
    await processed.until(3);
    await hub.send(NODE, dataset('ds-4', 1));
    const [node, reason] = await disconnected;
    const noticedAfter = Date.now() - cut;
    assert.equal(node, NODE);
    assert.match(reason, /heartbeat/);
    assert.ok(noticedAfter <= heartbeat.timeoutMs + 2 * heartbeat.intervalMs + 500, `noticed after ${noticedAfter} ms`);
    assert.deepEqual(hub.connectedNodes(), []);
    assert.deepEqual(hub.pendingFor(NODE).map((m) => m.header.resourceName), ['ds-3', 'ds-4']);

    link.heal();
    await connects.until(2);
    await processed.until(4);
    await until(() => hub.pendingFor(NODE).length === 0, 'the resent messages to be acked');
    assert.deepEqual(processed.items, ['ds-1', 'ds-2', 'ds-3', 'ds-4'], 'ds-3 arrived twice and was processed once');
    const metrics = await hub.registry.metrics();
    assert.match(metrics, /sedna_edge_heartbeat_timeouts_total\{node="edge-1"\} 1/);
    assert.match(metrics, /sedna_edge_messages_resent_total\{node="edge-1"\} 2/);
  });

  it('acks an upstream message only after its handler succeeds, so a failure means redelivery', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    let calls = 0;
    const handled = new Recorder<EdgeMessage>();
    hub.onMessage('dataset', (_node, m) => {
      calls++;
      if (calls === 1) throw new Error('API server unavailable');
      handled.push(m);
    });
    const client = await startClient(defer, hub.port, { resendAfterMs: 100, heartbeat: { intervalMs: 20, timeoutMs: 10_000 } });
    client.send(message('Dataset', 'ds', 'status', { numberOfSamples: 3 }));
    await handled.until(1);
    await until(() => client.pending === 0, 'the ack');
    assert.equal(calls, 2);
    assert.match(await hub.registry.metrics(), /sedna_edge_handler_failures_total\{node="edge-1"\} 1/);
  });

  it('processes a restarted node agent\'s messages although its ids start again at 1', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const handled = new Recorder<string>();
    hub.onMessage('dataset', (_node, m) => handled.push(m.header.resourceName));
    const first = await startClient(defer, hub.port);
    first.send(message('dataset', 'before-restart', 'status', {}));
    await handled.until(1);
    await first.stop();
    const second = await startClient(defer, hub.port);
    second.send(message('dataset', 'after-restart', 'status', {}));
    assert.deepEqual(await handled.until(2), ['before-restart', 'after-restart']);
  });

  it('dispatches upstream messages by kind, case-insensitively, and drops unknown kinds with an ack', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const datasets = new Recorder<string>();
    const jobs = new Recorder<string>();
    hub.onMessage('dataset', (_node, m) => datasets.push(m.header.resourceName));
    hub.onMessage('IncrementalLearningJob', (_node, m) => jobs.push(m.header.resourceName));
    assert.throws(() => hub.onMessage('DATASET', () => undefined), /already registered/);
    const client = await startClient(defer, hub.port);
    client.send(message('Dataset', 'ds', 'status', { numberOfSamples: 1 }));
    client.send(message('objectsearchservice', 'nobody-listens', 'status', {}));
    client.send(message('incrementallearningjob', 'job', 'status', { phase: 'Eval' }));
    assert.deepEqual(await datasets.until(1), ['ds']);
    assert.deepEqual(await jobs.until(1), ['job']);
    await until(() => client.pending === 0, 'every message, the unknown kind included, to be acked');
  });

  it('fires onNodeConnected on every (re)connection, before unacked states are flushed', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    let version = 0;
    const connects = new Recorder<string>();
    hub.onNodeConnected((node) => {
      connects.push(node);
      // The GM re-sends the full state of the node's resources: it replaces what is unacked.
      version++;
      void hub.send(node, dataset('ds', version));
    });
    const received = new Recorder<EdgeMessage>();
    const client = newClient(defer, hub.port);
    client.onMessage('dataset', received.push);
    client.start();
    await connects.until(1);
    await received.until(1);
    await until(() => hub.pendingFor(NODE).length === 0, 'the first state acked');

    await client.stop();
    await hub.send(NODE, dataset('ds', 100)); // queued while offline, superseded on reconnect
    client.start();
    await connects.until(2);
    await received.until(2);
    await until(() => hub.pendingFor(NODE).length === 0, 'the second state acked');
    assert.deepEqual(received.items.map(describeMessage), ['insert ds {"version":1}', 'insert ds {"version":2}']);

    // A second connection for the node replaces the first; the handler fires for it too.
    const replaced = next((listener) => client.onDisconnected(listener));
    const other = await startClient(defer, hub.port);
    await replaced;
    await client.stop(); // else the two would keep taking the node from each other
    await until(() => other.connected, 'the newer connection to hold');
    assert.deepEqual(hub.connectedNodes(), [NODE]);
    assert.ok(connects.items.length >= 3 && connects.items.every((node) => node === NODE));
  });

  it('coalesces queued states of one resource in place, never dropping a delete', async (t) => {
    const defer = cleanups(t);
    const hub = await startHub(defer);
    const a = (version: number, operation = 'insert'): EdgeMessage => dataset('a', version, operation);
    await hub.send(NODE, a(1));
    await hub.send(NODE, dataset('b', 1));
    await hub.send(NODE, a(2, 'update')); // replaces a v1 in its place
    await hub.send(NODE, a(3, 'delete')); // the delete replaces the pending update
    await hub.send(NODE, a(4)); // a new object under the same name: queued after the delete
    await hub.send(NODE, a(5, 'update')); // replaces a v4
    await hub.send(NODE, dataset('b', 2, 'delete'));
    const expected = ['delete a {"version":3}', 'delete b {"version":2}', 'update a {"version":5}'];
    assert.deepEqual(hub.pendingFor(NODE).map(describeMessage), expected);

    const received = new Recorder<EdgeMessage>();
    const slow = gate();
    const client = newClient(defer, hub.port);
    client.onMessage('dataset', async (m) => {
      if (received.items.length === 3) await slow.opened;
      received.push(m);
    });
    client.start();
    assert.deepEqual((await received.until(3)).map(describeMessage), expected);

    // A state already written but not yet acknowledged is replaced too: under a fresh id, so the
    // node, which may already have processed the older one, does not take it for a duplicate.
    await hub.send(NODE, dataset('c', 1));
    await until(() => hub.pendingFor(NODE).length === 1, 'c v1 written');
    await hub.send(NODE, dataset('c', 2));
    assert.deepEqual(hub.pendingFor(NODE).map(describeMessage), ['insert c {"version":2}']);
    slow.open();
    assert.deepEqual((await received.until(5)).slice(3).map(describeMessage), ['insert c {"version":1}', 'insert c {"version":2}']);
    await until(() => hub.pendingFor(NODE).length === 0, 'c v2 acked');
  });

  it('exposes Prometheus metrics on the registry it is given', async (t) => {
    const defer = cleanups(t);
    const registry = new Registry();
    const hub = await startHub(defer, { registry });
    hub.onMessage('dataset', () => undefined);
    await hub.send('edge-2', dataset('waiting', 1));
    const client = await startClient(defer, hub.port);
    const received = new Recorder<EdgeMessage>();
    client.onMessage('dataset', received.push);
    await hub.send(NODE, dataset('ds', 1));
    client.send(message('dataset', 'ds', 'status', {}));
    await received.until(1);
    await until(() => client.pending === 0 && hub.pendingFor(NODE).length === 0, 'acks');
    const metrics = await registry.metrics();
    assert.match(metrics, /sedna_edge_connected_nodes 1/);
    assert.match(metrics, /sedna_edge_messages_total\{direction="downstream",kind="dataset"\} 1/);
    assert.match(metrics, /sedna_edge_messages_total\{direction="upstream",kind="dataset"\} 1/);
    assert.match(metrics, /sedna_edge_outbox_depth\{node="edge-1"\} 0/);
    assert.match(metrics, /sedna_edge_outbox_depth\{node="edge-2"\} 1/);
  });

  it('serves wss:// with the configured certificate', async (t) => {
    const defer = cleanups(t);
    const dir = mkdtempSync(join(tmpdir(), 'sedna-edge-tls-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const credentials = ensureCredentials(dir, ['127.0.0.1']);
    const hub = await startHub(defer, { tls: { cert: credentials.cert, key: credentials.key } });
    const client = await startClient(defer, hub.port, { url: `wss://127.0.0.1:${hub.port}/`, ca: credentials.caCert });
    const received = new Recorder<EdgeMessage>();
    client.onMessage('dataset', received.push);
    await hub.send(NODE, dataset('secret-bearing', 1));
    assert.equal((await received.until(1))[0]?.header.resourceName, 'secret-bearing');
    const plain = newClient(defer, hub.port);
    const refused = next((listener) => plain.onConnectError(listener));
    plain.start();
    await refused;
    await plain.stop();
  });
});
