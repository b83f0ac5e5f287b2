// Sedna's CRDs type their pod templates as Sedna's do (issue 12 part 2), end to end through the
// real kubectl: the regenerated CRDs go in with client-side apply (their last-applied annotation
// stays under the 256 KiB limit), every one of Sedna's own samples applies unchanged, and a
// template Sedna would refuse (an env value given as a list, a port given as a string) is refused
// with the field named and nothing stored.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CRD_DIR, ALL_CRDS_FILE } from '../../src/api/gen-crds.ts';
import { kubectl, kubectlOk, type RunningApiServer, startApiServer } from '../helpers/apiserver.ts';

const SAMPLES = join(import.meta.dirname, '../fixtures/sedna-crd-samples');
const KNOWN_DEFECTS = new Set(['objectsearchservice_v1alpha1.yaml', 'objecttrackingservice_v1alpha1.yaml']);

function jointInference(env: unknown, port: unknown = 8000): string {
  return JSON.stringify({
    apiVersion: 'sedna.io/v1alpha1',
    kind: 'JointInferenceService',
    metadata: { name: 'typed' },
    spec: {
      edgeWorker: {
        model: { name: 'little' },
        hardExampleMining: { name: 'IBT' },
        template: { spec: { containers: [{ name: 'little', image: 'x', env, ports: [{ containerPort: port }] }] } },
      },
      cloudWorker: { model: { name: 'big' }, template: { spec: { containers: [{ name: 'big', image: 'x' }] } } },
    },
  });
}

describe('Sedna pod templates through kubectl', () => {
  let api: RunningApiServer;
  before(async () => {
    api = await startApiServer();
    await kubectlOk(api.kubeconfig, ['apply', '-f', join(CRD_DIR, ALL_CRDS_FILE)]);
    await kubectlOk(api.kubeconfig, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']);
  });
  after(async () => {
    await api?.stop();
  });

  it('client-side apply keeps each CRD in its last-applied annotation, under 256 KiB', async () => {
    const template = '{{range .items}}{{.metadata.name}} {{len (index .metadata.annotations "kubectl.kubernetes.io/last-applied-configuration")}}{{"\\n"}}{{end}}';
    const lines = (await kubectlOk(api.kubeconfig, ['get', 'crd', '-o', `go-template=${template}`])).trim().split('\n');
    assert.ok(lines.length >= 11, lines.join('\n'));
    for (const line of lines) {
      const [name, bytes] = line.split(' ');
      assert.ok(Number(bytes) > 1000 && Number(bytes) < 256 * 1024, `${name}: ${bytes} bytes`);
    }
  });

  it("applies every one of Sedna's samples unchanged, and refuses the two its own CRDs refuse", async () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.yaml') && !/v1alpha2/.test(f));
    for (const file of files) {
      const text = readFileSync(join(SAMPLES, file), 'utf8');
      if (parseAllDocuments(text).length === 0) continue;
      const result = await kubectl(api.kubeconfig, ['apply', '--dry-run=server', '-f', join(SAMPLES, file)]);
      if (KNOWN_DEFECTS.has(file)) {
        // Sedna's own CRD refuses these too (sedna-samples/README.md): no reidWorkers.selector, and
        // env values written as YAML lists.
        assert.notEqual(result.code, 0, file);
        assert.match(result.stderr, /env\[0\]\.value in body must be of type string/, file);
      } else {
        assert.equal(result.code, 0, `${file}: ${result.stderr}`);
      }
    }
  });

  it('refuses an env value given as a list inside a template, naming the field', async () => {
    const result = await kubectl(api.kubeconfig, ['create', '-f', '-'], jointInference([{ name: 'A', value: ['x'] }]));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /spec\.edgeWorker\.template\.spec\.containers\[0\]\.env\[0\]\.value: Invalid value: "array": spec\.edgeWorker\.template\.spec\.containers\[0\]\.env\[0\]\.value in body must be of type string/);
    const port = await kubectl(api.kubeconfig, ['create', '-f', '-'], jointInference([{ name: 'A', value: 'x' }], '80'));
    assert.match(port.stderr, /containers\[0\]\.ports\[0\]\.containerPort: Invalid value: "string"/);
    const stored = await kubectl(api.kubeconfig, ['get', 'jointinferenceservices', 'typed', '--ignore-not-found', '-o', 'name']);
    assert.equal(stored.stdout.trim(), '');
    assert.match(await kubectlOk(api.kubeconfig, ['create', '-f', '-'], jointInference([{ name: 'A', value: 'x' }])), /created/);
  });
});
