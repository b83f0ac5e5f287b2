// `npm run gen:deploy`: writes the kustomize base and overlays (deploy/kubernetes), the Helm chart
// (deploy/helm/sedna) and deploy/crds/kustomization.yaml from src/deploy. They are committed, like
// the CRDs, because users install from them; test/unit/deploy-manifests.test.ts fails when the
// committed files differ from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEPLOY_DIR, renderDeploy } from './render.ts';

const files = renderDeploy();
for (const [path, text] of files) {
  mkdirSync(dirname(join(DEPLOY_DIR, path)), { recursive: true });
  writeFileSync(join(DEPLOY_DIR, path), text);
}
process.stdout.write(`wrote ${files.size} files under ${DEPLOY_DIR}\n`);
