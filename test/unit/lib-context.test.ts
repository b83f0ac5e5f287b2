// The worker's environment contract (lib.md §1): lookup rule, algorithm parameters, and the typed
// snapshot with Sedna's names and defaults.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { algorithmFromEnv, ConfigError, getParameter, workerContext } from '../../src/lib/context.ts';

describe('getParameter', () => {
  it('looks the name up, then its upper case; unset or empty yields the fallback', () => {
    assert.equal(getParameter('batch_size', '1', { batch_size: '8' }), '8');
    assert.equal(getParameter('batch_size', '1', { BATCH_SIZE: '16' }), '16');
    assert.equal(getParameter('batch_size', '1', {}), '1');
    assert.equal(getParameter('batch_size', '1', { batch_size: '' }), '1');
    assert.equal(getParameter('batch_size', undefined, {}), undefined);
  });
});

describe('algorithmFromEnv', () => {
  it('parses the {key,value} list, skipping entries without key; a missing value is ""', () => {
    const env = { HEM_NAME: 'IBT', HEM_PARAMETERS: '[{"key":"threshold_img","value":"0.9"},{"value":"x"},{"key":"threshold_box"}]' };
    assert.deepEqual(algorithmFromEnv('HEM', {}, env), { method: 'IBT', param: { threshold_img: '0.9', threshold_box: '' } });
  });
  it('merges overrides over the resource values', () => {
    const env = { HEM_NAME: 'IBT', HEM_PARAMETERS: '[{"key":"threshold_img","value":"0.5"}]' };
    assert.deepEqual(algorithmFromEnv('HEM', { threshold_img: '0.9' }, env)?.param, { threshold_img: '0.9' });
  });
  it('no name → undefined; no parameters → empty map', () => {
    assert.equal(algorithmFromEnv('HEM', {}, { HEM_PARAMETERS: '[]' }), undefined);
    assert.deepEqual(algorithmFromEnv('HEM', {}, { HEM_NAME: 'Random' }), { method: 'Random', param: {} });
    // What Sedna's GM writes for a hardExampleMining without parameters (the IL inference worker).
    assert.deepEqual(algorithmFromEnv('HEM', {}, { HEM_NAME: 'IBT', HEM_PARAMETERS: 'null' }), { method: 'IBT', param: {} });
  });
  it('unparsable JSON is a ConfigError naming the variable (stricter than Sedna)', () => {
    assert.throws(() => algorithmFromEnv('HEM', {}, { HEM_NAME: 'IBT', HEM_PARAMETERS: '[{' }), (err: Error) => err instanceof ConfigError && err.message.includes('HEM_PARAMETERS'));
    assert.throws(() => algorithmFromEnv('HEM', {}, { HEM_NAME: 'IBT', HEM_PARAMETERS: '{"a":1}' }), /HEM_PARAMETERS must be a JSON list/);
  });
});

describe('workerContext', () => {
  it("takes Sedna's defaults from an empty environment", () => {
    const ctx = workerContext({});
    assert.equal(ctx.lcServer, 'http://127.0.0.1:9100');
    assert.equal(ctx.jobName, 'sedna');
    assert.equal(ctx.workerName, 'sedna');
    assert.equal(ctx.namespace, 'sedna');
    assert.equal(ctx.dataPathPrefix, '/home/data');
    assert.equal(ctx.backendType, 'TENSORFLOW');
    assert.equal(ctx.deviceCategory, 'CPU');
    assert.equal(ctx.lcPeriodSeconds, 30);
    assert.equal(ctx.bigModelPort, 5000);
    assert.equal(ctx.bigModelBindPort, 5000);
    assert.equal(ctx.aggPort, 7363);
    assert.equal(ctx.aggBindPort, 7363);
    assert.equal(ctx.aggIp, '127.0.0.1');
    assert.equal(ctx.connectTimeoutSeconds, 300);
    assert.equal(ctx.miningMode, 'inference-then-mining');
    assert.equal(ctx.modelLoadMode, 'file');
    assert.equal(ctx.modelHotUpdate, false);
    assert.equal(ctx.modelPollPeriodSeconds, 60);
    assert.equal(ctx.pretrainedModelUrl, './');
    assert.equal(ctx.transmitter, 'ws');
    assert.equal(ctx.outputUrl, '/tmp');
    assert.equal(ctx.minTrainSample, 10);
    assert.equal(ctx.operator, '>');
    assert.equal(ctx.modelThreshold, 0.1);
    assert.equal(ctx.unseenSaveUrl, '/home/data/unseen_samples');
    assert.equal(ctx.imageTopicUrl, tmpdir());
    assert.equal(ctx.kbUrl, 'sqlite:///lifelong_kb.sqlite3');
    assert.deepEqual(ctx.kafkaBindIps, []);
    assert.equal(ctx.batchSize, 1);
    assert.equal(ctx.workerToken, undefined);
    assert.equal(ctx.modelUrl, undefined);
  });
  it('reads the injected variables', () => {
    const ctx = workerContext({
      LC_SERVER: 'http://10.0.0.1:9100',
      WORKER_NAME: 'edgeworker-abcde',
      NAMESPACE: 'ns',
      SERVICE_NAME: 'helmet',
      WORKER_TOKEN: 'tok',
      LC_PERIOD: '5',
      MODEL_HOT_UPDATE: 'True',
      DATA_PATH_PREFIX: '/data/',
      KAFKA_BIND_IPS: 'a, b',
      BACKEND_TYPE: 'keras',
    });
    assert.equal(ctx.lcServer, 'http://10.0.0.1:9100');
    assert.equal(ctx.workerName, 'edgeworker-abcde');
    assert.equal(ctx.namespace, 'ns');
    assert.equal(ctx.serviceName, 'helmet');
    assert.equal(ctx.jobName, 'sedna', 'JOB_NAME defaults to sedna, so it wins over SERVICE_NAME (§1.3)');
    assert.equal(ctx.workerToken, 'tok');
    assert.equal(ctx.lcPeriodSeconds, 5);
    assert.equal(ctx.modelHotUpdate, true);
    assert.equal(ctx.unseenSaveUrl, '/data/unseen_samples');
    assert.deepEqual(ctx.kafkaBindIps, ['a', 'b']);
    assert.equal(ctx.backendType, 'KERAS');
  });
  it('uses JOB_NAME for worker name and namespace fallbacks', () => {
    const ctx = workerContext({ JOB_NAME: 'fl-job' });
    assert.equal(ctx.workerName, 'fl-job');
    assert.equal(ctx.namespace, 'fl-job');
  });
  it('names a variable that is not numeric', () => {
    assert.throws(() => workerContext({ LC_PERIOD: 'soon' }), (err: Error) => err instanceof ConfigError && /LC_PERIOD must be a number/.test(err.message));
    assert.throws(() => workerContext({ BIG_MODEL_PORT: '50a' }), /BIG_MODEL_PORT/);
  });
  it('is frozen', () => {
    const ctx = workerContext({});
    assert.ok(Object.isFrozen(ctx));
  });
});
