// Query and DeleteOptions decoding as Kubernetes does it (issue 12 part 1): every value is checked
// before anything changes or a stream starts, and a bad one is a 4xx Status naming it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseGoBool, parseInt64, timerSeconds, MAX_TIMER_SECONDS } from '../../src/apiserver/query.ts';
import { StatusError } from '../../src/apiserver/errors.ts';
import { type InProcessApiServer, startInProcessApiServer } from '../helpers/in-process-apiserver.ts';

const NS = '/api/v1/namespaces/default';

describe('query decoding', () => {
  it('reads booleans exactly as Go strconv.ParseBool', () => {
    for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(v, 'watch'), true, v);
    for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(v, 'watch'), false, v);
    for (const v of ['yes', 'tRUE', '', ' true', '2']) {
      assert.throws(() => parseGoBool(v, 'watch'), (e) => e instanceof StatusError && e.code === 400 && e.message.startsWith('watch:'), v);
    }
  });

  it('reads integers within int64 and clamps to the safe range', () => {
    assert.equal(parseInt64('42', 'limit'), 42);
    assert.equal(parseInt64('9223372036854775807', 'limit'), Number.MAX_SAFE_INTEGER);
    for (const v of ['99999999999999999999', '1.5', '1e3', 'abc', '']) {
      assert.throws(() => parseInt64(v, 'limit'), (e) => e instanceof StatusError && e.code === 400 && /limit/.test(e.message), v);
    }
    assert.throws(() => parseInt64('-1', 'limit', 0n), /greater than or equal to 0/);
    assert.equal(timerSeconds(99_999_999_999), MAX_TIMER_SECONDS);
  });
});

describe('query and DeleteOptions over HTTP', () => {
  let api: InProcessApiServer;
  before(async () => {
    api = await startInProcessApiServer();
  });
  after(async () => {
    await api.stop();
  });

  async function configMap(name: string): Promise<void> {
    const created = await api.call('POST', `${NS}/configmaps`, { metadata: { name }, data: { a: 'b' } });
    assert.equal(created.code, 201, created.body);
  }

  it('treats every ParseBool spelling of watch=true as a watch (the Python client sends watch=True)', async () => {
    const values = ['True', 't', 'TRUE', '1'];
    const answers = await Promise.all(values.map((value) => api.call('GET', `${NS}/configmaps?watch=${value}&timeoutSeconds=1`)));
    answers.forEach((res, i) => {
      assert.equal(res.code, 200);
      assert.equal(res.body, '', `watch=${values[i]} streams events (none here), not a list`);
    });
    const list = await api.call('GET', `${NS}/configmaps?watch=False`);
    assert.equal(list.json().kind, 'ConfigMapList');
    const bad = await api.call('GET', `${NS}/configmaps?watch=yes`);
    assert.equal(bad.code, 400);
    assert.match(bad.json<{ message: string }>().message, /^watch: invalid boolean value "yes"/);
  });

  it('answers a watch with a bad selector or resourceVersion with a 400 Status, not a 200 and a dropped stream', async () => {
    for (const query of ['labelSelector=a%20in%20(', 'fieldSelector=spec.bogus=1', 'resourceVersion=abc', 'timeoutSeconds=x', 'allowWatchBookmarks=maybe']) {
      const res = await api.call('GET', `${NS}/configmaps?watch=true&${query}`);
      assert.equal(res.code, 400, query);
      assert.equal(res.json().kind, 'Status', query);
    }
  });

  it('refuses out-of-range integers and bad resource versions on lists with 400, not 500', async () => {
    for (const query of ['limit=99999999999999999999', 'limit=-1', 'resourceVersion=abc', 'resourceVersionMatch=Exact', 'resourceVersionMatch=Sometimes&resourceVersion=1']) {
      const res = await api.call('GET', `${NS}/configmaps?${query}`);
      assert.equal(res.code, 400, `${query}: ${res.body}`);
    }
    assert.equal((await api.call('GET', `${NS}/configmaps?limit=9223372036854775807`)).code, 200);
    assert.equal((await api.call('GET', `${NS}/configmaps/missing?resourceVersion=x`)).code, 400);
  });

  it('keeps a watch with a timeout beyond the timer range open instead of ending it at once', async () => {
    const res = await api.call('GET', `${NS}/configmaps?watch=1&timeoutSeconds=99999999999`, undefined, { timeoutMs: 700 }).catch((e: Error) => e);
    assert.ok(res instanceof Error && /no answer within 700 ms/.test(res.message), 'the stream is still open after 700 ms');
  });

  it('refuses malformed DeleteOptions before deleting anything', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ dryRun: 'All' }, 400, /DeleteOptions\.dryRun of type \[\]string/],
      [{ dryRun: ['Bogus'] }, 422, /dryRun: Unsupported value: "Bogus"/],
      [{ preconditions: 'abc' }, 400, /DeleteOptions\.preconditions/],
      [['x'], 400, /cannot unmarshal array/],
      [{ gracePeriodSeconds: 'x' }, 400, /gracePeriodSeconds of type int64/],
      [{ orphanDependents: 'yes' }, 400, /orphanDependents of type bool/],
      [{ orphanDependents: true, propagationPolicy: 'Foreground' }, 422, /cannot be both set/],
      [{ propagationPolicy: 'Sometimes' }, 422, /propagationPolicy: Unsupported value/],
      [{ kind: 'Pod' }, 400, /must be DeleteOptions/],
    ];
    for (const [i, [body, code, message]] of cases.entries()) {
      const name = `victim-${i}`;
      await configMap(name);
      const res = await api.call('DELETE', `${NS}/configmaps/${name}`, body);
      assert.equal(res.code, code, `${JSON.stringify(body)}: ${res.body}`);
      assert.match(res.json<{ message: string }>().message, message);
      assert.equal((await api.call('GET', `${NS}/configmaps/${name}`)).code, 200, `${JSON.stringify(body)} deleted nothing`);
    }
    for (const query of ['orphanDependents=maybe', 'gracePeriodSeconds=x', 'dryRun=Bogus']) {
      await configMap('victim-q');
      const res = await api.call('DELETE', `${NS}/configmaps/victim-q?${query}`);
      assert.ok(res.code === 400 || res.code === 422, `${query}: ${res.code}`);
      assert.equal((await api.call('GET', `${NS}/configmaps/victim-q`)).code, 200);
      await api.call('DELETE', `${NS}/configmaps/victim-q`);
    }
  });

  it('still honours well-formed DeleteOptions: dryRun keeps the object, a matching precondition deletes', async () => {
    await configMap('kept');
    assert.equal((await api.call('DELETE', `${NS}/configmaps/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] })).code, 200);
    assert.equal((await api.call('GET', `${NS}/configmaps/kept`)).code, 200);
    const uid = (await api.call('GET', `${NS}/configmaps/kept`)).json<{ metadata: { uid: string } }>().metadata.uid;
    assert.equal((await api.call('DELETE', `${NS}/configmaps/kept?orphanDependents=False`, { preconditions: { uid } })).code, 200);
    assert.equal((await api.call('GET', `${NS}/configmaps/kept`)).code, 404);
  });
});
