// The import boundaries of eslint.config.js hold for the whole tree: every import specifier of
// src/ (static, re-export and dynamic import()) resolved to a path, checked against the table; no
// module imports itself round a circle; and the lint rule built from the table does flag a
// crossing, so `npm run lint` enforces it too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Linter } from 'eslint';

interface Boundary {
  from: string;
  forbidden: string[];
  why: string;
}

const ROOT = resolve(import.meta.dirname, '../..');
const config = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as {
  IMPORT_BOUNDARIES: Boundary[];
  importBoundaryConfigs: Linter.Config[];
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER_PATTERNS = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];

/** The repo-relative paths a file imports by relative specifier. */
function importedPaths(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = SPECIFIER_PATTERNS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

const within = (path: string, area: string): boolean => path === area || path.startsWith(`${area}/`);

describe('import boundaries', () => {
  it('no file of src/ imports a folder its component may not import', () => {
    const crossings: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const from = relative(ROOT, file);
      for (const boundary of config.IMPORT_BOUNDARIES.filter((b) => within(from, b.from))) {
        for (const target of importedPaths(file)) {
          const dir = boundary.forbidden.find((area) => within(target, area));
          if (dir) crossings.push(`${from} imports ${target} (${boundary.why})`);
        }
      }
    }
    assert.deepEqual(crossings, []);
  });

  it('no module of src/ reaches itself through its imports (type-only and dynamic ones included)', () => {
    const graph = new Map(sourceFiles(join(ROOT, 'src')).map((file) => [relative(ROOT, file), importedPaths(file)]));
    const cycles: string[] = [];
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (module: string): void => {
      path.push(module);
      for (const next of graph.get(module) ?? []) {
        const at = path.indexOf(next);
        if (at >= 0) cycles.push([...path.slice(at), next].join(' -> '));
        else if (!done.has(next)) visit(next);
      }
      path.pop();
      done.add(module);
    };
    for (const module of graph.keys()) if (!done.has(module)) visit(module);
    assert.deepEqual(cycles, []);
  });

  it('the table names paths that exist, so a rename cannot void a rule', () => {
    const missing = config.IMPORT_BOUNDARIES.flatMap(({ from, forbidden }) => [from, ...forbidden]).filter((path) => !existsSync(join(ROOT, path)));
    assert.deepEqual(missing, []);
  });

  it('the lint rule flags a forbidden import and lets an allowed one through', () => {
    const linter = new Linter({ configType: 'flat', cwd: ROOT });
    const cases: [file: string, code: string, flagged: boolean][] = [
      ['src/lc/gm-link.ts', "import { x } from '../gm/gm.ts';", true],
      ['src/lc/kubelet/kubelet.ts', "export { x } from '../../gm/edge-hub/index.ts';", true],
      ['src/lc/gm-link.ts', "import { x } from '../edgelink/client.ts';", false],
      ['src/controller/store.ts', "import { x } from '../apiserver/selectors/labels.ts';", true],
      ['src/controller/store.ts', "import { x } from '../api/selectors/labels.ts';", false],
      ['src/apiserver/controllers/store-controller.ts', "import { x } from '../../controller/work-queue.ts';", true],
      ['src/apiserver/controllers/store-controller.ts', "import { x } from '../../lib/work-queue.ts';", false],
      ['src/apiserver/controllers/store-controller.ts', "import { x } from './controller-ref.ts';", false],
      ['src/lib/estimator.ts', "import { x } from '../lc/lc.ts';", true],
      ['src/worker.ts', "import { x } from './gm/gm.ts';", true],
      ['src/worker.ts', "import { x } from './features/jointinference/worker.ts';", false],
      ['src/api/sedna/model.ts', "import { x } from '../../lib/logger.ts';", true],
    ];
    for (const [file, code, flagged] of cases) {
      const messages = linter.verify(code, config.importBoundaryConfigs, { filename: join(ROOT, file) });
      assert.equal(messages.some((m) => m.ruleId === 'no-restricted-imports'), flagged, `${file}: ${code} → ${JSON.stringify(messages)}`);
    }
  });
});
