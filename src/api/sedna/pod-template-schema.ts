// The structural schema of core/v1 PodTemplateSpec as Sedna's CRDs embed it, typed where a wrong
// type would break the pod the GM creates from it: containers (name, image, command, args, env,
// ports, resources, volume mounts, probes), volumes, restart policy. Written from the Go types of
// core/v1 (no npm package here carries Kubernetes' published OpenAPI document offline); fields not
// listed are kept as they are (x-kubernetes-preserve-unknown-fields), so nothing a user writes is
// pruned. The typed subset keeps every Sedna CRD far below the 256 KiB last-applied annotation
// limit of client-side `kubectl apply`, which the full PodSpec inlined at each template would not.
import type { JSONSchemaProps } from '../meta.ts';
import { array, int32, intOrString, object, opaqueObject, string, stringEnum, stringMap } from './schema.ts';

/** An object whose listed fields are typed and whose other fields are kept untouched. */
function openObject(properties: Record<string, JSONSchemaProps>, required: string[] = [], description?: string): JSONSchemaProps {
  return { ...object(properties, required, description), 'x-kubernetes-preserve-unknown-fields': true };
}

const quantities = (description: string): JSONSchemaProps => ({
  type: 'object',
  additionalProperties: intOrString(),
  description,
});

const envVar = openObject(
  {
    name: string('Name of the environment variable.'),
    value: string('Value of the variable; a string.'),
    valueFrom: opaqueObject('Source for the value (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef).'),
  },
  ['name'],
);

const containerPort = openObject(
  {
    containerPort: { ...int32('Port number on the container, 1-65535.'), minimum: 1, maximum: 65535 },
    hostPort: { ...int32('Port number on the host, 1-65535.'), minimum: 0, maximum: 65535 },
    name: string('IANA service name of the port.'),
    protocol: stringEnum(['TCP', 'UDP', 'SCTP'], 'Protocol of the port.'),
    hostIP: string(),
  },
  ['containerPort'],
);

const handlerPort = intOrString('Number (1-65535) or name of the port.');

const probe = openObject(
  {
    exec: openObject({ command: array(string()) }),
    httpGet: openObject({ path: string(), port: handlerPort, host: string(), scheme: stringEnum(['HTTP', 'HTTPS']) }, ['port']),
    tcpSocket: openObject({ port: handlerPort, host: string() }, ['port']),
    grpc: openObject({ port: int32(), service: string() }, ['port']),
    initialDelaySeconds: int32(),
    timeoutSeconds: int32(),
    periodSeconds: int32(),
    successThreshold: int32(),
    failureThreshold: int32(),
    terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
  },
  [],
  'core/v1 Probe.',
);

const container = openObject(
  {
    name: string('Name of the container, a DNS-1123 label.'),
    image: string('Container image.'),
    command: array(string(), 'Entrypoint array; a list of strings.'),
    args: array(string(), 'Arguments to the entrypoint; a list of strings.'),
    workingDir: string(),
    env: array(envVar, 'Environment variables.'),
    envFrom: array(opaqueObject()),
    ports: array(containerPort, 'Ports exposed by the container.'),
    resources: openObject({ limits: quantities('Most compute resources allowed.'), requests: quantities('Least compute resources required.') }),
    volumeMounts: array(openObject({ name: string(), mountPath: string(), readOnly: { type: 'boolean' }, subPath: string() }, ['name', 'mountPath'])),
    imagePullPolicy: stringEnum(['Always', 'Never', 'IfNotPresent']),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
  },
  ['name'],
  'core/v1 Container.',
);

const podSpec = openObject(
  {
    containers: array(container, 'The containers of the pod.'),
    initContainers: array(container),
    volumes: array(openObject({ name: string('Name of the volume, a DNS-1123 label.') }, ['name'])),
    restartPolicy: stringEnum(['Always', 'OnFailure', 'Never']),
    nodeName: string(),
    nodeSelector: stringMap(),
    serviceAccountName: string(),
    hostNetwork: { type: 'boolean' },
    terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
    activeDeadlineSeconds: { type: 'integer', format: 'int64' },
  },
  [],
  'core/v1 PodSpec of the worker pods.',
);

/** core/v1 PodTemplateSpec: labels and annotations kept (Sedna's own CRDs prune them), spec typed. */
export const typedPodTemplateSchema: JSONSchemaProps = opaqueObject('Pod template of the worker (core/v1 PodTemplateSpec).', {
  metadata: opaqueObject('Labels and annotations for the worker pods.', { labels: stringMap(), annotations: stringMap() }),
  spec: podSpec,
});
