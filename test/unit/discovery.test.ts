import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONSchemaProps } from '../../src/api/meta.ts';
import type { ResourceDef } from '../../src/apiserver/registry/types.ts';
import {
  aggregatedDiscovery,
  apiGroupList,
  apiResourceList,
  compareKubeAwareVersionStrings,
  coreApiVersions,
  negotiateDiscovery,
  sortVersionsByPriority,
  versionInfo,
} from '../../src/apiserver/rest/discovery.ts';
import { openapiV2, openapiV3GroupVersion, openapiV3Hash, openapiV3Root, parseOpenapiV3Key } from '../../src/apiserver/rest/openapi.ts';

const noopStrategy = {
  prepareForCreate() {},
  validate: () => [],
  prepareForUpdate() {},
  validateUpdate: () => [],
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
};

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(fields: Partial<ResourceDef> & Pick<ResourceDef, 'group' | 'version' | 'kind' | 'plural'>): ResourceDef {
  return {
    listKind: `${fields.kind}List`,
    singular: fields.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: true,
    verbs: ALL_VERBS,
    subresources: { status: false },
    strategy: noopStrategy,
    selectableFields: () => ({}),
    columns: [],
    source: 'builtin',
    storageVersion: fields.version,
    ...fields,
  };
}

const datasetSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: { type: 'object', properties: { url: { type: 'string' }, format: { type: 'string', nullable: true } }, required: ['url'] },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

const pods = def({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'], subresources: { status: true, log: true } });
const namespaces = def({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', shortNames: ['ns'], namespaced: false, subresources: { status: true, finalize: true } });
const configmaps = def({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] });
const deployments = def({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
});
function crd(version: string, schema: JSONSchemaProps | undefined = datasetSchema): ResourceDef {
  return def({ group: 'sedna.io', version, kind: 'Dataset', plural: 'datasets', categories: ['sedna'], subresources: { status: true }, source: 'crd', storageVersion: 'v1alpha1', schema });
}
const clusterCrd = def({ group: 'sedna.io', version: 'v1alpha1', kind: 'Model', plural: 'models', namespaced: false, source: 'crd', subresources: { status: false } });
const alphaGroup = def({ group: 'aaa.example.com', version: 'v1', kind: 'Widget', plural: 'widgets', source: 'crd', verbs: ['get', 'list', 'watch'] });

const DEFS: ResourceDef[] = [pods, namespaces, configmaps, deployments, crd('v1alpha1'), crd('v1beta1'), crd('v1'), clusterCrd, alphaGroup];

type Json = { [key: string]: unknown };

function patchOperations(doc: Json): { path: string; op: Json }[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) => (item.patch ? [{ path, op: item.patch as Json }] : []));
}

function collectRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) collectRefs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('version priority', () => {
  it('orders GA before beta before alpha, then by major and minor, non-kube versions last', () => {
    const expected = ['v10', 'v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v12alpha1', 'v11alpha2', 'foo1', 'foo10'];
    const shuffled = ['foo10', 'v1', 'v11alpha2', 'v3beta1', 'v2', 'foo1', 'v12alpha1', 'v10beta3', 'v10', 'v11beta2'];
    assert.deepEqual(sortVersionsByPriority(shuffled), expected);
  });

  it('compares pairwise with the sign of upstream CompareKubeAwareVersionStrings', () => {
    assert.ok(compareKubeAwareVersionStrings('v1', 'v1beta2') > 0);
    assert.ok(compareKubeAwareVersionStrings('v1beta1', 'v1beta2') < 0);
    assert.ok(compareKubeAwareVersionStrings('v1beta1', 'v2alpha1') > 0);
    assert.ok(compareKubeAwareVersionStrings('v1alpha1', 'notaversion') > 0);
    assert.equal(compareKubeAwareVersionStrings('v1', 'v1'), 0);
  });
});

describe('unaggregated discovery', () => {
  it('reports Kubernetes 1.32 in /version', () => {
    const v = versionInfo();
    assert.equal(v.major, '1');
    assert.equal(v.minor, '32');
    assert.equal(v.gitVersion, 'v1.32.0-sedna');
    assert.deepEqual(Object.keys(v).sort(), ['buildDate', 'compiler', 'gitCommit', 'gitTreeState', 'gitVersion', 'goVersion', 'major', 'minor', 'platform']);
    assert.match(v.platform, /^[a-z0-9]+\/[a-z0-9]+$/);
  });

  it('serves /api with the given server address', () => {
    assert.deepEqual(coreApiVersions('10.0.0.1:6443'), {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
    });
  });

  it('lists named groups with the highest-priority version preferred, built-ins first', () => {
    const list = apiGroupList(DEFS);
    assert.equal(list.kind, 'APIGroupList');
    assert.deepEqual(list.groups.map((g) => g.name), ['apps', 'aaa.example.com', 'sedna.io']);
    const sedna = list.groups.find((g) => g.name === 'sedna.io');
    assert.deepEqual(sedna?.versions.map((v) => v.groupVersion), ['sedna.io/v1', 'sedna.io/v1beta1', 'sedna.io/v1alpha1']);
    assert.deepEqual(sedna?.preferredVersion, { groupVersion: 'sedna.io/v1', version: 'v1' });
  });

  it('lists core resources with their subresources', () => {
    const list = apiResourceList(DEFS, '', 'v1');
    assert.equal(list.groupVersion, 'v1');
    assert.deepEqual(list.resources.map((r) => r.name), ['configmaps', 'namespaces', 'namespaces/finalize', 'namespaces/status', 'pods', 'pods/log', 'pods/status']);
    const pod = list.resources.find((r) => r.name === 'pods');
    assert.deepEqual(pod, {
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: ALL_VERBS,
      shortNames: ['po'],
      categories: ['all'],
      // Same value a real 1.32 server reports for pods.
      storageVersionHash: 'xPOwRZ+Yhw8=',
    });
    assert.deepEqual(list.resources.find((r) => r.name === 'pods/log')?.verbs, ['get']);
    assert.deepEqual(list.resources.find((r) => r.name === 'pods/status')?.verbs, ['get', 'patch', 'update']);
    const finalize = list.resources.find((r) => r.name === 'namespaces/finalize');
    assert.equal(finalize?.namespaced, false);
    assert.deepEqual(finalize?.verbs, ['update']);
  });

  it('describes /scale as autoscaling/v1 Scale', () => {
    const list = apiResourceList(DEFS, 'apps', 'v1');
    assert.deepEqual(list.resources.find((r) => r.name === 'deployments/scale'), {
      name: 'deployments/scale',
      singularName: '',
      namespaced: true,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
  });

  it('hashes a CRD by its storage version, whichever version is listed', () => {
    const v1 = apiResourceList(DEFS, 'sedna.io', 'v1').resources.find((r) => r.name === 'datasets');
    const alpha = apiResourceList(DEFS, 'sedna.io', 'v1alpha1').resources.find((r) => r.name === 'datasets');
    assert.ok(v1?.storageVersionHash);
    assert.equal(v1.storageVersionHash, alpha?.storageVersionHash);
  });
});

describe('aggregated discovery', () => {
  it('puts the core group in one unnamed item', () => {
    const doc = aggregatedDiscovery(DEFS, 'core', 'apidiscovery.k8s.io/v2');
    assert.equal(doc.kind, 'APIGroupDiscoveryList');
    assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.equal(doc.items.length, 1);
    assert.deepEqual(doc.items[0]?.metadata, {});
    const v1 = doc.items[0]?.versions[0];
    assert.equal(v1?.version, 'v1');
    assert.equal(v1?.freshness, 'Current');
    assert.deepEqual(v1?.resources.find((r) => r.resource === 'pods'), {
      resource: 'pods',
      responseKind: { group: '', version: 'v1', kind: 'Pod' },
      scope: 'Namespaced',
      singularResource: 'pod',
      verbs: ALL_VERBS,
      shortNames: ['po'],
      categories: ['all'],
      subresources: [
        { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
        { subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] },
      ],
    });
    assert.equal(v1?.resources.find((r) => r.resource === 'namespaces')?.scope, 'Cluster');
  });

  it('lists named groups with versions preferred first', () => {
    const doc = aggregatedDiscovery(DEFS, 'apis', 'apidiscovery.k8s.io/v2beta1');
    assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.deepEqual(doc.items.map((i) => i.metadata.name), ['apps', 'aaa.example.com', 'sedna.io']);
    const sedna = doc.items.find((i) => i.metadata.name === 'sedna.io');
    assert.deepEqual(sedna?.versions.map((v) => v.version), ['v1', 'v1beta1', 'v1alpha1']);
    const alpha = sedna?.versions.find((v) => v.version === 'v1alpha1');
    assert.deepEqual(alpha?.resources.map((r) => r.resource), ['datasets', 'models']);
    assert.equal(alpha?.resources.find((r) => r.resource === 'models')?.subresources, undefined);
    const scale = doc.items[0]?.versions[0]?.resources[0]?.subresources?.find((s) => s.subresource === 'scale');
    assert.deepEqual(scale?.responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });
});

describe('discovery content negotiation', () => {
  const kubectlAccept =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

  it('answers kubectl 1.32 with aggregated v2 and the content type client-go recognises', () => {
    assert.deepEqual(negotiateDiscovery(kubectlAccept), {
      aggregated: true,
      apiVersion: 'apidiscovery.k8s.io/v2',
      contentType: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    });
  });

  it('serves v2beta1 to clients that only ask for it, whatever the parameter order', () => {
    const r = negotiateDiscovery('application/json; as=APIGroupDiscoveryList; v=v2beta1; g=apidiscovery.k8s.io, application/json');
    assert.deepEqual(r, { aggregated: true, apiVersion: 'apidiscovery.k8s.io/v2beta1', contentType: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' });
  });

  it('falls back to the plain documents', () => {
    assert.deepEqual(negotiateDiscovery(undefined), { aggregated: false });
    assert.deepEqual(negotiateDiscovery('application/json'), { aggregated: false });
    assert.deepEqual(negotiateDiscovery('*/*'), { aggregated: false });
    assert.deepEqual(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json'), { aggregated: false });
    assert.deepEqual(negotiateDiscovery('application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), { aggregated: false });
  });

  it('honours quality values', () => {
    const r = negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json');
    assert.deepEqual(r, { aggregated: false });
    const refused = negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0');
    assert.deepEqual(refused, { aggregated: false });
  });

  it('accepts the nopeer profile newer clients send', () => {
    const r = negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,application/json');
    assert.equal(r.aggregated, true);
  });
});

describe('OpenAPI v3', () => {
  it('indexes every group-version with a hash of its document', () => {
    const root = openapiV3Root(DEFS);
    assert.deepEqual(Object.keys(root.paths).sort(), ['api/v1', 'apis/aaa.example.com/v1', 'apis/apps/v1', 'apis/sedna.io/v1', 'apis/sedna.io/v1alpha1', 'apis/sedna.io/v1beta1']);
    const hash = openapiV3Hash(openapiV3GroupVersion(DEFS, 'sedna.io', 'v1alpha1'));
    assert.match(hash, /^[0-9A-F]{128}$/);
    assert.equal(root.paths['apis/sedna.io/v1alpha1']?.serverRelativeURL, `/openapi/v3/apis/sedna.io/v1alpha1?hash=${hash}`);
    assert.deepEqual(parseOpenapiV3Key('apis/sedna.io/v1alpha1'), { group: 'sedna.io', version: 'v1alpha1' });
    assert.deepEqual(parseOpenapiV3Key('/api/v1'), { group: '', version: 'v1' });
    assert.equal(parseOpenapiV3Key('apis/sedna.io'), undefined);
  });

  it('changes the hash when a CRD schema changes, and only that group-version', () => {
    const before = openapiV3Root(DEFS);
    assert.deepEqual(openapiV3Root(DEFS), before);
    const changed: JSONSchemaProps = { ...datasetSchema, properties: { ...datasetSchema.properties, extra: { type: 'integer' } } };
    const after = openapiV3Root(DEFS.map((d) => (d.group === 'sedna.io' && d.version === 'v1beta1' && d.kind === 'Dataset' ? crd('v1beta1', changed) : d)));
    assert.notEqual(after.paths['apis/sedna.io/v1beta1']?.serverRelativeURL, before.paths['apis/sedna.io/v1beta1']?.serverRelativeURL);
    assert.equal(after.paths['apis/sedna.io/v1']?.serverRelativeURL, before.paths['apis/sedna.io/v1']?.serverRelativeURL);
    assert.equal(after.paths['api/v1']?.serverRelativeURL, before.paths['api/v1']?.serverRelativeURL);
  });

  it('lays out namespaced, cluster-scoped and subresource paths', () => {
    const core = openapiV3GroupVersion(DEFS, '', 'v1');
    const paths = Object.keys(core.paths as Json);
    for (const p of [
      '/api/v1/namespaces/{namespace}/pods',
      '/api/v1/namespaces/{namespace}/pods/{name}',
      '/api/v1/namespaces/{namespace}/pods/{name}/status',
      '/api/v1/namespaces/{namespace}/pods/{name}/log',
      '/api/v1/pods',
      '/api/v1/namespaces',
      '/api/v1/namespaces/{name}',
      '/api/v1/namespaces/{name}/finalize',
    ]) {
      assert.ok(paths.includes(p), p);
    }
    const apps = openapiV3GroupVersion(DEFS, 'apps', 'v1');
    const scale = (apps.paths as Record<string, Json>)['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    assert.deepEqual((scale?.patch as Json)['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    assert.equal(core.openapi, '3.0.0');
  });

  it('gives every kind a PATCH operation with its GVK and fieldValidation', () => {
    for (const d of DEFS) {
      const doc = openapiV3GroupVersion(DEFS, d.group, d.version);
      const patches = patchOperations(doc);
      for (const { path, op } of patches) {
        const params = op.parameters as Json[];
        assert.ok(params.some((p) => p.name === 'fieldValidation' && p.in === 'query'), `${path} lacks fieldValidation`);
        assert.ok(params.some((p) => p.name === 'fieldManager' && p.in === 'query'), `${path} lacks fieldManager`);
        assert.ok(params.some((p) => p.name === 'dryRun' && p.in === 'query'), `${path} lacks dryRun`);
      }
      const own = patches.filter(({ op }) => {
        const gvk = op['x-kubernetes-group-version-kind'] as Json;
        return gvk.group === d.group && gvk.version === d.version && gvk.kind === d.kind;
      });
      assert.ok(own.length > 0, `no PATCH operation for ${d.kind} ${d.group}/${d.version}`);
      assert.equal(own[0]?.op['x-kubernetes-action'], 'patch');
    }
  });

  it('never advertises strategic merge patch', () => {
    for (const d of DEFS) {
      for (const { path, op } of patchOperations(openapiV3GroupVersion(DEFS, d.group, d.version))) {
        const content = Object.keys((op.requestBody as Json).content as Json);
        assert.deepEqual(content.sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'], path);
      }
    }
    assert.ok(!JSON.stringify(openapiV2(DEFS)).includes('strategic-merge-patch'));
  });

  it('publishes a CRD structural schema with TypeMeta and ObjectMeta', () => {
    const doc = openapiV3GroupVersion(DEFS, 'sedna.io', 'v1alpha1');
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const dataset = schemas['io.sedna.v1alpha1.Dataset'];
    assert.ok(dataset);
    assert.deepEqual(dataset['x-kubernetes-group-version-kind'], [{ group: 'sedna.io', version: 'v1alpha1', kind: 'Dataset' }]);
    const props = dataset.properties as Record<string, Json>;
    assert.deepEqual(props.metadata?.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.equal(props.apiVersion?.type, 'string');
    assert.equal(props.kind?.type, 'string');
    assert.deepEqual((props.spec?.required), ['url']);
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.deepEqual(schemas['io.sedna.v1alpha1.DatasetList']?.['x-kubernetes-group-version-kind'], [{ group: 'sedna.io', version: 'v1alpha1', kind: 'DatasetList' }]);
  });

  it('gives built-in kinds a permissive schema with their GVK', () => {
    const doc = openapiV3GroupVersion(DEFS, '', 'v1');
    const pod = ((doc.components as Json).schemas as Record<string, Json>)['io.k8s.api.core.v1.Pod'];
    assert.equal(pod?.type, 'object');
    assert.equal(pod?.['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(pod?.['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
    assert.equal(typeof pod?.description, 'string');
  });

  it('only refers to schemas it defines', () => {
    for (const d of DEFS) {
      const doc = openapiV3GroupVersion(DEFS, d.group, d.version);
      const names = new Set(Object.keys((doc.components as Json).schemas as Json));
      for (const ref of collectRefs(doc)) assert.ok(names.has(ref.replace('#/components/schemas/', '')), ref);
    }
  });
});

describe('OpenAPI v2', () => {
  it('is a Swagger 2.0 document with a definition per kind and resolvable refs', () => {
    const doc = openapiV2(DEFS);
    assert.equal(doc.swagger, '2.0');
    const definitions = doc.definitions as Record<string, Json>;
    assert.deepEqual(definitions['io.k8s.api.apps.v1.Deployment']?.['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    assert.ok(definitions['io.sedna.v1beta1.Dataset']);
    for (const ref of collectRefs(doc)) assert.ok(definitions[ref.replace('#/definitions/', '')], ref);
  });

  it('drops what Swagger 2.0 cannot express from CRD schemas', () => {
    const dataset = (openapiV2(DEFS).definitions as Record<string, Json>)['io.sedna.v1alpha1.Dataset'];
    const spec = (dataset?.properties as Record<string, Json>).spec;
    const format = (spec?.properties as Record<string, Json>).format;
    assert.deepEqual(format, {});
    const patch = ((openapiV2(DEFS).paths as Record<string, Json>)['/apis/sedna.io/v1alpha1/namespaces/{namespace}/datasets/{name}']?.patch as Json);
    assert.ok((patch.parameters as Json[]).some((p) => p.name === 'fieldValidation' && p.in === 'query'));
  });
});
