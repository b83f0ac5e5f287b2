// The install's settings, once: the Helm chart's values.yaml is this object, and the kustomize
// base is the manifests rendered with these defaults. Keys follow Sedna's chart (gm.image,
// gm.resources, gm.websocket.{address,port}, gm.localController.server,
// gm.knowledgeBaseServer.server, kb.*, lc.*) so its users find what they know.
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The image `npm run image` builds; on a cluster, push it to a registry the nodes can pull from. */
export const DEFAULT_IMAGE = `localhost/sedna:${version}`;
export const CHART_VERSION = version;

export const DEFAULT_VALUES = {
  imagePullPolicy: 'IfNotPresent',
  gm: {
    image: DEFAULT_IMAGE,
    replicas: 1,
    resources: { requests: { memory: '128Mi', cpu: '100m' }, limits: { memory: '512Mi' } },
    /** Empty: watch every namespace (Sedna's default). */
    namespace: '',
    websocket: { address: '0.0.0.0', port: 9000 },
    localController: { server: 'http://localhost:9100' },
    knowledgeBaseServer: { server: 'http://kb.sedna:9020' },
    minResyncPeriodSeconds: 30,
    metrics: { port: 9091 },
  },
  lc: {
    image: DEFAULT_IMAGE,
    resources: { requests: { memory: '64Mi', cpu: '50m' }, limits: { memory: '256Mi' } },
    /** Where the LC dials the GM: the gm Service (edge nodes resolve it through EdgeMesh). */
    gmAddress: 'gm.sedna:9000',
    /** The worker API; loopback: workers reach it as localhost:9100 on the node. */
    bindAddress: '127.0.0.1',
    bindPort: 9100,
    /** The only host folder the LC may write (its database and the learning jobs' outputs). */
    dataPath: '/var/lib/sedna',
    /** Extra scheduling rules; the edge-only overlay puts the LC on edge nodes only. */
    affinity: {},
  },
  kb: {
    image: DEFAULT_IMAGE,
    resources: { requests: { memory: '256Mi', cpu: '100m' }, limits: { memory: '512Mi' } },
    storage: { size: '1Gi', storageClassName: '' },
  },
  dashboard: {
    image: DEFAULT_IMAGE,
    resources: { requests: { memory: '96Mi', cpu: '50m' }, limits: { memory: '256Mi' } },
  },
};

export type Values = typeof DEFAULT_VALUES;
