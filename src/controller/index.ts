// The controller runtime the GlobalManager and the feature controllers build on.
export {
  asKubeClient,
  type CallOptions,
  type DeleteOptions,
  type KubeClient,
  type ListOptions,
  objectPath,
  type ObjectRef,
  type PatchType,
  type ResourceRef,
  RestKubeClient,
} from './client.ts';
export { type CancelTimer, type Clock, dateOf, realClock, sleepOn } from '../lib/clock.ts';
export { findCondition, isTrue, removeCondition, rfc3339, setCondition } from '../api/conditions.ts';
export {
  Controller,
  type ControllerMetrics,
  type ControllerOptions,
  formatKey,
  type KeyMapper,
  type ObjectKey,
  objectKey,
  parseKey,
  type ReconcileOutcome,
  type Reconciler,
  type Result,
  TerminalError,
} from './controller.ts';
export { type CoreEvent, EventRecorder, type EventRecorderOptions, type EventType } from './events.ts';
export { type InformerOptions, type InformerStats, resourcePath, SharedInformer } from './informer.ts';
export { type InformerDefaults, type InformerRequest, type InformerSource, SharedInformerFactory } from './informer-factory.ts';
export { type Lease, type LeaseSpec, type LeaderCallbacks, LeaderElector, type LeaderElectionOptions, microTime } from './leader-election.ts';
export { prometheusControllerMetrics } from './metrics.ts';
export { controllerRef, getControllerOf, type GroupVersionKind, groupOf, isControlledBy } from './owner.ts';
export { ApiError, isApiError, requestJson, type RequestOptions } from './rest.ts';
export { type AddHandler, type DeleteHandler, type Informer, keyOf, type Lister, ObjectStore, type UpdateHandler } from './store.ts';
export { type Handler, WorkQueue, type WorkQueueOptions } from '../lib/work-queue.ts';
