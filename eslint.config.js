// Lint rules: typescript-eslint's type-checked recommendations, with the test runner's
// promise-returning describe/it allowed to float.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
