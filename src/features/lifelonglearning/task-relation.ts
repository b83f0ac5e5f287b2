// Task relationship discovery (lib.md §10.8, Sedna's `DefaultTaskRelationDiscover`): each task is
// its own group, with the task's samples. Groups are what get a model each.
import type { Task, TaskGroup } from './tasks.ts';

export type TaskRelationDiscovery = (tasks: readonly Task[]) => TaskGroup[];

export function defaultTaskRelationDiscover(): TaskRelationDiscovery {
  return (tasks) => tasks.map((task) => ({ entry: task.entry, tasks: [task], ...(task.samples ? { samples: task.samples } : {}), sample_count: task.sample_count }));
}
