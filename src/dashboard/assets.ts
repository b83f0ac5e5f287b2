// The pages' files, bundled at build time by build-ui.ts into dist/dashboard-ui/ (no CDN, nothing
// fetched at run time), read once when the server starts.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const UI_DIR = resolve(import.meta.dirname, '../../dist/dashboard-ui');

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
export const ASSET_NAMES = ['app.js', 'app.css'] as const;

export function loadAssets(dir = UI_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of ASSET_NAMES) {
    const file = resolve(dir, name);
    if (!existsSync(file)) throw new Error(`the dashboard's pages are not built (${file} is missing); run npm run build`);
    assets.set(name, { body: readFileSync(file), type: TYPES[name.split('.').pop()!]! });
  }
  return assets;
}

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sedna dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;

export const REFUSED_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sedna dashboard: sign in</title><link rel="icon" href="data:,"></head>
<body><h1>Sedna dashboard</h1><p>Open the link with the token that <code>sedna up</code> printed (also in DATA_DIR/up.json's dashboard entry and DATA_DIR/dashboard-token).</p></body></html>
`;
