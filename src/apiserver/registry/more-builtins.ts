// The kinds a cluster install needs beyond what the embedded system started with: Job, DaemonSet,
// PersistentVolumeClaim, the RBAC kinds and the authentication/authorization reviews. Built on
// demand, since they are made with builtins.ts's helpers and builtins.ts lists them.
import { rbacResources } from './rbac-kinds.ts';
import type { ResourceDef } from './types.ts';
import { workloadResources } from './workload-kinds.ts';

export function moreBuiltinResources(): ResourceDef[] {
  return [...workloadResources(), ...rbacResources()];
}
