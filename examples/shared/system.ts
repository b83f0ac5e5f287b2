// What every scenario runner needs from the embedded system: `sedna up` running under a data dir
// with the nodes the scenario uses, a kubeconfig, its resources.yaml rendered and applied, and the
// closing lines that say the system is still up.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { isAlive, readUpState } from '../../src/up/state.ts';

const SEDNA_CLI = resolve(import.meta.dirname, '../../bin/sedna.js');

/** The nodes a runner starts when it starts the system: enough for every example. */
export const EXAMPLE_NODES = ['cloud', 'edge-1', 'edge-2', 'edge-3'];

/**
 * Starts `sedna up --detach` under dataDir with EXAMPLE_NODES unless it is running already; a
 * running system that lacks a node the scenario needs is an error that says what to do.
 */
export async function ensureSystemUp(dataDir: string, needs: readonly string[], log: (line: string) => void): Promise<void> {
  const state = readUpState(dataDir);
  if (state && isAlive(state.apiserver.pid, resolve(dataDir))) {
    const running = state.lcs.map((lc) => lc.node ?? lc.name.replace(/^lc\//, ''));
    const missing = needs.filter((node) => !running.includes(node));
    if (missing.length > 0) {
      throw new Error(`the system under ${dataDir} runs nodes ${running.join(', ')} but this example needs ${missing.join(', ')}: stop it with 'npx sedna down --data-dir ${dataDir}' (the runner then starts ${EXAMPLE_NODES.join(', ')}), or pass another --data-dir`);
    }
    return;
  }
  log(`starting the embedded system under ${dataDir} (sedna up --detach --nodes ${EXAMPLE_NODES.join(',')})…`);
  const child = spawn(process.execPath, [SEDNA_CLI, 'up', '--detach', '--data-dir', dataDir, '--nodes', EXAMPLE_NODES.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`sedna up failed (exit ${code}):\n${output}`);
}

export function kubeConfigFor(dataDir: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(join(resolve(dataDir), 'kubeconfig'));
  return kc;
}

/** Fills resources.yaml's ${NAME} placeholders; a placeholder the runner does not set is an error. */
export function renderResources(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`resources.yaml uses \${${name}}, which the runner does not set`);
    return value;
  });
}

/** Creates each object, or replaces it when it exists (in namespace `default` unless it names one). */
export async function applyObjects(kc: k8s.KubeConfig, docs: readonly k8s.KubernetesObject[]): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const doc of docs) {
    const object = { ...doc, metadata: { namespace: 'default', ...doc.metadata } };
    try {
      const live = await api.read(object as k8s.KubernetesObject & { metadata: { name: string; namespace: string } });
      await api.replace({ ...object, metadata: { ...object.metadata, resourceVersion: live.metadata?.resourceVersion } });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await api.create(object);
    }
  }
}

/** A sedna.io/v1alpha1 object in namespace `default`. */
export interface SednaObjectRef {
  plural: string;
  name: string;
}

/**
 * Deletes a previous run's object (if there is one) with Foreground propagation and waits until it
 * is gone, its workers included, so every run starts clean.
 */
export async function deleteAndWait(kc: k8s.KubeConfig, { plural, name }: SednaObjectRef, timeoutMs = 60_000): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const target = { group: 'sedna.io', version: 'v1alpha1', namespace: 'default', plural, name };
  const isNotFound = (error: unknown): boolean => (error as { code?: number }).code === 404;
  try {
    await custom.deleteNamespacedCustomObject({ ...target, propagationPolicy: 'Foreground' });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await custom.getNamespacedCustomObject(target);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error(`${plural}/${name} was not deleted within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** The closing lines of a runner: how to look at the system, and how to stop it. */
export function stillUpMessage(dataDir: string, kinds: string): string {
  const dirArg = dataDir === '.sedna' ? '' : ` --data-dir ${dataDir}`;
  return ['', `The system is still up: export KUBECONFIG=${join(resolve(dataDir), 'kubeconfig')}; kubectl get ${kinds}`, `Stop it with: npx sedna down${dirArg}`, ''].join('\n');
}

/** Runs `main` when `file` is the program node was started with; a failure exits 1 with its stack. */
export function runIfMain(file: string, what: string, main: () => Promise<void>): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== resolve(file)) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${what} failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
