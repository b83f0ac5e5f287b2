// .tar.gz through node-tar (src/lib/file-ops/tar.ts, what the SDK uses) against the system `tar`
// binary it replaced, on the same model folder in the same run: pack and extract wall time, median
// of several rounds, as ratios (node-tar / system tar; above 1 means node-tar is slower).
//
//   npm run bench:lib-tar     (BENCH_TAR_MB for the folder size, BENCH_TAR_ROUNDS for the rounds)
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { extractTarGz, packTarGz } from '../../src/lib/file-ops/tar.ts';
import { median } from '../apiserver/stats.ts';

const run = promisify(execFile);
const MB = Number(process.env.BENCH_TAR_MB ?? 32);
const ROUNDS = Number(process.env.BENCH_TAR_ROUNDS ?? 5);
const FILES = 16;

/** A model-like folder: weight shards of random floats (incompressible, as trained weights are) and a JSON. */
function modelFolder(root: string): string {
  const dir = join(root, 'model');
  mkdirSync(dir);
  const shard = Buffer.alloc(Math.floor((MB * 1024 * 1024) / FILES));
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `group1-shard${i + 1}of${FILES}.bin`), randomFillSync(shard));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', weightsManifest: [] }));
  return dir;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const root = mkdtempSync(join(tmpdir(), 'bench-tar-'));
try {
  const folder = modelFolder(root);
  const times = { libPack: [] as number[], sysPack: [] as number[], libExtract: [] as number[], sysExtract: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const out = (name: string): string => {
      const dir = join(root, `${name}-${round}`);
      mkdirSync(dir);
      return dir;
    };
    // Alternate which goes first so neither always gets the warmer page cache.
    const steps = [
      async () => times.libPack.push(await timed(() => packTarGz(folder))),
      async () => times.sysPack.push(await timed(() => run('tar', ['-czf', join(root, 'sys.tar.gz'), '-C', root, 'model']))),
    ];
    for (const step of round % 2 ? steps.reverse() : steps) await step();
    const libOut = out('lib');
    const sysOut = out('sys');
    const extracts = [
      async () => times.libExtract.push(await timed(() => extractTarGz(`${folder}.tar.gz`, libOut))),
      async () => times.sysExtract.push(await timed(() => run('tar', ['-xzf', join(root, 'sys.tar.gz'), '-C', sysOut]))),
    ];
    for (const step of round % 2 ? extracts.reverse() : extracts) await step();
    rmSync(libOut, { recursive: true });
    rmSync(sysOut, { recursive: true });
  }
  const [lp, sp, le, se] = [median(times.libPack), median(times.sysPack), median(times.libExtract), median(times.sysExtract)];
  console.log(`${MB} MB model folder (${FILES} shards), median of ${ROUNDS} rounds`);
  console.log(`pack    node-tar ${lp.toFixed(0)} ms, system tar ${sp.toFixed(0)} ms, ratio ${(lp / sp).toFixed(2)}`);
  console.log(`extract node-tar ${le.toFixed(0)} ms, system tar ${se.toFixed(0)} ms, ratio ${(le / se).toFixed(2)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
