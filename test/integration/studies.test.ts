// The two studies at a tiny scale (one seed, a few hundred images, one epoch or round), run as
// users run them: the result files they write have the documented shape, the README section is
// replaced in place, and the plot is an SVG. The full studies are not part of `npm test`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { StudyResults } from '../../examples/joint-inference/study-report.ts';
import type { FlStudyResults } from '../../examples/federated-learning/study-report.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

async function study(script: string, args: string[]): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 << 20 });
}

describe('the studies write their result files (tiny runs)', { timeout: 600_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sedna-studies-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('joint inference: per-seed figures, filters chosen on validation, baselines, per class, bootstrap, plot', async () => {
    const readme = join(dir, 'JI.md');
    copyFileSync(join(ROOT, 'examples/joint-inference/README.md'), readme);
    await study('examples/joint-inference/study.ts', ['--seeds', '1', '--train-images', '500', '--edge-max-epochs', '1', '--cloud-max-epochs', '1', '--resamples', '50', '--results-dir', dir, '--readme', readme]);
    const r = JSON.parse(readFileSync(join(dir, 'joint-inference-study.json'), 'utf8')) as StudyResults;
    assert.equal(r.thresholdSelectedOn, 'validation');
    assert.deepEqual(r.scale.seeds, [1]);
    assert.equal(r.scale.fullScale, false);
    assert.deepEqual(Object.keys(r.summary.methods).sort(), ['CrossEntropy', 'IBT', 'Threshold']);
    for (const key of ['edgeAccuracy', 'cloudAccuracy'] as const) assert.ok(r.summary[key].mean > 0.1 && r.summary[key].mean <= 1);
    assert.equal(r.summary.perClass.length, 10);
    const seed = r.seeds[0]!;
    assert.ok(seed.bootstrap95.jointAccuracy.low <= seed.methods['CrossEntropy']!.test.jointAccuracy && seed.methods['CrossEntropy']!.test.jointAccuracy <= seed.bootstrap95.jointAccuracy.high);
    assert.ok(['Random', 'Oracle', 'CrossEntropy', 'Threshold'].every((m) => seed.curves[m]!.length > 2));
    assert.ok(r.summary.oracleAtSameShare.jointAccuracy.mean >= r.summary.randomAtSameShare.jointAccuracy.mean);
    assert.equal(typeof r.summary.targetMet, 'boolean');
    assert.match(readFileSync(join(dir, 'joint-inference-study.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\n$/);
    const text = readFileSync(readme, 'utf8');
    assert.equal(text.split('<!-- study:joint-inference:start').length, 2, 'one section, replaced in place');
    assert.match(text, /\| CrossEntropy \(/);
  });

  it('federated learning: every α × strategy cell with its gap, the tuned learning rates, the per-round curve', async () => {
    const readme = join(dir, 'FL.md');
    copyFileSync(join(ROOT, 'examples/federated-learning/README.md'), readme);
    await study('examples/federated-learning/study.ts', ['--alphas', '0.5,inf', '--seeds', '1', '--train-images', '300', '--rounds', '2', '--learning-rates', '0.1', '--batch-size', '32', '--validation-images', '2000', '--results-dir', dir, '--readme', readme]);
    const r = JSON.parse(readFileSync(join(dir, 'federated-learning-study.json'), 'utf8')) as FlStudyResults & { partial?: boolean };
    assert.equal(r.partial, undefined);
    assert.deepEqual(r.scale.alphas, ['0.5', 'Infinity']);
    assert.equal(r.table.length, 2 * 4);
    assert.deepEqual([...new Set(r.table.map((t) => t.strategy))], ['FedAvg', 'FedAvgM', 'FedProx', 'FedAdam']);
    for (const c of r.cells) assert.ok(Math.abs(c.gap - (r.centralized[0]!.testAccuracy - c.testAccuracy)) < 1e-12);
    assert.equal(r.curves.length, 4, 'one curve per strategy at α = 0.5');
    assert.ok(r.curves.every((c) => c.testPerRound.length === 2));
    assert.equal(typeof r.target.met, 'boolean');
    assert.match(readFileSync(join(dir, 'federated-learning-study.svg'), 'utf8'), /^<svg/);
    assert.match(readFileSync(readme, 'utf8'), /\| best on validation \|/);
  });

  it('federated learning: --best-round keeps each run\'s best round (epoch) on validation, recorded per cell, and is not merged with last-round files', async () => {
    const readme = join(dir, 'FL-best.md');
    copyFileSync(join(ROOT, 'examples/federated-learning/README.md'), readme);
    const out = join(dir, 'best');
    await study('examples/federated-learning/study.ts', ['--alphas', '0.5', '--seeds', '1', '--train-images', '300', '--rounds', '3', '--learning-rates', '0.1', '--batch-size', '32', '--validation-images', '500', '--best-round', '--part', 'best', '--results-dir', out, '--readme', readme]);
    const r = JSON.parse(readFileSync(join(out, 'federated-learning-study-best.json'), 'utf8')) as FlStudyResults;
    assert.equal(r.scale.roundChosenOnValidation, true);
    for (const c of r.cells) assert.ok(Number.isInteger(c.round) && c.round! >= 1 && c.round! <= 3, `${c.strategy} kept round ${c.round}`);
    const epoch = r.centralized[0]!.epoch!;
    assert.ok(Number.isInteger(epoch) && epoch >= 1 && epoch <= 3);
    assert.match(r.command, /--best-round/);
    assert.match(readFileSync(readme, 'utf8'), /keeps its best round/);
    const last = JSON.parse(readFileSync(join(dir, 'federated-learning-study.json'), 'utf8')) as FlStudyResults;
    const lastFile = join(dir, 'last.json');
    writeFileSync(lastFile, JSON.stringify({ ...last, scale: { ...r.scale, seeds: [2], roundChosenOnValidation: false }, cells: last.cells.map((c) => ({ ...c, seed: 2 })) }));
    await assert.rejects(study('examples/federated-learning/study.ts', ['--merge', `${join(out, 'federated-learning-study-best.json')},${lastFile}`, '--results-dir', out, '--readme', readme]), /has roundChosenOnValidation false/);
  });

  it('federated learning: --merge combines runs over other seeds of the same scale, and refuses another scale', async () => {
    // A second process's file for seed 2 (the first run's figures moved to seed 2 and shifted).
    const first = JSON.parse(readFileSync(join(dir, 'federated-learning-study.json'), 'utf8')) as FlStudyResults;
    const reseed = <T extends { seed: number }>(rows: T[]): T[] => rows.map((row) => ({ ...row, seed: 2 }));
    const second: FlStudyResults = { ...first, scale: { ...first.scale, seeds: [2] }, cells: reseed(first.cells).map((c) => ({ ...c, gap: c.gap + 0.02 })), centralized: reseed(first.centralized), curves: reseed(first.curves) };
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, JSON.stringify(first));
    writeFileSync(b, JSON.stringify(second));
    const out = join(dir, 'merged');
    const readme = join(dir, 'FL.md');
    await study('examples/federated-learning/study.ts', ['--merge', `${a},${b}`, '--results-dir', out, '--readme', readme]);
    const m = JSON.parse(readFileSync(join(out, 'federated-learning-study.json'), 'utf8')) as FlStudyResults;
    assert.deepEqual(m.scale.seeds, [1, 2]);
    assert.equal(m.mergedFrom, 2);
    assert.equal(m.cells.length, 2 * first.cells.length);
    const fedAvg = (r: FlStudyResults) => r.table.find((t) => t.alpha === '0.5' && t.strategy === 'FedAvg')!;
    assert.ok(Math.abs(fedAvg(m).gap.mean - (fedAvg(first).gap.mean + 0.01)) < 1e-12, 'the mean over both seeds');
    assert.match(m.command, /--seeds 1,2 /);
    assert.match(readFileSync(readme, 'utf8'), /summed over 2 processes/);
    writeFileSync(b, JSON.stringify({ ...second, scale: { ...second.scale, rounds: 3 } }));
    await assert.rejects(study('examples/federated-learning/study.ts', ['--merge', `${a},${b}`, '--results-dir', out, '--readme', readme]), /has rounds 3/);
    await assert.rejects(study('examples/federated-learning/study.ts', ['--merge', `${a},${a}`, '--results-dir', out, '--readme', readme]), /a seed appears in more than one file/);
  });

  it('federated learning: --merge combines runs over other α into one table, a --part of its own, and refuses gaps or a different baseline', async () => {
    // A process that ran α = 0.1 for seed 1 (the first run's cells moved to α = 0.1).
    const first = JSON.parse(readFileSync(join(dir, 'federated-learning-study.json'), 'utf8')) as FlStudyResults;
    const otherAlpha: FlStudyResults = { ...first, scale: { ...first.scale, alphas: ['0.1'] }, cells: first.cells.filter((c) => c.alpha === 0.5).map((c) => ({ ...c, alpha: 0.1 })), curves: [] };
    const a = join(dir, 'alpha-a.json');
    const c = join(dir, 'alpha-c.json');
    writeFileSync(a, JSON.stringify(first));
    writeFileSync(c, JSON.stringify(otherAlpha));
    const out = join(dir, 'by-alpha');
    const readme = join(dir, 'FL-parts.md');
    copyFileSync(join(ROOT, 'examples/federated-learning/README.md'), readme);
    await study('examples/federated-learning/study.ts', ['--merge', `${c},${a}`, '--part', 'tiny', '--results-dir', out, '--readme', readme]);
    const m = JSON.parse(readFileSync(join(out, 'federated-learning-study-tiny.json'), 'utf8')) as FlStudyResults;
    assert.deepEqual(m.scale.alphas, ['0.1', '0.5', 'Infinity']);
    assert.equal(m.centralized.length, 1, 'the seed\'s baseline once');
    assert.equal(m.table.length, 3 * 4);
    assert.match(m.command, /--alphas 0\.1,0\.5,inf .* --part tiny$/);
    const text = readFileSync(readme, 'utf8');
    assert.equal(text.split('<!-- study:federated-learning:tiny:start').length, 2, 'its own section');
    assert.match(text, /!\[test accuracy per round\]\(study-tiny\.svg\)/);
    assert.match(readFileSync(join(dir, 'study-tiny.svg'), 'utf8'), /^<svg/);
    // A run without α = 0.5 kept no per-round curve: no plot, and the section says why.
    await study('examples/federated-learning/study.ts', ['--merge', c, '--part', 'no-curve', '--results-dir', out, '--readme', readme]);
    assert.equal(existsSync(join(out, 'federated-learning-study-no-curve.svg')), false);
    assert.match(readFileSync(readme, 'utf8'), /No per-round plot/);
    // α = 0.1 for seed 2 is missing: the table would mix seeds, so it is refused.
    const seed2 = join(dir, 'alpha-seed2.json');
    writeFileSync(seed2, JSON.stringify({ ...first, scale: { ...first.scale, seeds: [2] }, cells: first.cells.map((x) => ({ ...x, seed: 2 })), centralized: first.centralized.map((x) => ({ ...x, seed: 2 })), curves: [] }));
    await assert.rejects(study('examples/federated-learning/study.ts', ['--merge', `${a},${c},${seed2}`, '--results-dir', out, '--readme', readme]), /missing α 0\.1 seed 2/);
    const otherBaseline = join(dir, 'alpha-baseline.json');
    writeFileSync(otherBaseline, JSON.stringify({ ...otherAlpha, centralized: first.centralized.map((x) => ({ ...x, testAccuracy: x.testAccuracy + 0.01 })) }));
    await assert.rejects(study('examples/federated-learning/study.ts', ['--merge', `${a},${otherBaseline}`, '--results-dir', out, '--readme', readme]), /another centralized baseline for seed 1/);
  });
});
