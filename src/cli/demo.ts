// `sedna apiserver --demo`: shows the embedded cluster doing what a real one does, with objects a
// user can then inspect with the real kubectl.
import type { Writable } from 'node:stream';
import type { KubeObject } from '../api/meta.ts';
import type { ApiServer } from '../apiserver/server.ts';

const NAMESPACE = 'sedna-demo';

const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'datasets.demo.sedna.io' },
  spec: {
    group: 'demo.sedna.io',
    scope: 'Namespaced',
    names: { plural: 'datasets', singular: 'dataset', kind: 'Dataset', shortNames: ['ds'] },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
          { name: 'Samples', type: 'integer', jsonPath: '.status.numberOfSamples' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['url', 'format', 'nodeName'],
                properties: {
                  url: { type: 'string' },
                  format: { type: 'string', enum: ['txt', 'csv', 'jpg'] },
                  nodeName: { type: 'string' },
                },
              },
              status: { type: 'object', properties: { numberOfSamples: { type: 'integer', minimum: 0 } } },
            },
          },
        },
      },
    ],
  },
};

export async function runDemo(server: ApiServer, out: Writable): Promise<void> {
  const { store } = server;
  const registry = store.registry;
  const def = (group: string, version: string, plural: string) => registry.lookup(group, version, plural)!;
  if (!store.tryGet(def('', 'v1', 'namespaces'), undefined, NAMESPACE)) {
    store.create(def('', 'v1', 'namespaces'), undefined, { metadata: { name: NAMESPACE } });
  }
  const crdDef = def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  if (!store.tryGet(crdDef, undefined, crd.metadata.name!)) store.create(crdDef, undefined, crd);
  await server.idle();
  const datasets = def('demo.sedna.io', 'v1alpha1', 'datasets');
  if (!store.tryGet(datasets, NAMESPACE, 'mnist')) {
    store.create(datasets, NAMESPACE, { metadata: { name: 'mnist' }, spec: { url: '/data/mnist.txt', format: 'txt', nodeName: 'edge-1' } });
    store.guaranteedUpdate(datasets, NAMESPACE, 'mnist', (o) => ({ ...o, status: { numberOfSamples: 10000 } }), { subresource: 'status' });
  }
  const deployments = def('apps', 'v1', 'deployments');
  if (!store.tryGet(deployments, NAMESPACE, 'inference')) {
    store.create(deployments, NAMESPACE, {
      metadata: { name: 'inference' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'inference' } },
        template: { metadata: { labels: { app: 'inference' } }, spec: { containers: [{ name: 'worker', image: 'sedna/inference:demo' }] } },
      },
    });
  }
  await server.idle();
  out.write(
    [
      '',
      'Demo objects are in namespace sedna-demo. Try:',
      `  export KUBECONFIG=${server.kubeconfigPath}`,
      '  kubectl api-resources --api-group=demo.sedna.io',
      `  kubectl get ds,deploy,rs,pods -n ${NAMESPACE}`,
      `  kubectl scale deploy/inference --replicas=3 -n ${NAMESPACE}`,
      `  kubectl delete deploy/inference -n ${NAMESPACE}   # the garbage collector removes its ReplicaSet and pods`,
      'Press Ctrl-C to stop; state persists in the data directory.',
      '',
    ].join('\n'),
  );
}
