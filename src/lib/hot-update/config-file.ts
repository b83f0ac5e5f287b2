// Sedna's hot-update config file (lib.md §9.4, control-plane §2.3.7): the LC writes
// `{"model_config": {"model_path": "/model-hot-update/<file>", "model_update_time": "<time>"}}`
// beside the model it deployed; an inference worker reloads when `model_update_time` changes.
// The file is replaced by a rename, so a reader never sees half of it.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { writeStreamAtomically } from '../file-ops/atomic.ts';

export const HOT_UPDATE_CONFIG_FILE = 'model_config.json';
/** Where Sedna mounts the node's hot-update folder in the inference container. */
export const HOT_UPDATE_MOUNT = '/model-hot-update';

/** One deployed model: where it is and its version (Sedna's `model_update_time`). */
export interface HotUpdateConfig {
  modelPath: string;
  updateTime: string;
}

/** A config file that cannot be used; the message names the field. */
export class HotUpdateConfigError extends Error {
  override readonly name = 'HotUpdateConfigError';
}

export function encodeHotUpdateConfig(config: HotUpdateConfig): string {
  return JSON.stringify({ model_config: { model_path: config.modelPath, model_update_time: config.updateTime } }, null, 4);
}

export function parseHotUpdateConfig(text: string): HotUpdateConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new HotUpdateConfigError(`the hot-update config is not JSON: ${(err as Error).message}`);
  }
  const section = (parsed as { model_config?: unknown } | null)?.model_config;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new HotUpdateConfigError('the hot-update config has no model_config object');
  const { model_path: modelPath, model_update_time: updateTime } = section as Record<string, unknown>;
  if (typeof modelPath !== 'string' || modelPath === '') throw new HotUpdateConfigError('model_config.model_path must be a non-empty string');
  if (typeof updateTime !== 'string' || updateTime === '') throw new HotUpdateConfigError('model_config.model_update_time must be a non-empty string');
  return { modelPath, updateTime };
}

/** The config at `path`, or undefined when there is none yet (Sedna skips that poll). */
export async function readHotUpdateConfig(path: string): Promise<HotUpdateConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseHotUpdateConfig(text);
}

/** Writes the config by a rename in the same folder. */
export function writeHotUpdateConfig(path: string, config: HotUpdateConfig): Promise<void> {
  return writeStreamAtomically(Readable.from([encodeHotUpdateConfig(config)]), path);
}

/**
 * The worker's local path of a config's `model_path`. The path is written as the container sees it
 * (under `/model-hot-update`); a worker whose mounts are not real (the embedded kubelet's local
 * processes) finds the file beside its config file instead.
 */
export function localModelPath(modelPath: string, configPath: string, mount = HOT_UPDATE_MOUNT): string {
  if (modelPath === mount || modelPath.startsWith(`${mount}/`)) {
    const configDir = dirname(configPath);
    if (configDir !== mount) return join(configDir, modelPath.slice(mount.length));
  }
  return modelPath;
}
