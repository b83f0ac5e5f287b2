// The GM's shared worker machinery (labels, names, storage injection, templates, apply's
// comparison) against the spec's examples (§2.3), and the JointInferenceService's pure parts:
// its desired Deployments, its status transitions and its edge reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JointInferenceService } from '../../src/api/sedna/joint-inference-service.ts';
import type { Model } from '../../src/api/sedna/model.ts';
import { cloudDeployment, edgeDeployment, hemParameters } from '../../src/features/jointinference/workers.ts';
import { nextStatus } from '../../src/features/jointinference/status.ts';
import { metricsFromOwnerInfo, parseOwnerInfo } from '../../src/features/jointinference/upstream.ts';
import {
  allWorkersLabels,
  buildDeployment,
  buildHpa,
  buildPod,
  buildService,
  cleanPath,
  convertK8sValidName,
  type CoreSecret,
  deploymentLabels,
  desiredHash,
  dirPath,
  injectStorage,
  isSubset,
  liveWorkerName,
  needsUpdate,
  RAND_ALPHABET,
  randomSuffix,
  s3EnvFromSecret,
  selectorString,
  WorkerSpecError,
  workerLabels,
  type PodTemplateSpec,
} from '../../src/gm/workers/index.ts';

const GVK = { apiVersion: 'sedna.io/v1alpha1', kind: 'JointInferenceService' };
const owner = { apiVersion: GVK.apiVersion, kind: GVK.kind, metadata: { name: 'helmet-ji', namespace: 'default', uid: 'uid-1', generation: 1 } };

function template(): PodTemplateSpec {
  return { spec: { nodeName: 'edge-node', containers: [{ name: 'a', image: 'x', env: [{ name: 'USER', value: '1' }] }, { name: 'b', image: 'y' }] } };
}

const s3Secret: CoreSecret = {
  metadata: { name: 'my-s3-secret', namespace: 'default', annotations: { 's3-endpoint': 'play.min.io', 's3-usehttps': '0' } },
  data: { ACCESS_KEY_ID: Buffer.from('AK').toString('base64'), SECRET_ACCESS_KEY: Buffer.from('SK').toString('base64') },
};
const S3_ENV = [
  { name: 'S3_ENDPOINT_URL', value: 'http://play.min.io' },
  { name: 'ACCESS_KEY_ID', value: 'AK' },
  { name: 'SECRET_ACCESS_KEY', value: 'SK' },
];

describe('labels (§2.3.1)', () => {
  it('prefix with the lower-cased kind; worker type lower-cased; app.sedna.io keeps its case', () => {
    assert.deepEqual(allWorkersLabels(owner, GVK.kind), { 'jointinferenceservice.sedna.io/name': 'helmet-ji', 'jointinferenceservice.sedna.io/uid': 'uid-1' });
    assert.equal(workerLabels(owner, GVK.kind, 'Edge')['jointinferenceservice.sedna.io/worker-type'], 'edge');
    assert.equal(deploymentLabels(owner, GVK.kind, 'Edge')['app.sedna.io'], 'helmet-ji-Edge-svc');
    assert.equal(selectorString({ a: '1', b: '2' }), 'a=1,b=2');
  });
});

describe('names', () => {
  it('random suffixes use the k8s rand alphabet', () => {
    for (let i = 0; i < 50; i++) {
      const s = randomSuffix();
      assert.equal(s.length, 5);
      for (const ch of s) assert.ok(RAND_ALPHABET.includes(ch), s);
    }
  });

  it('ConvertK8SValidName matches the spec examples', () => {
    assert.equal(convertK8sValidName('/model/'), 'modelz');
    assert.equal(convertK8sValidName('/code/data/'), 'code-dataz');
    assert.equal(convertK8sValidName('sedna-model-hot-update-volume'), 'sedna-model-hot-update-volume');
    assert.equal(convertK8sValidName('/Tmp/A__b/'), 'tmp-a-bz');
    assert.equal(convertK8sValidName(`/${'x'.repeat(70)}`).length, 63);
    assert.equal(convertK8sValidName('/'), '');
  });

  it('Go path semantics', () => {
    assert.equal(cleanPath('/downloads/models//helmet/./a.pb'), '/downloads/models/helmet/a.pb');
    assert.equal(dirPath('/a/b/c.pb'), '/a/b');
    assert.equal(dirPath('/a/b/'), '/a/b');
    assert.equal(dirPath('/a'), '/');
  });
});

describe('storage injection (§2.3.4–2.3.6)', () => {
  it('a node path: its parent directory mounted under /home/data, DATA_PATH_PREFIX set', () => {
    const out = injectStorage(template(), [{ envName: 'MODEL_URL', urls: [{ url: '/model/model.pb', downloadByInitializer: true }] }]);
    assert.deepEqual(out.spec.volumes, [{ name: 'modelz', hostPath: { path: '/model/', type: 'Directory' } }]);
    assert.equal(out.spec.initContainers, undefined);
    for (const c of out.spec.containers) {
      assert.deepEqual(c.volumeMounts, [{ name: 'modelz', mountPath: '/home/data/model/' }]);
      assert.deepEqual(c.env?.slice(-2), [
        { name: 'MODEL_URL', value: '/home/data/model/model.pb' },
        { name: 'DATA_PATH_PREFIX', value: '/home/data' },
      ]);
    }
    assert.deepEqual(out.spec.containers[0]!.env![0], { name: 'USER', value: '1' });
  });

  it('a folder with a trailing slash mounts its parent, not itself', () => {
    const out = injectStorage(template(), [{ envName: 'MODEL_URL', urls: [{ url: '/code/data/' }] }]);
    assert.deepEqual(out.spec.volumes, [{ name: 'codez', hostPath: { path: '/code/', type: 'Directory' } }]);
    assert.equal(out.spec.containers[0]!.env!.find((e) => e.name === 'MODEL_URL')!.value, '/home/data/code/data');
  });

  it('two long host paths that Sedna\'s name cuts alike get two volumes, each mounted from its own folder', () => {
    const root = '/tmp/sedna-il-scenario-1Aj4sA/examples/incremental-learning/output';
    const out = injectStorage(template(), [
      { envName: 'MODEL_URL', urls: [{ url: `${root}/train/1` }] },
      { envName: 'TRAIN_DATASET_URL', urls: [{ url: `${root}/data/train/1/data.txt` }] },
    ]);
    const volumes = out.spec.volumes!;
    assert.equal(volumes.length, 2);
    assert.notEqual(volumes[0]!.name, volumes[1]!.name);
    assert.ok(volumes.every((v) => v.name.length <= 63 && /^[a-z0-9-]+$/.test(v.name)), volumes.map((v) => v.name).join(' '));
    const mounts = out.spec.containers[0]!.volumeMounts!;
    const hostOf = (mountPath: string): string | undefined => volumes.find((v) => v.name === mounts.find((m) => m.mountPath === mountPath)?.name)?.hostPath?.path;
    assert.equal(hostOf(`/home/data${root}/train/`), `${root}/train/`);
    assert.equal(hostOf(`/home/data${root}/data/train/1/`), `${root}/data/train/1/`);
  });

  it('s3: the storage initializer downloads into /downloads with the Secret S3 env; workers get no credentials', () => {
    const url = 's3://models/helmet/saved_model.pb';
    const out = injectStorage(template(), [{ envName: 'MODEL_URL', urls: [{ url, downloadByInitializer: true, secret: s3Secret }] }]);
    const init = out.spec.initContainers!;
    assert.equal(init.length, 1);
    assert.deepEqual(init[0], {
      name: 'storage-initializer',
      image: 'kubeedge/sedna-storage-initializer:v0.3.0',
      imagePullPolicy: 'IfNotPresent',
      args: [url, '/downloads/models/helmet/'],
      env: [...S3_ENV, { name: 'INDIRECT_URL_MARK', value: '@' }],
      resources: { limits: { cpu: '1', memory: '1Gi' } },
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [{ name: 'sedna-storage-initializer', mountPath: '/downloads' }],
    });
    assert.deepEqual(out.spec.volumes, [{ name: 'sedna-storage-initializer', emptyDir: {} }]);
    for (const c of out.spec.containers) {
      assert.deepEqual(c.volumeMounts, [{ name: 'sedna-storage-initializer', mountPath: '/downloads', readOnly: true }]);
      const names = (c.env ?? []).map((e) => e.name);
      assert.ok(!names.includes('S3_ENDPOINT_URL') && !names.includes('DATA_PATH_PREFIX'));
      assert.equal(c.env!.find((e) => e.name === 'MODEL_URL')!.value, '/downloads/models/helmet/saved_model.pb');
    }
  });

  it('http(s): downloaded by host and path, no credentials', () => {
    const out = injectStorage(template(), [{ envName: 'MODEL_URL', urls: [{ url: 'https://example.com:8443/m/model.onnx', downloadByInitializer: true, secret: s3Secret }] }]);
    assert.deepEqual(out.spec.initContainers![0]!.args, ['https://example.com:8443/m/model.onnx', '/downloads/example.com:8443/m/']);
    assert.deepEqual(out.spec.initContainers![0]!.env, [{ name: 'INDIRECT_URL_MARK', value: '@' }]);
    assert.equal(out.spec.containers[1]!.env!.find((e) => e.name === 'MODEL_URL')!.value, '/downloads/example.com:8443/m/model.onnx');
  });

  it('indirect: the index is mounted into the initializer only, which fetches its entries (@-marked)', () => {
    const tpl: PodTemplateSpec = { spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'user-init' }] } };
    const out = injectStorage(tpl, [{ envName: 'ORIGINAL_DATASET_URL', urls: [{ url: '/data/index.txt', downloadByInitializer: true, indirect: true, secret: s3Secret }] }]);
    const init = out.spec.initContainers!;
    assert.deepEqual(init.map((c) => c.name), ['user-init', 'storage-initializer']);
    assert.deepEqual(init[1]!.args, ['/home/data/data/index.txt', '@/downloads/data/']);
    assert.deepEqual(init[1]!.env, [...S3_ENV, { name: 'INDIRECT_URL_MARK', value: '@' }]);
    assert.deepEqual(init[1]!.volumeMounts, [
      { name: 'sedna-storage-initializer', mountPath: '/downloads' },
      { name: 'dataz', mountPath: '/home/data/data/' },
    ]);
    assert.equal(init[0]!.volumeMounts, undefined);
    const main = out.spec.containers[0]!;
    assert.deepEqual(main.volumeMounts, [{ name: 'sedna-storage-initializer', mountPath: '/downloads', readOnly: true }]);
    assert.deepEqual(main.env, [{ name: 'ORIGINAL_DATASET_URL', value: '/downloads/data/index.txt' }]);
  });

  it('s3 not downloaded: the URL passes through and the workers get the S3 env; several URLs are ;-joined', () => {
    const out = injectStorage({ spec: { containers: [{ name: 'a' }] } }, [
      { envName: 'MODEL_URL', urls: [{ url: 's3://out/dir', secret: s3Secret }] },
      { envName: 'MODEL_URLS', urls: [{ url: '/m/a.pb' }, { url: '/m/b.pb' }, { url: '/x/c.pb', disabled: true }] },
    ]);
    assert.deepEqual(out.spec.containers[0]!.env, [
      { name: 'MODEL_URL', value: 's3://out/dir' },
      { name: 'MODEL_URLS', value: '/home/data/m/a.pb;/home/data/m/b.pb' },
      { name: 'DATA_PATH_PREFIX', value: '/home/data' },
      ...S3_ENV,
    ]);
    assert.deepEqual(out.spec.volumes, [{ name: 'mz', hostPath: { path: '/m/', type: 'Directory' } }]);
  });

  it('a Secret without s3-endpoint yields no env; s3-usehttps other than "0" means https', () => {
    assert.deepEqual(s3EnvFromSecret({ metadata: { name: 's' }, data: {} }), []);
    assert.deepEqual(s3EnvFromSecret({ metadata: { name: 's', annotations: { 's3-endpoint': 'h:9000' } }, stringData: { ACCESS_KEY_ID: 'a' } }), [
      { name: 'S3_ENDPOINT_URL', value: 'https://h:9000' },
      { name: 'ACCESS_KEY_ID', value: 'a' },
    ]);
  });

  it('does not mutate its input', () => {
    const tpl = template();
    const copy = structuredClone(tpl);
    injectStorage(tpl, [{ envName: 'MODEL_URL', urls: [{ url: '/model/model.pb' }] }]);
    assert.deepEqual(tpl, copy);
  });
});

describe('templates (§2.3.2–2.3.3)', () => {
  it('a Deployment: name, labels on it, its pods and selector, a controller owner reference, env after the user env', () => {
    const d = buildDeployment(owner, GVK, { workerType: 'Edge', template: { metadata: { labels: { mine: 'x' } }, spec: template().spec }, env: [{ name: 'USER', value: '2' }] });
    assert.equal(d.metadata.name, 'helmet-ji-deployment-edge');
    const labels = deploymentLabels(owner, GVK.kind, 'Edge');
    assert.deepEqual(d.metadata.labels, labels);
    assert.deepEqual(d.spec.selector, { matchLabels: labels });
    assert.deepEqual(d.spec.template.metadata?.labels, { mine: 'x', ...labels });
    assert.equal(d.spec.replicas, undefined);
    assert.deepEqual(d.metadata.ownerReferences, [{ apiVersion: GVK.apiVersion, kind: GVK.kind, name: 'helmet-ji', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(d.spec.template.spec.containers[0]!.env, [{ name: 'USER', value: '1' }, { name: 'USER', value: '2' }]);
    assert.equal(d.spec.template.spec.nodeName, 'edge-node');
  });

  it('a template without containers is a WorkerSpecError', () => {
    assert.throws(() => buildDeployment(owner, GVK, { workerType: 'Cloud', template: { spec: {} } as PodTemplateSpec, env: [] }), WorkerSpecError);
  });

  it('a Pod: generateName, forced hostNetwork, restartPolicy only when the template has none', () => {
    const pod = buildPod(owner, GVK, { workerType: 'train', template: { spec: { containers: [{ name: 'a' }], restartPolicy: 'Never' } }, env: [], hostNetwork: true, restartPolicy: 'OnFailure' });
    assert.equal(pod.metadata.generateName, 'helmet-ji-train-');
    assert.equal(pod.spec.hostNetwork, true);
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.metadata.labels?.['jointinferenceservice.sedna.io/worker-type'], 'train');
  });

  it('a Service with port tcp-0 and an HPA targeting the Deployment', () => {
    const svc = buildService(owner, GVK, 'Cloud', 5000);
    assert.equal(svc.metadata.name, 'helmet-ji-cloud');
    assert.deepEqual(svc.spec.ports, [{ name: 'tcp-0', protocol: 'TCP', port: 5000, targetPort: 5000 }]);
    assert.deepEqual(svc.spec.selector, workerLabels(owner, GVK.kind, 'Cloud'));
    const hpa = buildHpa(owner, GVK, 'Cloud', 'helmet-ji-deployment-cloud', { maxReplicas: 3, minReplicas: 1 });
    assert.equal(hpa.metadata.name, 'hpa-helmet-ji-deployment-cloud');
    assert.deepEqual(hpa.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'helmet-ji-deployment-cloud' }, maxReplicas: 3, minReplicas: 1 });
  });
});

describe('apply: when an object needs an update', () => {
  it('desired fields must be in the live object; fields the server adds do not matter', () => {
    assert.ok(isSubset({ a: 1, b: [{ c: 2 }] }, { a: 1, b: [{ c: 2, d: 3 }], e: 4 }));
    assert.ok(!isSubset({ a: 1, b: [{ c: 2 }] }, { a: 1, b: [{ c: 2 }, { c: 3 }] }));
    assert.ok(!isSubset({ a: { b: 1 } }, { a: { b: 2 } }));
    assert.ok(isSubset({ a: undefined }, {}));
  });

  it('the applied hash notices a field the desired object no longer sets', () => {
    const desired = buildService(owner, GVK, 'Cloud', 5000);
    const hash = desiredHash(desired);
    const live = { ...structuredClone(desired), metadata: { ...desired.metadata, resourceVersion: '7', annotations: { 'sedna.io/applied-hash': hash } } };
    assert.equal(needsUpdate(desired, live), false);
    live.spec.clusterIP = '10.0.0.1';
    assert.equal(needsUpdate(desired, live), false, 'server-set fields are fine');
    const withExtra = { ...desired, spec: { ...desired.spec, sessionAffinity: 'ClientIP' } };
    const liveExtra = { ...structuredClone(withExtra), metadata: { ...withExtra.metadata, annotations: { 'sedna.io/applied-hash': desiredHash(withExtra) } } };
    assert.equal(needsUpdate(desired, liveExtra), true, 'the field was dropped from the desired object');
    assert.equal(needsUpdate(desired, { ...live, spec: { ...live.spec, selector: { other: 'x' } } }), true, 'someone edited the selector');
  });
});

function jointInference(parameters?: { key: string; value: string }[]): JointInferenceService {
  return {
    ...owner,
    spec: {
      edgeWorker: { model: { name: 'little' }, hardExampleMining: { name: 'IBT', ...(parameters ? { parameters } : {}) }, template: { spec: { nodeName: 'edge-1', containers: [{ name: 'little', image: 'node' }] } } },
      cloudWorker: { model: { name: 'big' }, template: { spec: { nodeName: 'cloud', containers: [{ name: 'big', image: 'node' }] } } },
    },
  };
}

const model = (url: string): Model => ({ metadata: { name: 'm', namespace: 'default' }, spec: { url, format: 'pb' } });

describe('JointInferenceService desired state', () => {
  it('HEM_PARAMETERS is a JSON array of {key, value}, or null as Sedna passes none', () => {
    assert.equal(hemParameters(jointInference([{ key: 'threshold_img', value: '0.9' }])), '[{"key":"threshold_img","value":"0.9"}]');
    assert.equal(hemParameters(jointInference()), 'null');
  });

  it('the cloud worker gets its env, the token by secretKeyRef and a declared port 5000', () => {
    const d = cloudDeployment(jointInference(), model('/models/big.pb'), undefined, undefined);
    const env = d.spec.template.spec.containers[0]!.env!;
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    assert.equal(byName.MODEL_URL!.value, '/home/data/models/big.pb');
    assert.equal(byName.BIG_MODEL_BIND_PORT!.value, '5000');
    assert.deepEqual(byName.BIG_MODEL_BIND_IP!.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.deepEqual(byName.BIG_MODEL_TOKEN!.valueFrom, { secretKeyRef: { name: 'helmet-ji-cloud-token', key: 'token' } });
    assert.match(byName.WORKER_NAME!.value!, /^cloudworker-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(d.spec.template.spec.containers[0]!.ports, [{ name: 'tcp-0', containerPort: 5000, protocol: 'TCP' }]);
    assert.equal(liveWorkerName(d), byName.WORKER_NAME!.value);
    const again = cloudDeployment(jointInference(), model('/models/big.pb'), undefined, d);
    assert.deepEqual(again, d, 'rebuilt from the live one: identical');
  });

  it('the edge worker gets the big model address, HEM and LC_SERVER', () => {
    const d = edgeDeployment(jointInference([{ key: 'k', value: 'v' }]), model('/models/little.pb'), undefined, undefined, 'http://lc:9100');
    const byName = Object.fromEntries(d.spec.template.spec.containers[0]!.env!.map((e) => [e.name, e.value]));
    assert.equal(byName.BIG_MODEL_IP, 'helmet-ji-cloud.default');
    assert.equal(byName.BIG_MODEL_PORT, '5000');
    assert.equal(byName.HEM_NAME, 'IBT');
    assert.equal(byName.LC_SERVER, 'http://lc:9100');
    assert.match(byName.WORKER_NAME!, /^edgeworker-/);
    assert.equal(d.spec.template.spec.containers[0]!.ports, undefined);
  });
});

describe('JointInferenceService status', () => {
  const t0 = new Date('2024-01-01T00:00:00Z');
  const t1 = new Date('2024-01-01T00:01:00Z');
  const step = (ji: JointInferenceService, cloud: boolean, edge: boolean, now: Date): JointInferenceService => ({ ...ji, status: nextStatus(ji, { available: { cloud, edge } }, now) });

  it('Pending until both are available, Running, Failed naming the worker, then Running again', () => {
    let ji = step(jointInference(), false, true, t0);
    assert.equal(ji.status!.startTime, '2024-01-01T00:00:00Z');
    assert.deepEqual([ji.status!.active, ji.status!.failed], [1, 0]);
    assert.equal(ji.status!.conditions!.at(-1)!.type, 'Pending');
    assert.match(ji.status!.conditions!.at(-1)!.message!, /cloud worker/);
    ji = step(ji, true, true, t1);
    assert.deepEqual(ji.status!.conditions!.map((c) => c.type), ['Pending', 'Running']);
    assert.deepEqual([ji.status!.active, ji.status!.failed], [2, 0]);
    ji = step(ji, false, true, t1);
    const failed = ji.status!.conditions!.at(-1)!;
    assert.deepEqual([failed.type, failed.reason, failed.observedGeneration], ['Failed', 'workerFailed', 1]);
    assert.match(failed.message!, /the cloud worker/);
    assert.deepEqual([ji.status!.active, ji.status!.failed], [1, 1]);
    const same = nextStatus(ji, { available: { cloud: false, edge: true } }, t1);
    assert.deepEqual(same, ji.status, 'nothing new: nothing changes');
    ji = step(ji, true, true, t1);
    assert.deepEqual(ji.status!.conditions!.map((c) => c.type), ['Pending', 'Running', 'Failed', 'Running']);
    assert.equal(ji.status!.startTime, '2024-01-01T00:00:00Z');
  });

  it('a missing model is Failed with its reason, then Pending once it exists; metrics are kept', () => {
    let ji: JointInferenceService = { ...jointInference(), status: { metrics: [{ key: 'a', value: '1' }] } };
    ji = { ...ji, status: nextStatus(ji, { available: { cloud: false, edge: false }, problem: { reason: 'ModelNotFound', message: 'model default/big not found' } }, t0) };
    assert.deepEqual(ji.status!.conditions!.map((c) => [c.type, c.reason]), [['Failed', 'ModelNotFound']]);
    ji = step(ji, false, false, t1);
    assert.deepEqual(ji.status!.conditions!.map((c) => c.type), ['Failed', 'Pending']);
    assert.deepEqual(ji.status!.metrics, [{ key: 'a', value: '1' }]);
  });
});

describe('JointInferenceService edge reports', () => {
  it('ownerInfo minus its times, sorted, non-strings JSON-encoded', () => {
    const info = parseOwnerInfo({ phase: 'inference', status: 'ok', output: { models: null, ownerInfo: { updateTime: 'x', startTime: 'y', inferenceNumber: 10, hardSampleNumber: 3, name: 'w' } } });
    assert.deepEqual(metricsFromOwnerInfo(info!), [
      { key: 'hardSampleNumber', value: '3' },
      { key: 'inferenceNumber', value: '10' },
      { key: 'name', value: 'w' },
    ]);
    assert.equal(parseOwnerInfo({ phase: 'x', output: { ownerInfo: null } }), undefined);
    assert.throws(() => parseOwnerInfo('nope'), /content must be a JSON object/);
  });
});
