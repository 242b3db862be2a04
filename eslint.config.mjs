// Lint: TypeScript rules everywhere, and the Temporal determinism fence around workflows/:
// workflow code runs in Temporal's sandbox and is replayed, so Node built-ins and process.env
// must never reach it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', URL: 'readonly', AbortController: 'readonly', fetch: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // process.env is read in exactly one module; everything else receives typed config.
    files: ['apps/**/*.ts', 'activities/**/*.ts', 'pipelines/**/*.ts', 'infra/**/*.ts'],
    ignores: ['apps/common/env.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through apps/common/env.ts and a typed config module.' }],
    },
  },
  {
    // The reviewer page's script runs in the browser, as it is (no build step).
    files: ['apps/api/review/page/*.js'],
    languageOptions: { sourceType: 'script', globals: { document: 'readonly', sessionStorage: 'readonly', FormData: 'readonly', window: 'readonly' } },
  },
  {
    // Tests read loosely typed JSON bodies.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code is deterministic: no Node built-ins in workflows/.' })),
        patterns: [
          { group: ['../activities/*', '../../activities/*'], allowTypeImports: true, message: 'Workflows import only types from activities.' },
        ],
      }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Workflow code must not read process.env.' }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'Workflow code must not touch process.' },
        { name: 'require', message: 'Workflow code imports modules statically.' },
        { name: 'Buffer', message: 'Use Uint8Array in workflow code.' },
        { name: '__dirname', message: 'Workflow code has no file system.' },
      ],
    },
  },
);
