// batch/v1 Job, apps/v1 DaemonSet and core/v1 PersistentVolumeClaim: defaults and validation as
// Kubernetes' pkg/apis/{batch,apps,core} do for the fields the embedded controllers read.
import type { KubeObject } from '../../api/meta.ts';
import { type FieldError, FieldErrors } from '../errors.ts';
import { builtinPatchSchemas } from '../patch/builtin-schemas.ts';
import type { PatchSchema } from '../patch/strategic-merge.ts';
import { AGE, at, column, CONTAINERS, IMAGES, list, num, orNone, selectorString, str, wide } from './builtin-columns.ts';
import { builtin, defaultPodSpec, immutableSelector, record } from './builtin-kind.ts';
import { validateWorkloadSpec } from './pod-validation.ts';
import { humanDuration } from '../rest/table.ts';
import type { ResourceDef } from './types.ts';
import { dnsSubdomainErrors } from './validation.ts';

/** Labels a Job puts on its pods and selects them by (batch/v1's generated selector). */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

function positiveInt(errors: FieldError[], field: string, value: unknown, min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 2147483647) {
    errors.push(FieldErrors.invalid(field, value, `must be an integer greater than or equal to ${min}`));
  }
}

// ---- Job -----------------------------------------------------------------------------------

/** Fills completions/parallelism/backoffLimit and, unless manualSelector, the generated selector. */
function defaultJob(obj: KubeObject): void {
  const spec = record(obj.spec);
  obj.spec = spec;
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatedOrFailed';
  const template = record(spec.template);
  spec.template = template;
  defaultPodSpec(record(template.spec));
}

/** Upstream's generateSelector, run once on create (the uid exists by then). */
function generateJobSelector(obj: KubeObject): void {
  const spec = record(obj.spec);
  if (spec.manualSelector === true) return;
  const uid = obj.metadata.uid!;
  const template = record(spec.template);
  const meta = record(template.metadata);
  meta.labels = { ...record(meta.labels), [JOB_CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: obj.metadata.name!, 'controller-uid': uid, 'job-name': obj.metadata.name! };
  template.metadata = meta;
  spec.selector ??= { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
}

function validateJob(obj: KubeObject): FieldError[] {
  const spec = record(obj.spec);
  const errors: FieldError[] = [];
  positiveInt(errors, 'spec.parallelism', spec.parallelism);
  positiveInt(errors, 'spec.completions', spec.completions);
  positiveInt(errors, 'spec.backoffLimit', spec.backoffLimit);
  positiveInt(errors, 'spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 1);
  positiveInt(errors, 'spec.ttlSecondsAfterFinished', spec.ttlSecondsAfterFinished);
  if (spec.completionMode !== undefined && spec.completionMode !== 'NonIndexed') {
    errors.push(FieldErrors.notSupported('spec.completionMode', spec.completionMode, ['NonIndexed']));
  }
  if (spec.suspend !== undefined && typeof spec.suspend !== 'boolean') errors.push(FieldErrors.invalid('spec.suspend', spec.suspend, 'must be a boolean'));
  const template = record(spec.template);
  if (spec.template === undefined) errors.push(FieldErrors.required('spec.template'));
  const restartPolicy = record(template.spec).restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    errors.push(FieldErrors.notSupported('spec.template.spec.restartPolicy', restartPolicy ?? '', ['OnFailure', 'Never']));
  }
  errors.push(...validateWorkloadSpec({ selector: spec.selector, template: spec.template }));
  return errors;
}

function validateJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errors = immutableSelector(obj, old);
  const spec = record(obj.spec);
  const oldSpec = record(old.spec);
  if (JSON.stringify(spec.template) !== JSON.stringify(oldSpec.template)) {
    errors.push(FieldErrors.invalid('spec.template', '', 'field is immutable'));
  }
  if (spec.completions !== oldSpec.completions) errors.push(FieldErrors.invalid('spec.completions', spec.completions ?? null, 'field is immutable'));
  return errors;
}

function conditionTrue(obj: KubeObject, type: string): boolean {
  return list(at(obj, 'status', 'conditions')).some((c) => at(c, 'type') === type && at(c, 'status') === 'True');
}

/** printJob's Status column (1.32): the terminal or current state. */
function jobStatus(job: KubeObject): string {
  if (conditionTrue(job, 'Failed')) return 'Failed';
  if (conditionTrue(job, 'Complete')) return 'Complete';
  if (conditionTrue(job, 'Suspended')) return 'Suspended';
  if (conditionTrue(job, 'FailureTarget')) return 'FailureTarget';
  if (conditionTrue(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobDuration(job: KubeObject, now: Date): string {
  const start = str(at(job, 'status', 'startTime'));
  if (!start) return '';
  const end = str(at(job, 'status', 'completionTime'));
  return humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

const jobColumns = [
  column('Status', 'string', jobStatus, { description: 'Status of the job.' }),
  column('Completions', 'string', (o) => {
    const completions = at(o, 'spec', 'completions');
    const succeeded = num(at(o, 'status', 'succeeded'));
    return typeof completions === 'number' ? `${succeeded}/${completions}` : `${succeeded}/1 of ${num(at(o, 'spec', 'parallelism'), 1)}`;
  }, { description: 'The desired number of successfully finished pods the job should be run with.' }),
  column('Duration', 'string', jobDuration, { description: 'Time required to complete the job.' }),
  AGE,
  CONTAINERS,
  IMAGES,
  wide('Selector', 'string', (o) => selectorString(at(o, 'spec', 'selector'), '<none>', '<error>'), 'The label selector of the job.'),
];

const podTemplatePatchSchema = (builtinPatchSchemas['apps/ReplicaSet']?.fields?.['spec']?.fields?.['template']) as PatchSchema;
const statusConditions = builtinPatchSchemas['apps/Deployment']?.fields?.['status'] as PatchSchema;
const objectMetaPatchSchema = builtinPatchSchemas['/Secret']?.fields?.['metadata'] as PatchSchema;

function workloadPatchSchema(specFields: Record<string, PatchSchema> = {}): PatchSchema {
  return { fields: { metadata: objectMetaPatchSchema, spec: { fields: { template: podTemplatePatchSchema, ...specFields } }, status: statusConditions } };
}

const job = (): ResourceDef =>
  builtin({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  categories: ['all'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, defaults: defaultJob, defaultOnCreate: generateJobSelector },
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  columns: jobColumns,
  patchSchema: workloadPatchSchema(),
  selectableFields: (obj) => ({ 'status.successful': String(num(at(obj, 'status', 'succeeded'))) }),
});

// ---- DaemonSet -----------------------------------------------------------------------------

function defaultDaemonSet(obj: KubeObject): void {
  const spec = record(obj.spec);
  obj.spec = spec;
  spec.updateStrategy ??= { type: 'RollingUpdate' };
  const strategy = record(spec.updateStrategy);
  if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 0, ...record(strategy.rollingUpdate) };
  spec.revisionHistoryLimit ??= 10;
  const template = record(spec.template);
  spec.template = template;
  defaultPodSpec(record(template.spec));
}

function validateDaemonSet(obj: KubeObject): FieldError[] {
  const spec = record(obj.spec);
  const errors = validateWorkloadSpec({ selector: spec.selector, template: spec.template });
  const restartPolicy = record(record(spec.template).spec).restartPolicy;
  if (restartPolicy !== 'Always') errors.push(FieldErrors.notSupported('spec.template.spec.restartPolicy', restartPolicy ?? '', ['Always']));
  const type = record(spec.updateStrategy).type;
  if (type !== 'RollingUpdate' && type !== 'OnDelete') errors.push(FieldErrors.notSupported('spec.updateStrategy.type', type ?? '', ['OnDelete', 'RollingUpdate']));
  const maxUnavailable = record(record(spec.updateStrategy).rollingUpdate).maxUnavailable;
  if (type === 'RollingUpdate' && !(typeof maxUnavailable === 'number' ? maxUnavailable >= 1 : typeof maxUnavailable === 'string' && /^[1-9]\d*%$/.test(maxUnavailable))) {
    errors.push(FieldErrors.invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', maxUnavailable ?? null, 'must be a positive integer or percentage'));
  }
  positiveInt(errors, 'spec.minReadySeconds', spec.minReadySeconds);
  return errors;
}

const daemonSetColumns = [
  column('Desired', 'integer', (o) => num(at(o, 'status', 'desiredNumberScheduled')), { description: 'The desired number of pods.' }),
  column('Current', 'integer', (o) => num(at(o, 'status', 'currentNumberScheduled')), { description: 'The current number of pods.' }),
  column('Ready', 'integer', (o) => num(at(o, 'status', 'numberReady')), { description: 'The number of pods ready.' }),
  column('Up-to-date', 'integer', (o) => num(at(o, 'status', 'updatedNumberScheduled')), { description: 'The number of pods updated.' }),
  column('Available', 'integer', (o) => num(at(o, 'status', 'numberAvailable')), { description: 'The number of pods available.' }),
  column('Node Selector', 'string', (o) => {
    const selector = at(o, 'spec', 'template', 'spec', 'nodeSelector');
    const pairs = Object.entries(typeof selector === 'object' && selector !== null ? selector : {}).map(([k, v]) => `${k}=${String(v)}`);
    return orNone(pairs.join(','));
  }, { description: 'The node selector of the daemonset.' }),
  AGE,
  CONTAINERS,
  IMAGES,
  wide('Selector', 'string', (o) => selectorString(at(o, 'spec', 'selector'), '<none>', '<error>'), 'The label selector of the daemonset.'),
];

const daemonSet = (): ResourceDef =>
  builtin({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, defaults: defaultDaemonSet },
  validate: validateDaemonSet,
  validateUpdate: immutableSelector,
  columns: daemonSetColumns,
  patchSchema: workloadPatchSchema({ updateStrategy: { strategy: 'retainKeys' } }),
});

// ---- PersistentVolumeClaim -------------------------------------------------------------------

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

function defaultPvc(obj: KubeObject): void {
  const spec = record(obj.spec);
  obj.spec = spec;
  spec.volumeMode ??= 'Filesystem';
}

function validatePvc(obj: KubeObject): FieldError[] {
  const spec = record(obj.spec);
  const errors: FieldError[] = [];
  const modes = spec.accessModes;
  if (!Array.isArray(modes) || modes.length === 0) errors.push(FieldErrors.required('spec.accessModes', 'at least 1 access mode is required'));
  else modes.forEach((m, i) => void (ACCESS_MODES.includes(m as string) || errors.push(FieldErrors.notSupported(`spec.accessModes[${i}]`, m, ACCESS_MODES))));
  const storage = record(record(spec.resources).requests).storage;
  if (storage === undefined) errors.push(FieldErrors.required('spec.resources.requests[storage]'));
  else if (!(typeof storage === 'string' && QUANTITY.test(storage)) && !(typeof storage === 'number' && storage > 0)) {
    errors.push(FieldErrors.invalid('spec.resources.requests[storage]', storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  } else if (typeof storage === 'string' && /^0+(\.0*)?[a-zA-Z]*$/.test(storage)) {
    errors.push(FieldErrors.invalid('spec.resources.requests[storage]', storage, 'must be greater than zero'));
  }
  if (spec.volumeMode !== 'Filesystem' && spec.volumeMode !== 'Block') errors.push(FieldErrors.notSupported('spec.volumeMode', spec.volumeMode, ['Block', 'Filesystem']));
  if (spec.storageClassName !== undefined && spec.storageClassName !== '' && typeof spec.storageClassName === 'string') {
    for (const m of dnsSubdomainErrors(spec.storageClassName)) errors.push(FieldErrors.invalid('spec.storageClassName', spec.storageClassName, m));
  }
  if (spec.selector !== undefined && typeof spec.selector !== 'object') errors.push(FieldErrors.invalid('spec.selector', spec.selector, 'must be a label selector'));
  return errors;
}

/** Everything but resources.requests (which may grow) and a volumeName set by the binder is fixed once created. */
function validatePvcUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const strip = (o: KubeObject): unknown => {
    const { resources: _resources, volumeName: _volumeName, ...rest } = record(o.spec);
    return rest;
  };
  if (JSON.stringify(strip(obj)) !== JSON.stringify(strip(old))) {
    return [FieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
  }
  const errors: FieldError[] = [];
  const oldVolume = record(old.spec).volumeName;
  if (oldVolume && record(obj.spec).volumeName !== oldVolume) errors.push(FieldErrors.invalid('spec.volumeName', record(obj.spec).volumeName ?? '', 'field is immutable once bound'));
  return errors;
}

const pvcColumns = [
  column('Status', 'string', (o) => str(at(o, 'status', 'phase')), { description: 'The phase of the claim.' }),
  column('Volume', 'string', (o) => str(at(o, 'spec', 'volumeName')), { description: 'The volume bound to the claim.' }),
  column('Capacity', 'string', (o) => str(at(o, 'status', 'capacity', 'storage')), { description: 'The capacity of the bound volume.' }),
  column('Access Modes', 'string', (o) => list(at(o, 'status', 'accessModes')).map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[str(m)] ?? str(m)).join(','), {
    description: 'The access modes of the bound volume.',
  }),
  column('StorageClass', 'string', (o) => str(at(o, 'spec', 'storageClassName')), { description: 'The storage class of the claim.' }),
  column('VolumeAttributesClass', 'string', (o) => orNone(str(at(o, 'spec', 'volumeAttributesClassName'))), { description: 'The volume attributes class of the claim.' }),
  AGE,
  wide('VolumeMode', 'string', (o) => str(at(o, 'spec', 'volumeMode')), 'The volume mode of the claim.'),
];

const persistentVolumeClaim = (): ResourceDef =>
  builtin({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  shortNames: ['pvc'],
  namespaced: true,
  nameRule: dnsSubdomainErrors,
  strategy: { statusSubresource: true, generationFrom: 'none', defaults: defaultPvc, defaultOnCreate: (obj) => void (obj.status = { phase: 'Pending' }) },
  validate: validatePvc,
  validateUpdate: validatePvcUpdate,
  columns: pvcColumns,
  patchSchema: { fields: { metadata: objectMetaPatchSchema, status: statusConditions } },
});

export function workloadResources(): ResourceDef[] {
  return [job(), daemonSet(), persistentVolumeClaim()];
}
