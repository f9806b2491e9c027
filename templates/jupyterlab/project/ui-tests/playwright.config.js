// Galata's Playwright settings, with a server on 127.0.0.1 that Playwright
// starts (the installed extension must be in the same Python environment).
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.UI_TESTS_PORT || '8888';
// A browser that is already installed, e.g. Debian's /usr/lib/chromium/chromium;
// without it, Playwright's own (`jlpm playwright install chromium`).
const executablePath = process.env.CHROMIUM_PATH || undefined;

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath },
    // Galata records a video of failures by default, with an ffmpeg that only
    // `playwright install` brings; screenshots of failures need nothing.
    video: 'off',
    trace: 'off'
  },
  webServer: {
    command: `jlpm start --ServerApp.ip=127.0.0.1 --ServerApp.port=${port}`,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120 * 1000,
    // A server already on the port (e.g. a developer's, with a token) would fail
    // every test; Playwright says the port is taken instead.
    reuseExistingServer: false
  }
};
