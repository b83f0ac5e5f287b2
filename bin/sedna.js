#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` through the package's prepare script): the bundle
// (dist/cli-bundle: each command one chunk with @kubernetes/client-node, so a restarted GM or LC
// spends about half the CPU starting up; bench/cli/startup.ts) when the build made it, else the
// per-file build (dist/cli).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli-bundle/main.js', import.meta.url);
const perFile = new URL('../dist/cli/main.js', import.meta.url);
const main = existsSync(fileURLToPath(bundle)) ? bundle : perFile;
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('sedna: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}
await import(main.href);
