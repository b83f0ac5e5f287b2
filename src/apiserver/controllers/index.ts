// The in-process controllers the API server runs next to the store: garbage collection,
// namespace cleanup, and the apps/v1 workload controllers. (The CRD controller is started by the
// server itself, before anything else, so stored custom resources are servable at once.)
import type { Logger } from '../../lib/logger.ts';
import type { GenericStore } from '../registry/generic-store.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController } from './deployment-controller.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { JobController } from './job-controller.ts';
import { NamespaceController } from './namespace-controller.ts';
import { PvcBinder } from './pvc-binder.ts';
import { NodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle-controller.ts';
import { ReplicaSetController } from './replicaset-controller.ts';
import type { StoreController } from './store-controller.ts';

export interface RunningControllers {
  stop(): void;
  /**
   * Resolves once no controller has work left. Controllers feed each other (a Deployment's
   * ReplicaSet makes pods, whose deletion wakes the GC...), so this waits until a full round of
   * waiting saw no sync run anywhere. Delayed re-checks (addAfter timers) are not waited for.
   */
  idle(): Promise<void>;
}

export interface ControllerOptions {
  /** Where PersistentVolumeClaims get their host directories; without it claims stay Pending. */
  volumeDir?: string;
  /** The node-lifecycle controller's settings; false leaves it out. */
  nodeLifecycle?: NodeLifecycleOptions | false;
}

export function startControllers(store: GenericStore, log: Logger, options: ControllerOptions = {}): RunningControllers {
  const controllers: StoreController[] = [
    new GarbageCollector(store, log.child({ controller: 'garbage-collector' })),
    new NamespaceController(store, log.child({ controller: 'namespace' })),
    new ReplicaSetController(store, log.child({ controller: 'replicaset' })),
    new DeploymentController(store, log.child({ controller: 'deployment' })),
    new JobController(store, log.child({ controller: 'job' })),
    new DaemonSetController(store, log.child({ controller: 'daemonset' })),
    ...(options.volumeDir ? [new PvcBinder(store, log.child({ controller: 'persistentvolumeclaim' }), options.volumeDir)] : []),
  ];
  for (const controller of controllers) controller.start();
  const nodeLifecycle = options.nodeLifecycle === false ? undefined : new NodeLifecycleController(store, log.child({ controller: 'node-lifecycle' }), options.nodeLifecycle);
  nodeLifecycle?.start();
  const syncs = (): number => controllers.reduce((n, c) => n + c.syncCount(), 0);
  return {
    stop() {
      nodeLifecycle?.stop();
      for (const controller of controllers) controller.stop();
    },
    async idle() {
      for (;;) {
        const before = syncs();
        await Promise.all(controllers.map((c) => c.idle()));
        if (syncs() === before) return;
      }
    },
  };
}
