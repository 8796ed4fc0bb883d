// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'release/', 'e2e-output/', 'test-results/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Property signatures keep callbacks free of `this`, so they can be passed around.
      '@typescript-eslint/method-signature-style': ['error', 'property'],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: globals.browser },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/electron/**', 'electron', 'node:*'],
              message: 'The renderer reaches the main process only through the contract.',
            },
          ],
        },
      ],
    },
  },
  {
    // Services run under plain Node: only the thin Electron glue may import electron.
    files: ['electron/**/*.ts', 'shared/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['electron/main.ts', 'electron/preload.ts', 'electron/ipc.ts', 'electron/secrets.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'Services must not import electron: inject what they need.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Product code never depends on test tooling: scripts/, e2e/ and bench/ import the product,
    // not the other way round. Tests beside the code may use the sandbox, the simplestreams
    // server and the image corpus under scripts/, never e2e/ or bench/. (The core rule, so it
    // adds to the typescript-eslint one above instead of replacing its options.)
    files: ['electron/**/*.{ts,tsx}', 'renderer/**/*.{ts,tsx}', 'shared/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+(scripts|e2e|bench)(/|$)`,
              message:
                'Product code must not import test tooling (scripts/, e2e/, bench/); move what it needs into electron/ or shared/.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: String.raw`ImportExpression[source.value=/^(\.\.\/)+(scripts|e2e|bench)(\/|$)/]`,
          message: 'Product code must not import test tooling (scripts/, e2e/, bench/).',
        },
      ],
    },
  },
  {
    files: ['electron/**/*.test.ts', 'renderer/**/*.test.ts', 'shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+(e2e|bench)(/|$)`,
              message:
                'Unit and integration tests may use scripts/ helpers, not the e2e or bench suites.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: String.raw`ImportExpression[source.value=/^(\.\.\/)+(e2e|bench)(\/|$)/]`,
          message:
            'Unit and integration tests may use scripts/ helpers, not the e2e or bench suites.',
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
);
