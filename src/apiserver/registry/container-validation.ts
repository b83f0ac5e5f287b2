// The container and volume fields Kubernetes' ValidatePodSpec checks, with the Go types they
// decode into: a port is an int32 from 1 to 65535 (never "80"), a command is a list of strings, an
// env value is a string, a quantity parses, a probe has exactly one handler. Each error names the
// field as kube-apiserver does (spec.containers[0].ports[0].containerPort).
import { type FieldError, FieldErrors } from '../errors.ts';
import { dnsLabelErrors } from './validation.ts';

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const PULL_POLICIES = ['Always', 'Never', 'IfNotPresent'];
/** resource.Quantity's text form: a signed decimal with an optional binary, decimal or exponent suffix. */
const QUANTITY_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
/** validation.IsValidPortName: IANA_SVC_NAME. */
const PORT_NAME_RE = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function stringListErrors(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [FieldErrors.typeInvalid(field, value, 'must be a list of strings')];
  return value.flatMap((v, i) => (typeof v === 'string' ? [] : [FieldErrors.typeInvalid(`${field}[${i}]`, v, 'must be a string')]));
}

function listOf(value: unknown, field: string, each: (item: Obj, at: string) => FieldError[]): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [FieldErrors.typeInvalid(field, value, 'must be a list')];
  return value.flatMap((item, i) => {
    const at = `${field}[${i}]`;
    return isObj(item) ? each(item, at) : [FieldErrors.typeInvalid(at, item, 'must be an object')];
  });
}

function intErrors(value: unknown, field: string, min: number, max: number, required = false): FieldError[] {
  if (value === undefined || value === null) return required ? [FieldErrors.required(field)] : [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [FieldErrors.typeInvalid(field, value, 'must be an integer')];
  if (value < min || value > max) return [FieldErrors.invalid(field, value, `must be between ${min} and ${max}, inclusive`)];
  return [];
}

function stringErrors(value: unknown, field: string, required = false): FieldError[] {
  if (value === undefined || value === null) return required ? [FieldErrors.required(field)] : [];
  if (typeof value !== 'string') return [FieldErrors.typeInvalid(field, value, 'must be a string')];
  if (required && value === '') return [FieldErrors.required(field)];
  return [];
}

function enumErrors(value: unknown, field: string, allowed: string[]): FieldError[] {
  if (value === undefined || value === null) return [];
  return allowed.includes(value as string) ? [] : [FieldErrors.notSupported(field, value, allowed)];
}

/** An IntOrString port: a number 1-65535, or an IANA service name. */
function portRefErrors(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [FieldErrors.required(field)];
  if (typeof value === 'number') return intErrors(value, field, 1, 65535);
  if (typeof value === 'string' && value.length <= 15 && PORT_NAME_RE.test(value)) return [];
  return [FieldErrors.invalid(field, value, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), or be a number between 1 and 65535')];
}

function portErrors(port: Obj, at: string): FieldError[] {
  return [
    ...intErrors(port.containerPort, `${at}.containerPort`, 1, 65535, true),
    ...intErrors(port.hostPort, `${at}.hostPort`, 0, 65535),
    ...enumErrors(port.protocol, `${at}.protocol`, PROTOCOLS),
    ...(port.name === undefined ? [] : typeof port.name === 'string' && port.name.length <= 15 && PORT_NAME_RE.test(port.name) ? [] : [FieldErrors.invalid(`${at}.name`, port.name, 'must be an IANA_SVC_NAME (at most 15 characters, a-z, 0-9 and -)')]),
  ];
}

function envErrors(env: Obj, at: string): FieldError[] {
  const errors = stringErrors(env.name, `${at}.name`, true);
  if (typeof env.name === 'string' && env.name.includes('=')) errors.push(FieldErrors.invalid(`${at}.name`, env.name, "a valid environment variable name must not contain '='"));
  errors.push(...stringErrors(env.value, `${at}.value`));
  if (env.valueFrom !== undefined && !isObj(env.valueFrom)) errors.push(FieldErrors.typeInvalid(`${at}.valueFrom`, env.valueFrom, 'must be an object'));
  if (env.value !== undefined && env.value !== '' && env.valueFrom !== undefined) {
    errors.push(FieldErrors.invalid(`${at}.valueFrom`, '', 'may not be specified when `value` is not empty'));
  }
  return errors;
}

function quantityMapErrors(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!isObj(value)) return [FieldErrors.typeInvalid(field, value, 'must be a map of resource name to quantity')];
  return Object.entries(value).flatMap(([name, q]) => {
    const text = typeof q === 'number' ? String(q) : q;
    if (typeof text === 'string' && QUANTITY_RE.test(text)) return [];
    return [FieldErrors.invalid(`${field}[${name}]`, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  });
}

function resourcesErrors(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!isObj(value)) return [FieldErrors.typeInvalid(field, value, 'must be an object')];
  return [...quantityMapErrors(value.limits, `${field}.limits`), ...quantityMapErrors(value.requests, `${field}.requests`)];
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

function probeErrors(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!isObj(value)) return [FieldErrors.typeInvalid(field, value, 'must be an object')];
  const errors = [
    ...intErrors(value.initialDelaySeconds, `${field}.initialDelaySeconds`, 0, 2 ** 31 - 1),
    ...intErrors(value.timeoutSeconds, `${field}.timeoutSeconds`, 0, 2 ** 31 - 1),
    ...intErrors(value.periodSeconds, `${field}.periodSeconds`, 0, 2 ** 31 - 1),
    ...intErrors(value.successThreshold, `${field}.successThreshold`, 0, 2 ** 31 - 1),
    ...intErrors(value.failureThreshold, `${field}.failureThreshold`, 0, 2 ** 31 - 1),
  ];
  const handlers = PROBE_HANDLERS.filter((h) => value[h] !== undefined && value[h] !== null);
  if (handlers.length === 0) errors.push(FieldErrors.required(field, 'must specify a handler type'));
  if (handlers.length > 1) errors.push(FieldErrors.forbidden(`${field}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  if (value.exec !== undefined) {
    if (!isObj(value.exec)) errors.push(FieldErrors.typeInvalid(`${field}.exec`, value.exec, 'must be an object'));
    else errors.push(...stringListErrors(value.exec.command, `${field}.exec.command`));
  }
  for (const h of ['httpGet', 'tcpSocket', 'grpc']) {
    const handler = value[h];
    if (handler === undefined) continue;
    if (!isObj(handler)) errors.push(FieldErrors.typeInvalid(`${field}.${h}`, handler, 'must be an object'));
    else if (h === 'grpc') errors.push(...intErrors(handler.port, `${field}.grpc.port`, 1, 65535, true));
    else errors.push(...portRefErrors(handler.port, `${field}.${h}.port`));
  }
  return errors;
}

function volumeMountErrors(mount: Obj, at: string): FieldError[] {
  return [...stringErrors(mount.name, `${at}.name`, true), ...stringErrors(mount.mountPath, `${at}.mountPath`, true)];
}

/** Every field of one container that Kubernetes types or checks, past its name and image. */
export function containerFieldErrors(container: Obj, at: string): FieldError[] {
  return [
    ...stringListErrors(container.command, `${at}.command`),
    ...stringListErrors(container.args, `${at}.args`),
    ...stringErrors(container.workingDir, `${at}.workingDir`),
    ...listOf(container.ports, `${at}.ports`, portErrors),
    ...listOf(container.env, `${at}.env`, envErrors),
    ...listOf(container.envFrom, `${at}.envFrom`, () => []),
    ...resourcesErrors(container.resources, `${at}.resources`),
    ...listOf(container.volumeMounts, `${at}.volumeMounts`, volumeMountErrors),
    ...probeErrors(container.livenessProbe, `${at}.livenessProbe`),
    ...probeErrors(container.readinessProbe, `${at}.readinessProbe`),
    ...probeErrors(container.startupProbe, `${at}.startupProbe`),
    ...enumErrors(container.imagePullPolicy, `${at}.imagePullPolicy`, PULL_POLICIES),
  ];
}

/** spec.volumes: a list of named volumes, names DNS labels and unique. */
export function volumesErrors(value: unknown, field: string): FieldError[] {
  const seen = new Set<string>();
  return listOf(value, field, (volume, at) => {
    const errors = stringErrors(volume.name, `${at}.name`, true);
    if (typeof volume.name === 'string' && volume.name !== '') {
      for (const m of dnsLabelErrors(volume.name)) errors.push(FieldErrors.invalid(`${at}.name`, volume.name, m));
      if (seen.has(volume.name)) errors.push(FieldErrors.duplicate(`${at}.name`, volume.name));
      seen.add(volume.name);
    }
    return errors;
  });
}
