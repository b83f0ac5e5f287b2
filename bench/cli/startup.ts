// Start-up cost of the GM's and the LC's code: how long a fresh Node process takes to import the
// `sedna gm` / `sedna lc` command modules (and the LC's kubelet, with @kubernetes/client-node) from
// the per-file build (dist/cli) against the bundle (dist/cli-bundle), alternating runs in this one
// process's children. Wall time on a shared machine is noise; the figure is the user+system CPU
// time of the import, which is what a restarted component spends before it can recover anything.
//   npm run build && node --import tsx bench/cli/startup.ts [--runs 7]
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

/** CPU ms a fresh process spends importing `files` (file URLs), in order. */
function importCpuMs(files: string[]): number {
  const script = `const t = process.cpuUsage(); for (const f of ${JSON.stringify(files)}) await import(f); const u = process.cpuUsage(t); process.stdout.write(String((u.user + u.system) / 1000));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
}

const chunk = (name: string): string => {
  const file = readdirSync(join(root, 'dist/cli-bundle')).find((f) => f.startsWith(`${name}-`) && f.endsWith('.js'));
  if (!file) throw new Error(`no ${name} chunk in dist/cli-bundle: run npm run build`);
  return `file://${join(root, 'dist/cli-bundle', file)}`;
};
const url = (path: string): string => `file://${join(root, path)}`;
const cases = {
  gm: { perFile: [url('dist/cli/gm.js')], bundle: [chunk('gm')] },
  'lc + kubelet': { perFile: [url('dist/cli/lc.js'), url('dist/lc/kubelet/kubelet.js')], bundle: [chunk('lc'), chunk('kubelet')] },
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, { perFile, bundle }] of Object.entries(cases)) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(importCpuMs(perFile));
    b.push(importCpuMs(bundle));
  }
  process.stdout.write(`${name}: import CPU per-file ${median(a).toFixed(0)} ms, bundle ${median(b).toFixed(0)} ms (median of ${runs}), ratio ${(median(b) / median(a)).toFixed(2)}\n`);
}
