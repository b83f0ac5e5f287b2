// The built-in kinds the embedded API server serves: what the GM, the LocalControllers, kubectl and
// the official clients need. Each is one ResourceDef; the generic store does the rest.
import type { CustomResourceDefinition, KubeObject } from '../../api/meta.ts';
import { defaultCustomResourceDefinition } from '../schema/crd-validation.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import type { ResourceDef, ScaleSubresource } from './types.ts';
import { dnsLabelErrors, dnsSubdomainErrors, pathSegmentErrors } from './validation.ts';
import { validatePodSpec, validatePodUpdate, validateWorkloadSpec } from './pod-validation.ts';
import { validateCrdObject } from './crd-object-validation.ts';
import { ClusterIpAllocator, DEFAULT_SERVICE_CLUSTER_IP_RANGE } from './cluster-ip.ts';
import { serviceRules } from './service.ts';
import { moreBuiltinResources } from './more-builtins.ts';
import { builtin, defaultPodSpec, immutableSelector, record, str } from './builtin-kind.ts';

export { builtin, type BuiltinSpec, defaultPodSpec, immutableSelector, record, str } from './builtin-kind.ts';

/**
 * A pod bound to a node is stopped by that node's agent first, so its deletion waits for the grace
 * period (the agent then deletes it with grace 0). An unbound or finished pod goes at once.
 */
function podGracePeriod(obj: KubeObject, requested: number | undefined): number {
  const spec = record(obj.spec);
  const phase = record(obj.status).phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds;
  return typeof grace === 'number' && grace > 0 ? grace : 0;
}

/** Every namespace carries its name as a label, so network policies and selectors can match it. */
function labelWithName(obj: KubeObject): void {
  const labels: unknown = obj.metadata.labels;
  // Labels of the wrong type are left for validation to refuse, not spread into a valid map.
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels))) return;
  obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
}

const namespace = builtin({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  nameRule: dnsLabelErrors,
  strategy: {
    statusSubresource: true,
    generationFrom: 'none',
    defaultOnCreate(obj) {
      const spec = record(obj.spec);
      // The "kubernetes" finalizer makes deletion wait for the namespace controller to empty it.
      obj.spec = { ...spec, finalizers: Array.isArray(spec.finalizers) ? spec.finalizers : ['kubernetes'] };
      obj.status = { phase: 'Active' };
      labelWithName(obj);
    },
    // spec.finalizers changes only through /finalize.
    keepOnUpdate: (obj, old) => {
      obj.spec = { ...record(obj.spec), finalizers: record(old.spec).finalizers ?? [] };
      labelWithName(obj);
    },
    pendingFinalizers: (obj) => {
      const finalizers = record(obj.spec).finalizers;
      return Array.isArray(finalizers) ? finalizers.map(String) : [];
    },
    prepareForDelete: (obj) => {
      obj.status = { ...record(obj.status), phase: 'Terminating' };
    },
  },
  subresources: { status: true, finalize: true },
  selectableFields: (obj) => ({ 'status.phase': str(record(obj.status).phase) }),
});

const node = builtin({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  shortNames: ['no'],
  namespaced: false,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, resetStatusOnCreate: false, generationFrom: 'none' },
  selectableFields: (obj) => ({ 'spec.unschedulable': String(record(obj.spec).unschedulable === true) }),
});

const pod = builtin({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: {
    statusSubresource: true,
    generationFrom: 'none',
    defaultOnCreate(obj) {
      const spec = record(obj.spec);
      defaultPodSpec(spec);
      obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
    },
    gracePeriod: podGracePeriod,
  },
  validate: (obj) => validatePodSpec(obj.spec, 'spec'),
  validateUpdate: validatePodUpdate,
  subresources: { status: true, log: true },
  selectableFields: (obj) => {
    const spec = record(obj.spec);
    const status = record(obj.status);
    return {
      'spec.nodeName': str(spec.nodeName),
      'spec.restartPolicy': str(spec.restartPolicy),
      'spec.schedulerName': str(spec.schedulerName),
      'spec.serviceAccountName': str(spec.serviceAccountName),
      'spec.hostNetwork': String(spec.hostNetwork === true),
      'status.phase': str(status.phase),
      'status.podIP': str(status.podIP),
      'status.nominatedNodeName': str(status.nominatedNodeName),
    };
  },
});

/** Services get their ClusterIP from `clusterIPs`; see service.ts. */
function serviceResource(clusterIPs: ClusterIpAllocator): ResourceDef {
  const rules = serviceRules(clusterIPs);
  return builtin({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    shortNames: ['svc'],
    categories: ['all'],
    namespaced: true,
    nameRule: dnsLabelErrors,
    strategy: { statusSubresource: true, generationFrom: 'none', defaultOnCreate: rules.defaultOnCreate, keepOnUpdate: rules.keepOnUpdate },
    validate: rules.validate,
    validateUpdate: rules.validateUpdate,
  });
}

const secret = builtin({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: false, generationFrom: 'none', defaultOnCreate: (obj) => void (obj.type ??= 'Opaque') },
  validate: validateSecret,
  selectableFields: (obj) => ({ type: str(obj.type) }),
});

const configMap = builtin({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  shortNames: ['cm'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: false, generationFrom: 'none' },
  validate: validateConfigMap,
});

const serviceAccount = builtin({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  shortNames: ['sa'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: false, generationFrom: 'none' },
});

const event = builtin({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  shortNames: ['ev'],
  namespaced: true,
  nameRule: pathSegmentErrors,
  strategy: { statusSubresource: false, generationFrom: 'none' },
  validate: (obj) => (obj.involvedObject ? [] : [FieldErrors.required('involvedObject')]),
  selectableFields: (obj) => {
    const involved = record(obj.involvedObject);
    const source = record(obj.source);
    return {
      'involvedObject.kind': str(involved.kind),
      'involvedObject.namespace': str(involved.namespace),
      'involvedObject.name': str(involved.name),
      'involvedObject.uid': str(involved.uid),
      'involvedObject.apiVersion': str(involved.apiVersion),
      'involvedObject.resourceVersion': str(involved.resourceVersion),
      'involvedObject.fieldPath': str(involved.fieldPath),
      reason: str(obj.reason),
      reportingComponent: str(obj.reportingComponent),
      source: str(source.component),
      type: str(obj.type),
    };
  },
});

const deploymentScale: ScaleSubresource = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.status.selector',
};

function defaultWorkload(obj: KubeObject, withStrategy: boolean): void {
  const spec = record(obj.spec);
  spec.replicas ??= 1;
  if (withStrategy) {
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    const strategy = record(spec.strategy);
    // SetDefaults_Deployment: an empty type is RollingUpdate (kubectl create deployment sends `strategy: {}`).
    if (strategy.type === undefined || strategy.type === null || strategy.type === '') strategy.type = 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') strategy.rollingUpdate ??= { maxUnavailable: '25%', maxSurge: '25%' };
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  }
  const template = record(spec.template);
  const podSpec = record(template.spec);
  defaultPodSpec(podSpec);
}

const deployment = builtin({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, defaults: (obj) => defaultWorkload(obj, true) },
  validate: (obj) => validateWorkloadSpec(obj.spec),
  validateUpdate: (obj, old) => immutableSelector(obj, old),
  subresources: { status: true, scale: deploymentScale },
});

const replicaSet = builtin({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, defaults: (obj) => defaultWorkload(obj, false) },
  validate: (obj) => validateWorkloadSpec(obj.spec),
  validateUpdate: (obj, old) => immutableSelector(obj, old),
  subresources: { status: true, scale: deploymentScale },
});

const hpa = builtin({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  // ValidateHorizontalPodAutoscalerName is NameIsDNSSubdomain.
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true },
  validate: validateHpa,
});

const lease = builtin({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: false, generationFrom: 'none' },
});

const crd = builtin({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true },
  validate: validateCrdObject,
  // Defaults (singular, listKind) are filled on every write, as apiextensions' defaulting does.
  normalize: (obj) => {
    defaultCustomResourceDefinition(obj as CustomResourceDefinition);
    return [];
  },
  validateUpdate: (obj, old) => {
    const group = record(obj.spec).group;
    const oldGroup = record(old.spec).group;
    return group === oldGroup ? [] : [FieldErrors.invalid('spec.group', group, 'field is immutable')];
  },
});

export interface BuiltinOptions {
  /** Hands out Service ClusterIPs; the API server's sees the stored Services. */
  clusterIPs?: ClusterIpAllocator;
}

/** Every built-in kind; the API server passes an allocator that knows the stored Services. */
export function makeBuiltinResources(options: BuiltinOptions = {}): ResourceDef[] {
  const clusterIPs = options.clusterIPs ?? new ClusterIpAllocator(DEFAULT_SERVICE_CLUSTER_IP_RANGE, () => []);
  return [namespace, node, pod, serviceResource(clusterIPs), secret, configMap, serviceAccount, event, deployment, replicaSet, hpa, lease, crd, ...moreBuiltinResources()];
}

/**
 * The built-in kinds with an allocator that sees no stored Services: for stores in tests that do
 * not care whether two Services could draw the same ClusterIP.
 */
export const builtinResources: ResourceDef[] = makeBuiltinResources();

function validateStringMap(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  const map = record(value);
  if (map !== value) return [FieldErrors.invalid(field, value, 'must be a map of string to string')];
  return Object.entries(map)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k, v]) => FieldErrors.invalid(`${field}[${k}]`, v, 'must be a string'));
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(value: string): boolean {
  return value.length % 4 === 0 && BASE64.test(value);
}

/** ValidateConfigMap: string data, base64 binaryData, and no key in both. */
function validateConfigMap(obj: KubeObject): FieldError[] {
  const errors = validateStringMap(obj.data, 'data');
  errors.push(...validateStringMap(obj.binaryData, 'binaryData'));
  for (const [key, value] of Object.entries(record(obj.binaryData))) {
    if (typeof value === 'string' && !isBase64(value)) errors.push(FieldErrors.invalid(`binaryData[${key}]`, value, 'illegal base64 data'));
    if (key in record(obj.data)) errors.push(FieldErrors.invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  }
  return errors;
}

function validateSecret(obj: KubeObject): FieldError[] {
  const errors = validateStringMap(obj.data, 'data');
  for (const [key, value] of Object.entries(record(obj.data))) {
    if (typeof value === 'string' && !isBase64(value)) {
      errors.push(FieldErrors.invalid(`data[${key}]`, '<secret contents redacted>', 'illegal base64 data'));
    }
  }
  return [...errors, ...validateStringMap(obj.stringData, 'stringData')];
}

function validateHpa(obj: KubeObject): FieldError[] {
  const spec = record(obj.spec);
  const errors: FieldError[] = [];
  const target = record(spec.scaleTargetRef);
  if (!target.kind) errors.push(FieldErrors.required('spec.scaleTargetRef.kind'));
  if (!target.name) errors.push(FieldErrors.required('spec.scaleTargetRef.name'));
  const max = spec.maxReplicas;
  if (typeof max !== 'number' || max < 1) errors.push(FieldErrors.invalid('spec.maxReplicas', max ?? 0, 'must be greater than or equal to 1'));
  const min = spec.minReplicas ?? 1;
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    errors.push(FieldErrors.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  }
  return errors;
}
