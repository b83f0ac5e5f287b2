// Bundles the `sedna` command (src/cli/main.ts, each command a lazily loaded chunk) with
// @kubernetes/client-node into dist/cli-bundle/, run by `npm run build`; bin/sedna.js runs it when
// present. Why: a restarted GM or LC spends most of its recovery starting up, and most of that is
// loading some 1,500 small ES modules (client-node's generated API alone is ~1,000): one file per
// chunk halves the CPU time of the GM's imports (bench: 600 → 310 ms user CPU), which on a loaded
// machine is seconds. The other dependencies stay external: native ones (better-sqlite3,
// onnxruntime) must, and the rest are few files each.
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
/** The bundle's place: two levels under the root, as dist/cli is, so `../../package.json` and `../../deploy/` resolve the same. */
export const CLI_BUNDLE_DIR = resolve(root, 'dist/cli-bundle');
const BUNDLED = new Set(['@kubernetes/client-node']);

const { dependencies } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const external = Object.keys(dependencies).filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]);
// Built beside the live bundle and swapped in by renames: a component starting meanwhile (a
// running system's restart) never finds a half-written bundle.
const fresh = `${CLI_BUNDLE_DIR}.new-${process.pid}`;
const old = `${CLI_BUNDLE_DIR}.old-${process.pid}`;
const result = await build({
  entryPoints: { main: resolve(root, 'src/cli/main.ts') },
  outdir: fresh,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // client-node's CommonJS dependencies require Node built-ins; ESM has no `require` of its own.
  banner: { js: "import { createRequire as __sednaCreateRequire } from 'node:module'; const require = __sednaCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
if (existsSync(CLI_BUNDLE_DIR)) renameSync(CLI_BUNDLE_DIR, old);
renameSync(fresh, CLI_BUNDLE_DIR);
rmSync(old, { recursive: true, force: true });
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stdout.write(`sedna CLI bundle: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB\n`);
