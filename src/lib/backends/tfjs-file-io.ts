// Saves and loads tfjs LayersModels on disk without tfjs-node, in the layout tfjs-node writes:
// <dir>/model.json (topology + weightsManifest) and <dir>/weights.bin.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tfCore from '@tensorflow/tfjs-core';
import * as tfLayers from '@tensorflow/tfjs-layers';
import { MODEL_JSON, WEIGHTS_BIN } from './model-files.ts';

export { MODEL_JSON, WEIGHTS_BIN } from './model-files.ts';


/** The model.json document (tfjs's ModelJSON, built by hand: 4.22 does not export the helper). */
function modelJsonFor(artifacts: tfCore.io.ModelArtifacts): tfCore.io.ModelJSON {
  if (!artifacts.modelTopology || !artifacts.weightSpecs) {
    throw new Error('saveLayersModel: the model produced no topology or weight specs');
  }
  const modelJson: tfCore.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfLayers.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  return modelJson;
}

function weightBytes(artifacts: tfCore.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(Array.isArray(data) ? tfCore.io.CompositeArrayBuffer.join(data) : data);
}

/** Captures what `model.save` would send to an IO handler. */
async function captureArtifacts(model: tfLayers.LayersModel): Promise<tfCore.io.ModelArtifacts> {
  let captured: tfCore.io.ModelArtifacts | undefined;
  await model.save(
    tfCore.io.withSaveHandler((artifacts) => {
      captured = artifacts;
      return Promise.resolve({ modelArtifactsInfo: tfCore.io.getModelArtifactsInfoForJSON(artifacts) });
    }),
  );
  if (!captured) throw new Error('saveLayersModel: tfjs did not hand over the model artifacts');
  return captured;
}

/**
 * Writes `model` to folder `dir` atomically: everything goes to a sibling temp folder that
 * replaces `dir` by rename, so readers never see a half-written model.
 */
export async function saveLayersModel(model: tfLayers.LayersModel, dir: string): Promise<void> {
  const artifacts = await captureArtifacts(model);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const tempDir = join(parent, `.${basename(dir)}.tmp-${suffix}`);
  await mkdir(tempDir);
  try {
    await writeFile(join(tempDir, WEIGHTS_BIN), weightBytes(artifacts));
    await writeFile(join(tempDir, MODEL_JSON), JSON.stringify(modelJsonFor(artifacts)));
    await replaceDir(tempDir, dir, join(parent, `.${basename(dir)}.old-${suffix}`));
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * rename() cannot replace a non-empty folder, so the old one is moved aside first. Writers that
 * share a disk (several workers saving the same model folder on one machine) may race: a writer
 * that finds the target taken again retries, so the last complete model wins and none fails.
 */
async function replaceDir(source: string, target: string, aside: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const moved = await rename(target, aside).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    try {
      await rename(source, target);
      if (moved) await rm(aside, { recursive: true, force: true });
      return;
    } catch (error) {
      if (moved) await rm(aside, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= 5) throw error;
    }
  }
}

/** The model's JSON file and the folder its weight paths are relative to, from either one. */
export function modelJsonLocation(path: string): { folder: string; jsonPath: string } {
  if (path.endsWith('.json')) return { folder: dirname(path), jsonPath: path };
  return { folder: path, jsonPath: join(path, MODEL_JSON) };
}

async function readModelJson(jsonPath: string): Promise<tfCore.io.ModelJSON> {
  const text = await readFile(jsonPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`loadLayersModel: cannot read ${jsonPath}: ${error.code ?? error.message}`);
  });
  try {
    const parsed = JSON.parse(text) as tfCore.io.ModelJSON;
    if (typeof parsed.modelTopology !== 'object' || parsed.modelTopology === null) throw new Error('no modelTopology');
    return parsed;
  } catch (error) {
    throw new Error(`loadLayersModel: ${jsonPath} is not a tfjs model.json (${(error as Error).message})`);
  }
}

async function readWeights(folder: string, manifest: tfCore.io.WeightsManifestConfig): Promise<ArrayBuffer> {
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    for (const relativePath of group.paths) {
      const bytes = await readFile(join(folder, relativePath));
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  return tfCore.io.CompositeArrayBuffer.join(buffers);
}

/** Loads a LayersModel saved by saveLayersModel (or tfjs-node) from a folder or its model.json. */
export async function loadLayersModel(path: string): Promise<tfLayers.LayersModel> {
  const { folder, jsonPath } = modelJsonLocation(path);
  const modelJson = await readModelJson(jsonPath);
  const artifacts = await tfCore.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const weightSpecs = manifest.flatMap((group) => group.weights);
    return [weightSpecs, await readWeights(folder, manifest)];
  });
  return tfLayers.loadLayersModel(tfCore.io.fromMemory(artifacts));
}
