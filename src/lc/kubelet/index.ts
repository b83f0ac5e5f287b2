// The embedded kubelet of the LocalController: runs the pods bound to its node as local processes.
export { Kubelet, type KubeletMetrics, type KubeletOptions } from './kubelet.ts';
export { containerEnv, ContainerConfigError, expand, fieldValue, type KeyLookup } from './env.ts';
export { containerArgv, DEFAULT_IMAGE_RUNTIMES, defaultImageRuntimes, type ImageRuntime, type ImageRuntimes, imageName, PROJECT_ROOT, resolveImage, SEDNA_CLI } from './images.ts';
export { NODE_LEASE_NAMESPACE, NodeAgent, nodeConditions } from './node.ts';
export { type BackoffOptions, mapMountPaths, podDir, podLogPath, portEnv, PodWorker } from './pod-worker.ts';
export { allocateHostPorts, freePort, HOST_PORTS_ANNOTATION } from './ports.ts';
export { computePodStatus, type ContainerProcessState, containerID, LOCAL_IP, podStatusFor, type PodStatusOptions, type TerminationRecord } from './status.ts';
export type * from '../../api/workloads.ts';
