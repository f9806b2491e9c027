const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

const { jupyterlab } = require('./package.json');

// Packages shipped as ES modules, which Babel must transform for Jest.
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/',
  '@microsoft/fast',
  '@naavre/',
  'exenv-es6',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**'
  ],
  coverageReporters: ['lcov', 'text'],
  // Out of Jest's module map, where package.json files of one name collide:
  // the built labextension (this package's name) and the .venv of the README's
  // Develop steps (where JupyterLab has several @jupyterlab/application-top).
  modulePathIgnorePatterns: [
    `<rootDir>/${jupyterlab.outputDir}`,
    '<rootDir>/\\.venv/'
  ],
  testRegex: 'src/.*/.*.spec.ts[x]?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
