// Flat config. The per-folder `no-restricted-imports` blocks are the architecture's boundaries (ARCHITECTURE.md).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
import prettier from 'eslint-config-prettier'
import globals from 'globals'

const browserOnly = [
  'vue',
  'vue-*',
  'pinia',
  'dexie',
  'leaflet',
  'leaflet.*',
  'vant',
  'workbox-window',
  '@vant/*',
]
const nodeOnly = ['express', 'kysely', 'better-sqlite3', 'pino', 'node:*', 'fs', 'path', 'http', 'crypto']

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'data', 'coverage', 'src/components.d.ts', 'dev-dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/multi-word-component-names': 'off',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: [...browserOnly, ...nodeOnly], message: 'src/shared is pure and isomorphic.' },
            { group: ['../../*', '!../../shared/*'], message: 'src/shared imports only itself.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'indexedDB', 'fetch', 'process'].map(
          (name) => ({
            name,
            message: 'src/shared is pure: pass it in.',
          }),
        ),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Clocks are passed in.' },
        { object: 'Math', property: 'random', message: 'Randomness is passed in.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.vue'],
    ignores: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeOnly, message: 'The app runs in the browser.' },
            { group: ['**/server/*'] },
          ],
        },
      ],
    },
  },
  {
    files: ['src/views/**/*.vue', 'src/views/**/*.ts', 'src/components/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['dexie', '**/db/*', '**/sync/httpTransport*'], message: 'Views go through stores.' },
            ...nodeOnly.map((n) => ({ group: [n] })),
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'Views go through stores.' }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: browserOnly, message: 'The server does not import browser code.' },
            { group: ['../src/*', '../../src/*', '!../../src/shared/*'], message: 'Use #shared/*.' },
          ],
        },
      ],
    },
  },
  prettier,
)
