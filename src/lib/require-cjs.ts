// CommonJS packages on the LocalController's path (pino, ws, better-sqlite3, commander) are loaded
// with require() rather than through the ESM loader: wrapping a CommonJS module for `import` keeps
// about 1 MB more resident per package, and the LC's idle memory is a measured target (≤ 60 MB,
// bench/lc: 60.7 MB with import, 57.3 MB with require). Types still come from `typeof import(...)`.
import { createRequire } from 'node:module';

export const requireCjs = createRequire(import.meta.url);
