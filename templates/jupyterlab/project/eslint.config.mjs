// ESLint (flat config) for the TypeScript sources, their tests and the JavaScript
// config files. Prettier owns the layout: eslint-plugin-prettier reports what
// Prettier would change, and eslint-config-prettier switches off the rules that
// would contradict it. `jlpm eslint` fixes what can be fixed.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  // Installed, generated or built files; ESLint skips node_modules by itself.
  globalIgnores([
    '.venv/',
    'venv/',
    '.yarn/',
    'lib/',
    'coverage/',
    'dist/',
    'build/',
    '*/labextension/',
    '*/_version.py',
    'ui-tests/test-results/',
    'ui-tests/playwright-report/',
    '**/*.d.ts'
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  prettierRecommended,
  {
    files: ['**/*.ts'],
    languageOptions: { globals: globals.browser }
  },
  {
    // jest.config.js, babel.config.js, ui-tests/playwright.config.js: CommonJS
    // modules that Node.js loads.
    files: ['**/*.js'],
    ignores: ['style/**'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    // After eslint-config-prettier, which switches `curly` and `quotes` off:
    // these settings of them agree with Prettier's.
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: { regex: '^I[A-Z]', match: true }
        }
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      // JupyterLab's own style: CommandIDs and the like are namespaces.
      '@typescript-eslint/no-namespace': 'off',
      // A warning: reported, never failing lint:check.
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error',
      // Template literals stay allowed: src/names.ts holds its names in them.
      quotes: [
        'error',
        'single',
        { avoidEscape: true, allowTemplateLiterals: true }
      ]
    }
  }
]);
