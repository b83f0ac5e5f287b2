// Deployment conditions with upstream's update rules, and the progress deadline they report on.
import type { Condition } from '../../../api/meta.ts';
import { nowTimestamp } from '../../registry/generic-store.ts';
import type { DeploymentStatus } from '../../../api/workloads.ts';
import type { StoredDeploymentSpec } from './rollout.ts';

/** progressDeadlineSeconds meaning "no deadline". */
const NO_DEADLINE = 2147483647;

export function hasProgressDeadline(spec: StoredDeploymentSpec): boolean {
  return spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== NO_DEADLINE;
}

export function condition(type: string, status: Condition['status'], reason: string, message: string): Condition {
  const now = nowTimestamp();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function findCondition(status: DeploymentStatus, type: string): Condition | undefined {
  return (status.conditions ?? []).find((c) => c.type === type);
}

/** Upstream's SetDeploymentCondition: same status and reason is no change; same status keeps the transition time. */
export function setCondition(status: DeploymentStatus, next: Condition): void {
  const current = findCondition(status, next.type);
  if (current && current.status === next.status && current.reason === next.reason) return;
  if (current && current.status === next.status) next.lastTransitionTime = current.lastTransitionTime!;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== next.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}
