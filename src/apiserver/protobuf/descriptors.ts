// Message descriptors for the Kubernetes protobuf bodies kubectl's typed subcommands send
// (create namespace|configmap|secret|serviceaccount|deployment|service, debug), written from the
// field numbers in the upstream generated.proto files (k8s.io/api core/v1 and apps/v1,
// k8s.io/apimachinery meta/v1, util/intstr, api/resource). Only what is listed here is decoded;
// any other field number is refused by the decoder rather than dropped.
//
// A message is a table `field number -> spec`, the spec being `jsonName:type` plus a modifier:
//   type      string (the default) | bytes | int32 | int64 | bool
//             | Time | MicroTime | IntOrString | Quantity | FieldsV1   (apimachinery special types)
//             | <Message>                                                (another table below)
//             | []<type>       repeated
//             | map<<type>>    map with string keys
//   `?`       a Go pointer (or optional struct): the value is kept even when it is the zero value
//   `!`       a Go field whose JSON tag has no omitempty: the zero value is kept
//   (neither) Go's omitempty: the zero value ("" / 0 / false) is left out, as Go's JSON would
// A jsonName of `...` is an embedded Go struct whose fields are inlined into the parent's JSON.
//
// gogo-protobuf writes every non-pointer scalar even when it is zero, so the omitempty rules above
// are what make the decoded JSON match what `kubectl create ... -o json` prints.

export type ScalarKind = 'string' | 'bytes' | 'int32' | 'int64' | 'bool';
export type SpecialKind = 'Time' | 'MicroTime' | 'IntOrString' | 'Quantity' | 'FieldsV1';

export type ValueType =
  | { kind: 'scalar'; scalar: ScalarKind }
  | { kind: 'special'; special: SpecialKind }
  | { kind: 'message'; message: string };

export interface FieldDescriptor {
  number: number;
  /** JSON name; empty for an inlined (embedded) struct. */
  name: string;
  inline: boolean;
  repeated: boolean;
  map: boolean;
  value: ValueType;
  /** Keep zero values (Go pointer, or JSON tag without omitempty). */
  keepZero: boolean;
}

export interface MessageDescriptor {
  /** Qualified for messages: "core/v1 Container". */
  name: string;
  fields: ReadonlyMap<number, FieldDescriptor>;
}

type Table = Readonly<Record<number, string>>;

const META_V1: Record<string, Table> = {
  ObjectMeta: {
    1: 'name', 2: 'generateName', 3: 'namespace', 4: 'selfLink', 5: 'uid', 6: 'resourceVersion',
    7: 'generation:int64', 8: 'creationTimestamp:Time', 9: 'deletionTimestamp:Time?',
    10: 'deletionGracePeriodSeconds:int64?', 11: 'labels:map<string>', 12: 'annotations:map<string>',
    13: 'ownerReferences:[]OwnerReference', 14: 'finalizers:[]string', 17: 'managedFields:[]ManagedFieldsEntry',
  },
  OwnerReference: {
    5: 'apiVersion!', 1: 'kind!', 3: 'name!', 4: 'uid!', 6: 'controller:bool?', 7: 'blockOwnerDeletion:bool?',
  },
  ManagedFieldsEntry: {
    1: 'manager', 2: 'operation', 3: 'apiVersion', 4: 'time:Time?', 6: 'fieldsType', 7: 'fieldsV1:FieldsV1?', 8: 'subresource',
  },
  LabelSelector: { 1: 'matchLabels:map<string>', 2: 'matchExpressions:[]LabelSelectorRequirement' },
  LabelSelectorRequirement: { 1: 'key!', 2: 'operator!', 3: 'values:[]string' },
  Condition: {
    1: 'type!', 2: 'status!', 3: 'observedGeneration:int64', 4: 'lastTransitionTime:Time!', 5: 'reason!', 6: 'message!',
  },
};

const CORE_V1: Record<string, Table> = {
  Namespace: { 1: 'metadata:ObjectMeta', 2: 'spec:NamespaceSpec', 3: 'status:NamespaceStatus' },
  NamespaceSpec: { 1: 'finalizers:[]string' },
  NamespaceStatus: { 1: 'phase', 2: 'conditions:[]NamespaceCondition' },
  NamespaceCondition: { 1: 'type!', 2: 'status!', 4: 'lastTransitionTime:Time', 5: 'reason', 6: 'message' },

  ConfigMap: { 1: 'metadata:ObjectMeta', 4: 'immutable:bool?', 2: 'data:map<string>', 3: 'binaryData:map<bytes>' },
  Secret: { 1: 'metadata:ObjectMeta', 5: 'immutable:bool?', 2: 'data:map<bytes>', 4: 'stringData:map<string>', 3: 'type' },
  ServiceAccount: {
    1: 'metadata:ObjectMeta', 2: 'secrets:[]ObjectReference', 3: 'imagePullSecrets:[]LocalObjectReference',
    4: 'automountServiceAccountToken:bool?',
  },
  ObjectReference: { 1: 'kind', 2: 'namespace', 3: 'name', 4: 'uid', 5: 'apiVersion', 6: 'resourceVersion', 7: 'fieldPath' },
  LocalObjectReference: { 1: 'name' },

  Pod: { 1: 'metadata:ObjectMeta', 2: 'spec:PodSpec', 3: 'status:PodStatus' },
  // Only the scalar part of a status: what a client sends when it creates a pod.
  PodStatus: {
    1: 'phase', 3: 'message', 4: 'reason', 5: 'hostIP', 6: 'podIP', 9: 'qosClass', 11: 'nominatedNodeName',
    14: 'resize', 17: 'observedGeneration:int64',
  },
  PodTemplateSpec: { 1: 'metadata:ObjectMeta', 2: 'spec:PodSpec' },
  PodSpec: {
    1: 'volumes:[]Volume', 20: 'initContainers:[]Container', 2: 'containers:[]Container', 3: 'restartPolicy',
    4: 'terminationGracePeriodSeconds:int64?', 5: 'activeDeadlineSeconds:int64?', 6: 'dnsPolicy',
    7: 'nodeSelector:map<string>', 8: 'serviceAccountName', 9: 'serviceAccount', 21: 'automountServiceAccountToken:bool?',
    10: 'nodeName', 11: 'hostNetwork:bool', 12: 'hostPID:bool', 13: 'hostIPC:bool', 27: 'shareProcessNamespace:bool?',
    14: 'securityContext:PodSecurityContext', 15: 'imagePullSecrets:[]LocalObjectReference', 16: 'hostname',
    17: 'subdomain', 19: 'schedulerName', 22: 'tolerations:[]Toleration', 23: 'hostAliases:[]HostAlias',
    24: 'priorityClassName', 25: 'priority:int32?', 26: 'dnsConfig:PodDNSConfig', 28: 'readinessGates:[]PodReadinessGate',
    29: 'runtimeClassName?', 30: 'enableServiceLinks:bool?', 31: 'preemptionPolicy?', 32: 'overhead:map<Quantity>',
    35: 'setHostnameAsFQDN:bool?', 36: 'os:PodOS', 37: 'hostUsers:bool?', 38: 'schedulingGates:[]PodSchedulingGate',
    40: 'resources:ResourceRequirements',
  },
  PodSecurityContext: {
    1: 'seLinuxOptions:SELinuxOptions', 2: 'runAsUser:int64?', 6: 'runAsGroup:int64?', 3: 'runAsNonRoot:bool?',
    4: 'supplementalGroups:[]int64', 12: 'supplementalGroupsPolicy?', 5: 'fsGroup:int64?', 7: 'sysctls:[]Sysctl',
    9: 'fsGroupChangePolicy?', 10: 'seccompProfile:SeccompProfile', 11: 'appArmorProfile:AppArmorProfile',
    13: 'seLinuxChangePolicy?',
  },
  SELinuxOptions: { 1: 'user', 2: 'role', 3: 'type', 4: 'level' },
  Sysctl: { 1: 'name!', 2: 'value!' },
  SeccompProfile: { 1: 'type!', 2: 'localhostProfile?' },
  AppArmorProfile: { 1: 'type!', 2: 'localhostProfile?' },
  PodOS: { 1: 'name!' },
  PodReadinessGate: { 1: 'conditionType!' },
  PodSchedulingGate: { 1: 'name!' },
  PodDNSConfig: { 1: 'nameservers:[]string', 2: 'searches:[]string', 3: 'options:[]PodDNSConfigOption' },
  PodDNSConfigOption: { 1: 'name', 2: 'value?' },
  HostAlias: { 1: 'ip!', 2: 'hostnames:[]string' },
  Toleration: { 1: 'key', 2: 'operator', 3: 'value', 4: 'effect', 5: 'tolerationSeconds:int64?' },

  Volume: { 1: 'name!', 2: '...:VolumeSource' },
  VolumeSource: {
    1: 'hostPath:HostPathVolumeSource', 2: 'emptyDir:EmptyDirVolumeSource', 6: 'secret:SecretVolumeSource',
    7: 'nfs:NFSVolumeSource', 10: 'persistentVolumeClaim:PersistentVolumeClaimVolumeSource',
    16: 'downwardAPI:DownwardAPIVolumeSource', 19: 'configMap:ConfigMapVolumeSource', 26: 'projected:ProjectedVolumeSource',
  },
  HostPathVolumeSource: { 1: 'path!', 2: 'type?' },
  EmptyDirVolumeSource: { 1: 'medium', 2: 'sizeLimit:Quantity' },
  SecretVolumeSource: { 1: 'secretName', 2: 'items:[]KeyToPath', 3: 'defaultMode:int32?', 4: 'optional:bool?' },
  NFSVolumeSource: { 1: 'server!', 2: 'path!', 3: 'readOnly:bool' },
  PersistentVolumeClaimVolumeSource: { 1: 'claimName!', 2: 'readOnly:bool' },
  DownwardAPIVolumeSource: { 1: 'items:[]DownwardAPIVolumeFile', 2: 'defaultMode:int32?' },
  DownwardAPIVolumeFile: {
    1: 'path!', 2: 'fieldRef:ObjectFieldSelector', 3: 'resourceFieldRef:ResourceFieldSelector', 4: 'mode:int32?',
  },
  ConfigMapVolumeSource: { 1: '...:LocalObjectReference', 2: 'items:[]KeyToPath', 3: 'defaultMode:int32?', 4: 'optional:bool?' },
  ProjectedVolumeSource: { 1: 'sources:[]VolumeProjection', 2: 'defaultMode:int32?' },
  VolumeProjection: {
    1: 'secret:SecretProjection', 2: 'downwardAPI:DownwardAPIProjection', 3: 'configMap:ConfigMapProjection',
    4: 'serviceAccountToken:ServiceAccountTokenProjection',
  },
  SecretProjection: { 1: '...:LocalObjectReference', 2: 'items:[]KeyToPath', 4: 'optional:bool?' },
  ConfigMapProjection: { 1: '...:LocalObjectReference', 2: 'items:[]KeyToPath', 4: 'optional:bool?' },
  DownwardAPIProjection: { 1: 'items:[]DownwardAPIVolumeFile' },
  ServiceAccountTokenProjection: { 1: 'audience', 2: 'expirationSeconds:int64?', 3: 'path!' },
  KeyToPath: { 1: 'key!', 2: 'path!', 3: 'mode:int32?' },

  Container: {
    1: 'name!', 2: 'image', 3: 'command:[]string', 4: 'args:[]string', 5: 'workingDir', 6: 'ports:[]ContainerPort',
    19: 'envFrom:[]EnvFromSource', 7: 'env:[]EnvVar', 8: 'resources:ResourceRequirements',
    23: 'resizePolicy:[]ContainerResizePolicy', 24: 'restartPolicy?', 9: 'volumeMounts:[]VolumeMount',
    21: 'volumeDevices:[]VolumeDevice', 10: 'livenessProbe:Probe', 11: 'readinessProbe:Probe', 22: 'startupProbe:Probe',
    12: 'lifecycle:Lifecycle', 13: 'terminationMessagePath', 20: 'terminationMessagePolicy', 14: 'imagePullPolicy',
    15: 'securityContext:SecurityContext', 16: 'stdin:bool', 17: 'stdinOnce:bool', 18: 'tty:bool',
  },
  ContainerPort: { 1: 'name', 2: 'hostPort:int32', 3: 'containerPort:int32!', 4: 'protocol', 5: 'hostIP' },
  ContainerResizePolicy: { 1: 'resourceName!', 2: 'restartPolicy!' },
  VolumeDevice: { 1: 'name!', 2: 'devicePath!' },
  EnvFromSource: { 1: 'prefix', 2: 'configMapRef:ConfigMapEnvSource', 3: 'secretRef:SecretEnvSource' },
  ConfigMapEnvSource: { 1: '...:LocalObjectReference', 2: 'optional:bool?' },
  SecretEnvSource: { 1: '...:LocalObjectReference', 2: 'optional:bool?' },
  EnvVar: { 1: 'name!', 2: 'value', 3: 'valueFrom:EnvVarSource' },
  EnvVarSource: {
    1: 'fieldRef:ObjectFieldSelector', 2: 'resourceFieldRef:ResourceFieldSelector',
    3: 'configMapKeyRef:ConfigMapKeySelector', 4: 'secretKeyRef:SecretKeySelector',
  },
  ObjectFieldSelector: { 1: 'apiVersion', 2: 'fieldPath!' },
  ResourceFieldSelector: { 1: 'containerName', 2: 'resource!', 3: 'divisor:Quantity' },
  ConfigMapKeySelector: { 1: '...:LocalObjectReference', 2: 'key!', 3: 'optional:bool?' },
  SecretKeySelector: { 1: '...:LocalObjectReference', 2: 'key!', 3: 'optional:bool?' },
  ResourceRequirements: { 1: 'limits:map<Quantity>', 2: 'requests:map<Quantity>', 3: 'claims:[]ResourceClaim' },
  ResourceClaim: { 1: 'name!', 2: 'request' },
  VolumeMount: {
    1: 'name!', 2: 'readOnly:bool', 7: 'recursiveReadOnly?', 3: 'mountPath!', 4: 'subPath', 5: 'mountPropagation?',
    6: 'subPathExpr',
  },
  SecurityContext: {
    1: 'capabilities:Capabilities', 2: 'privileged:bool?', 3: 'seLinuxOptions:SELinuxOptions', 4: 'runAsUser:int64?',
    8: 'runAsGroup:int64?', 5: 'runAsNonRoot:bool?', 6: 'readOnlyRootFilesystem:bool?', 7: 'allowPrivilegeEscalation:bool?',
    9: 'procMount?', 11: 'seccompProfile:SeccompProfile', 12: 'appArmorProfile:AppArmorProfile',
  },
  Capabilities: { 1: 'add:[]string', 2: 'drop:[]string' },
  Probe: {
    1: '...:ProbeHandler', 2: 'initialDelaySeconds:int32', 3: 'timeoutSeconds:int32', 4: 'periodSeconds:int32',
    5: 'successThreshold:int32', 6: 'failureThreshold:int32', 7: 'terminationGracePeriodSeconds:int64?',
  },
  ProbeHandler: { 1: 'exec:ExecAction', 2: 'httpGet:HTTPGetAction', 3: 'tcpSocket:TCPSocketAction', 4: 'grpc:GRPCAction' },
  Lifecycle: { 1: 'postStart:LifecycleHandler', 2: 'preStop:LifecycleHandler', 3: 'stopSignal?' },
  LifecycleHandler: { 1: 'exec:ExecAction', 2: 'httpGet:HTTPGetAction', 3: 'tcpSocket:TCPSocketAction', 4: 'sleep:SleepAction' },
  ExecAction: { 1: 'command:[]string' },
  HTTPGetAction: { 1: 'path', 2: 'port:IntOrString', 3: 'host', 4: 'scheme', 5: 'httpHeaders:[]HTTPHeader' },
  HTTPHeader: { 1: 'name!', 2: 'value!' },
  TCPSocketAction: { 1: 'port:IntOrString', 2: 'host' },
  GRPCAction: { 1: 'port:int32!', 2: 'service?' },
  SleepAction: { 1: 'seconds:int64!' },

  Service: { 1: 'metadata:ObjectMeta', 2: 'spec:ServiceSpec', 3: 'status:ServiceStatus' },
  ServiceSpec: {
    1: 'ports:[]ServicePort', 2: 'selector:map<string>', 3: 'clusterIP', 18: 'clusterIPs:[]string', 4: 'type',
    5: 'externalIPs:[]string', 7: 'sessionAffinity', 8: 'loadBalancerIP', 9: 'loadBalancerSourceRanges:[]string',
    10: 'externalName', 11: 'externalTrafficPolicy', 12: 'healthCheckNodePort:int32', 13: 'publishNotReadyAddresses:bool',
    14: 'sessionAffinityConfig:SessionAffinityConfig', 19: 'ipFamilies:[]string', 17: 'ipFamilyPolicy?',
    20: 'allocateLoadBalancerNodePorts:bool?', 21: 'loadBalancerClass?', 22: 'internalTrafficPolicy?',
    23: 'trafficDistribution?',
  },
  ServicePort: {
    1: 'name', 2: 'protocol', 6: 'appProtocol?', 3: 'port:int32!', 4: 'targetPort:IntOrString', 5: 'nodePort:int32',
  },
  SessionAffinityConfig: { 1: 'clientIP:ClientIPConfig' },
  ClientIPConfig: { 1: 'timeoutSeconds:int32?' },
  ServiceStatus: { 1: 'loadBalancer:LoadBalancerStatus', 2: 'conditions:[]Condition' },
  LoadBalancerStatus: { 1: 'ingress:[]LoadBalancerIngress' },
  LoadBalancerIngress: { 1: 'ip', 2: 'hostname', 3: 'ipMode?', 4: 'ports:[]PortStatus' },
  PortStatus: { 1: 'port:int32!', 2: 'protocol!', 3: 'error?' },
};

const APPS_V1: Record<string, Table> = {
  Deployment: { 1: 'metadata:ObjectMeta', 2: 'spec:DeploymentSpec', 3: 'status:DeploymentStatus' },
  DeploymentSpec: {
    1: 'replicas:int32?', 2: 'selector:LabelSelector', 3: 'template:PodTemplateSpec', 4: 'strategy:DeploymentStrategy',
    5: 'minReadySeconds:int32', 6: 'revisionHistoryLimit:int32?', 7: 'paused:bool', 9: 'progressDeadlineSeconds:int32?',
  },
  DeploymentStrategy: { 1: 'type', 2: 'rollingUpdate:RollingUpdateDeployment' },
  RollingUpdateDeployment: { 1: 'maxUnavailable:IntOrString', 2: 'maxSurge:IntOrString' },
  DeploymentStatus: {
    1: 'observedGeneration:int64', 2: 'replicas:int32', 3: 'updatedReplicas:int32', 7: 'readyReplicas:int32',
    4: 'availableReplicas:int32', 5: 'unavailableReplicas:int32', 6: 'conditions:[]DeploymentCondition',
    8: 'collisionCount:int32?',
  },
  DeploymentCondition: {
    1: 'type!', 2: 'status!', 6: 'lastUpdateTime:Time', 7: 'lastTransitionTime:Time', 4: 'reason', 5: 'message',
  },
};

const BATCH_V1: Record<string, Table> = {
  Job: { 1: 'metadata:ObjectMeta', 2: 'spec:JobSpec', 3: 'status:JobStatus' },
  JobSpec: {
    1: 'parallelism:int32?', 2: 'completions:int32?', 3: 'activeDeadlineSeconds:int64?', 7: 'backoffLimit:int32?',
    12: 'backoffLimitPerIndex:int32?', 13: 'maxFailedIndexes:int32?', 4: 'selector:LabelSelector', 5: 'manualSelector:bool?',
    6: 'template:PodTemplateSpec', 8: 'ttlSecondsAfterFinished:int32?', 9: 'completionMode?', 10: 'suspend:bool?',
    14: 'podReplacementPolicy?', 16: 'managedBy?',
  },
  JobStatus: {
    1: 'conditions:[]JobCondition', 2: 'startTime:Time?', 3: 'completionTime:Time?', 4: 'active:int32', 5: 'succeeded:int32',
    6: 'failed:int32', 11: 'terminating:int32?', 7: 'completedIndexes', 10: 'failedIndexes?', 9: 'ready:int32?',
  },
  JobCondition: { 1: 'type!', 2: 'status!', 3: 'lastProbeTime:Time', 4: 'lastTransitionTime:Time', 5: 'reason', 6: 'message' },
};

const AUTHENTICATION_V1: Record<string, Table> = {
  TokenRequest: { 1: 'metadata:ObjectMeta', 2: 'spec:TokenRequestSpec!', 3: 'status:TokenRequestStatus' },
  TokenRequestSpec: { 1: 'audiences:[]string!', 4: 'expirationSeconds:int64?', 3: 'boundObjectRef:BoundObjectReference?' },
  BoundObjectReference: { 1: 'kind', 2: 'apiVersion', 3: 'name', 4: 'uid' },
  TokenRequestStatus: { 1: 'token!', 2: 'expirationTimestamp:Time!' },
  SelfSubjectReview: { 1: 'metadata:ObjectMeta', 2: 'status:SelfSubjectReviewStatus' },
  SelfSubjectReviewStatus: { 1: 'userInfo:UserInfo' },
  UserInfo: { 1: 'username', 2: 'uid', 3: 'groups:[]string' },
};

const AUTHORIZATION_V1: Record<string, Table> = {
  SelfSubjectAccessReview: { 1: 'metadata:ObjectMeta', 2: 'spec:SelfSubjectAccessReviewSpec!', 3: 'status:SubjectAccessReviewStatus' },
  SelfSubjectAccessReviewSpec: { 1: 'resourceAttributes:ResourceAttributes?', 2: 'nonResourceAttributes:NonResourceAttributes?' },
  ResourceAttributes: { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' },
  NonResourceAttributes: { 1: 'path', 2: 'verb' },
  SubjectAccessReviewStatus: { 1: 'allowed:bool!', 4: 'denied:bool', 2: 'reason', 3: 'evaluationError' },
};

const RBAC_V1: Record<string, Table> = {
  Role: { 1: 'metadata:ObjectMeta', 2: 'rules:[]PolicyRule!' },
  ClusterRole: { 1: 'metadata:ObjectMeta', 2: 'rules:[]PolicyRule!', 3: 'aggregationRule:AggregationRule?' },
  PolicyRule: { 1: 'verbs:[]string!', 2: 'apiGroups:[]string', 3: 'resources:[]string', 4: 'resourceNames:[]string', 5: 'nonResourceURLs:[]string' },
  AggregationRule: { 1: 'clusterRoleSelectors:[]LabelSelector' },
  RoleBinding: { 1: 'metadata:ObjectMeta', 2: 'subjects:[]Subject', 3: 'roleRef:RoleRef!' },
  ClusterRoleBinding: { 1: 'metadata:ObjectMeta', 2: 'subjects:[]Subject', 3: 'roleRef:RoleRef!' },
  Subject: { 1: 'kind!', 2: 'apiGroup', 3: 'name!', 4: 'namespace' },
  RoleRef: { 1: 'apiGroup!', 2: 'kind!', 3: 'name!' },
};

/** Top-level kinds a protobuf body may carry, by apiVersion and kind. */
const KINDS: Readonly<Record<string, string>> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Pod': 'Pod',
  'v1/Service': 'Service',
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
};

const SCALARS = new Set<string>(['string', 'bytes', 'int32', 'int64', 'bool']);
const SPECIALS = new Set<string>(['Time', 'MicroTime', 'IntOrString', 'Quantity', 'FieldsV1']);
const SPEC_PATTERN = /^(\.\.\.|[A-Za-z][A-Za-z0-9]*)(?::(\[\])?(?:map<([A-Za-z0-9]+)>|([A-Za-z0-9]+)))?([?!])?$/;

function build(): Map<string, MessageDescriptor> {
  const packages: [string, Record<string, Table>][] = [
    ['meta/v1', META_V1],
    ['core/v1', CORE_V1],
    ['apps/v1', APPS_V1],
    ['batch/v1', BATCH_V1],
    ['authentication/v1', AUTHENTICATION_V1],
    ['authorization/v1', AUTHORIZATION_V1],
    ['rbac/v1', RBAC_V1],
  ];
  const tables = new Map<string, { pkg: string; table: Table }>();
  for (const [pkg, messages] of packages) {
    for (const [name, table] of Object.entries(messages)) {
      if (tables.has(name)) throw new Error(`protobuf descriptor ${name} is defined twice`);
      tables.set(name, { pkg, table });
    }
  }
  const out = new Map<string, MessageDescriptor>();
  for (const [name, { pkg, table }] of tables) {
    const fields = new Map<number, FieldDescriptor>();
    for (const [num, spec] of Object.entries(table)) {
      const m = SPEC_PATTERN.exec(spec);
      if (!m) throw new Error(`bad protobuf field spec ${JSON.stringify(spec)} in ${name}`);
      const [, jsonName, repeated, mapValue, plainType, modifier] = m;
      const typeName = mapValue ?? plainType ?? 'string';
      let value: ValueType;
      if (SCALARS.has(typeName)) value = { kind: 'scalar', scalar: typeName as ScalarKind };
      else if (SPECIALS.has(typeName)) value = { kind: 'special', special: typeName as SpecialKind };
      else if (tables.has(typeName)) value = { kind: 'message', message: typeName };
      else throw new Error(`protobuf field ${name}.${jsonName} refers to unknown type ${typeName}`);
      const inline = jsonName === '...';
      if (inline && value.kind !== 'message') throw new Error(`inlined protobuf field ${num} of ${name} must be a message`);
      fields.set(Number(num), {
        number: Number(num),
        name: inline ? '' : jsonName!,
        inline,
        repeated: repeated !== undefined,
        map: mapValue !== undefined,
        value,
        keepZero: modifier !== undefined,
      });
    }
    out.set(name, { name: `${pkg} ${name}`, fields });
  }
  return out;
}

const MESSAGES = build();

export function messageDescriptor(name: string): MessageDescriptor {
  const d = MESSAGES.get(name);
  if (!d) throw new Error(`no protobuf descriptor named ${name}`);
  return d;
}

/** The descriptor of a top-level object, or undefined when this server cannot decode that kind from protobuf. */
export function kindDescriptor(apiVersion: string, kind: string): MessageDescriptor | undefined {
  const name = KINDS[`${apiVersion}/${kind}`];
  return name === undefined ? undefined : messageDescriptor(name);
}

/** "v1/Pod", "apps/v1/Deployment", ...: the kinds accepted as protobuf, for messages. */
export function supportedKinds(): string[] {
  return Object.keys(KINDS);
}
