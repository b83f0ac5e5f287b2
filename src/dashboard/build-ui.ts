// Bundles the dashboard's pages (Preact + uPlot) into dist/dashboard-ui/app.js and app.css: run by
// `npm run build`, so the server needs no CDN and no network at run time.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { UI_DIR } from './assets.ts';

const result = await build({
  entryPoints: { app: resolve(import.meta.dirname, 'ui/main.tsx') },
  outdir: UI_DIR,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const sizes = Object.entries(result.metafile.outputs).map(([file, o]) => `${file.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
process.stdout.write(`dashboard UI: ${sizes.join(', ')}\n`);
