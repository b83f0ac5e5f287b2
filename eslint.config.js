// Lint rules: typescript-eslint's type-checked recommendations, with the test runner's
// promise-returning describe/it allowed to float, and the import boundaries between components.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Which folders of src/ may not import which (docs: "Imports run one way" in the architecture):
 * the API server knows nothing of the clients, the client runtime never loads server code, the
 * LC never loads GM code nor the GM the LC's (the link between them lives in src/edgelink), and
 * workers load neither. test/unit/import-boundaries.test.ts checks the whole tree against this
 * table, dynamic imports included, by resolved path.
 */
export const IMPORT_BOUNDARIES = [
  { from: 'src/api', forbidden: ['src/apiserver', 'src/cli', 'src/controller', 'src/deploy', 'src/edgelink', 'src/features', 'src/gm', 'src/kb', 'src/lc', 'src/lib', 'src/up'], why: 'src/api holds types, schemas, selectors and name rules and imports nothing' },
  { from: 'src/apiserver', forbidden: ['src/controller', 'src/edgelink', 'src/features', 'src/gm', 'src/lc'], why: 'the API server knows nothing of its clients' },
  { from: 'src/controller', forbidden: ['src/apiserver', 'src/gm', 'src/lc'], why: 'the client runtime never loads server code' },
  { from: 'src/edgelink', forbidden: ['src/gm', 'src/lc'], why: 'the GM-LC link is shared by both ends and imports neither' },
  { from: 'src/gm', forbidden: ['src/lc'], why: 'the GM never loads the LC\'s code' },
  { from: 'src/lc', forbidden: ['src/gm'], why: 'the LC never loads the GM\'s code (the link lives in src/edgelink)' },
  { from: 'src/lib', forbidden: ['src/apiserver', 'src/controller', 'src/edgelink', 'src/gm', 'src/lc'], why: 'workers load neither the GM, the LC nor the API server' },
  { from: 'src/kb', forbidden: ['src/apiserver', 'src/controller', 'src/edgelink', 'src/features', 'src/gm', 'src/lc'], why: 'the knowledge base is a server of its own; it shares only src/api and src/lib' },
  { from: 'src/deploy', forbidden: ['src/apiserver', 'src/controller', 'src/edgelink', 'src/features', 'src/gm', 'src/kb', 'src/lc'], why: 'the install\'s objects are data; they load no component' },
  { from: 'src/worker.ts', forbidden: ['src/apiserver', 'src/controller', 'src/edgelink', 'src/gm', 'src/lc'], why: 'workers load neither the GM, the LC nor the API server' },
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One no-restricted-imports config a boundary. The regexes see the import as written, so they
 * match the forbidden folder's name after any run of ./ or ../; the test resolves paths exactly. */
export const importBoundaryConfigs = IMPORT_BOUNDARIES.map(({ from, forbidden, why }) => ({
  files: from.endsWith('.ts') ? [from] : [`${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((dir) => ({
        regex: `^(\\./|(\\.\\./)+)${escape(dir.slice('src/'.length))}(/|\\.ts$|$)`,
        message: `${from} may not import ${dir}: ${why}.`,
      })),
    }],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard's pages run in the browser: their own tsconfig (DOM, Preact JSX).
    files: ['src/dashboard/ui/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './src/dashboard/ui/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  ...importBoundaryConfigs,
);
