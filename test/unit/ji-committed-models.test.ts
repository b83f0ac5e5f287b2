// The joint-inference example's committed models (examples/joint-inference/models), as train-models.ts
// recorded them: trained on the training split, epochs and threshold chosen on validation, and the
// figures in manifest.json reproduce from the saved files: the validation table the threshold was
// chosen from, and the test figures at that threshold (scored once, here re-scored to check the
// record). The target is checked on those test figures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadFashionMnist, selectRecords } from '../../examples/joint-inference/fashion-mnist.ts';
import { chooseThreshold, crossEntropyTable, TARGET, type OperatingPoint, type Predictions } from '../../examples/joint-inference/operating-points.ts';
import { PLANS, predictSaved } from '../../examples/joint-inference/training.ts';
import { holdOutValidation } from '../../examples/shared/validation-split.ts';

const MODELS = join(import.meta.dirname, '../../examples/joint-inference/models');

interface Manifest {
  dataset: { trainImages: number; validationImages: number; testImages: number; validationSeed: number };
  edge: { epochsChosenOnValidation: number; validationHistory: number[]; validationAccuracy: number; testAccuracy: number };
  cloud: { epochsChosenOnValidation: number; validationHistory: number[]; validationAccuracy: number; testAccuracy: number };
  hardExampleMining: { thresholdSelectedOn: string; validationTable: OperatingPoint[]; recommendedThreshold: number; target: typeof TARGET; test: { offloaded: number; jointAccuracy: number; recoveredGap: number } };
}

const manifest = JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8')) as Manifest;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4, `${what}: ${a} vs recorded ${b}`);

describe('the committed joint-inference models', () => {
  let validation: Predictions;
  let test: Predictions;
  before(async () => {
    const [all, testSet] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('test')]);
    const validationSet = selectRecords(all, holdOutValidation(all.count, manifest.dataset.validationImages, manifest.dataset.validationSeed).validation);
    const predict = async (data: typeof testSet): Promise<Predictions> => ({
      edge: await predictSaved(join(MODELS, 'edge'), data, PLANS.edge.inputShape),
      cloud: await predictSaved(join(MODELS, 'cloud/model.onnx'), data, PLANS.cloud.inputShape),
      labels: data.labels,
    });
    validation = await predict(validationSet);
    test = await predict(testSet);
  });

  it('were trained on 50,000 images with 10,000 held out for validation, epochs chosen there', () => {
    assert.deepEqual([manifest.dataset.trainImages, manifest.dataset.validationImages, manifest.dataset.testImages], [50_000, 10_000, 10_000]);
    for (const model of [manifest.edge, manifest.cloud]) {
      assert.equal(model.validationAccuracy, Math.max(...model.validationHistory));
      assert.equal(model.validationHistory.indexOf(model.validationAccuracy) + 1, model.epochsChosenOnValidation);
    }
  });

  it('the threshold is the validation rule applied to the validation table, which the saved models reproduce', () => {
    assert.equal(manifest.hardExampleMining.thresholdSelectedOn, 'validation');
    const table = crossEntropyTable(validation);
    table.forEach((row, i) => {
      const recorded = manifest.hardExampleMining.validationTable[i]!;
      close(row.offloaded, recorded.offloaded, `validation offloaded at ${row.threshold}`);
      close(row.jointAccuracy, recorded.jointAccuracy, `validation joint accuracy at ${row.threshold}`);
    });
    assert.equal(chooseThreshold(table).threshold, manifest.hardExampleMining.recommendedThreshold);
  });

  it('the recorded test figures reproduce, and the target is judged on them', () => {
    const [row] = crossEntropyTable(test, [manifest.hardExampleMining.recommendedThreshold]);
    const recorded = manifest.hardExampleMining.test;
    close(row!.offloaded, recorded.offloaded, 'test offloaded');
    close(row!.jointAccuracy, recorded.jointAccuracy, 'test joint accuracy');
    close(row!.recoveredGap, recorded.recoveredGap, 'test gap recovered');
    // A gap to recover (6.6 points with the committed models).
    assert.ok(manifest.cloud.testAccuracy > manifest.edge.testAccuracy + 0.03, 'a real gap between the models');
    const met = row!.recoveredGap >= TARGET.minRecoveredGap && row!.offloaded <= TARGET.maxOffloaded;
    assert.ok(met, `target (≥ ${TARGET.minRecoveredGap} of the gap at ≤ ${TARGET.maxOffloaded} offloaded) on test: ${row!.recoveredGap} at ${row!.offloaded}`);
  });
});
