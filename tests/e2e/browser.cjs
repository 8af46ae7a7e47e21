// What the page's browser scripts (onboarding.cjs, signin.cjs) share:
// Debian's Chromium launched by playwright-core, every request captured,
// console errors collected, numbered screenshots, axe-core, the storage
// left behind, and a result.json that is written at every step and on
// failure, so the Rust test that runs the script can say what happened.
//
// Environment (read by `run`, all required):
//   MARSHAL_PAGE_URL      the page, e.g. http://127.0.0.1:PORT/
//   MARSHAL_ARTIFACTS     directory for screenshots and result.json
//   MARSHAL_NODE_MODULES  where playwright-core and axe-core are installed
'use strict';

const fs = require('fs');
const path = require('path');

/** The environment variable `name`; throws when it is unset or empty. */
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  // playwright-core starts Chromium with a fresh temporary profile.
};

/**
 * Runs `steps(session)` in a fresh Chromium and exits: 0 when it returns,
 * 1 (with the error in result.json and on stderr) when it throws.
 *
 * options.result   fields result.json starts with, beside requests,
 *                  consoleErrors, screenshots and steps
 * options.context  options for browser.newContext beside locale and viewport
 * options.request  (request) => fields recorded for each request beside
 *                  method, url and body
 *
 * The session: { pageUrl, out, result, browser, context, openPage, watch,
 * shot, step, axeViolations, storage }.
 */
function run(options, steps) {
  const pageUrl = env('MARSHAL_PAGE_URL');
  const out = env('MARSHAL_ARTIFACTS');
  const nodeModules = env('MARSHAL_NODE_MODULES');
  const { chromium } = require(path.join(nodeModules, 'playwright-core'));
  const axeSource = fs.readFileSync(path.join(nodeModules, 'axe-core', 'axe.min.js'), 'utf8');

  const result = { requests: [], consoleErrors: [], screenshots: [], steps: [], ...options.result };
  const save = () => fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));

  const main = async () => {
    fs.mkdirSync(out, { recursive: true });
    const browser = await chromium.launch(CHROMIUM);
    try {
      const context = await browser.newContext({
        ...options.context,
        locale: 'en-US',
        viewport: { width: 1100, height: 900 },
      });
      // Every request of the page, its worker and its popups, with its body.
      context.on('request', (request) => {
        result.requests.push({
          method: request.method(),
          url: request.url(),
          body: request.postData() || '',
          ...(options.request ? options.request(request) : {}),
        });
      });

      // Console errors and uncaught exceptions of `page`, except those
      // `expected(message)` takes as part of the test.
      const watch = (page, expected = () => false) => {
        page.on('console', (message) => {
          if (message.type() !== 'error' || expected(message)) return;
          const where = message.location().url || '';
          result.consoleErrors.push(`${page.url()}: ${message.text()} (${where})`);
        });
        page.on('pageerror', (error) => result.consoleErrors.push(`${page.url()}: ${error}`));
      };
      let firstPage = null;
      // A new page, watched; the first one is what `shot` shows by default.
      const openPage = async (expected) => {
        const page = await context.newPage();
        watch(page, expected);
        firstPage = firstPage || page;
        return page;
      };

      let shotNumber = 0;
      const shot = async (name, which = firstPage) => {
        shotNumber += 1;
        const file = path.join(out, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
        await which.screenshot({ path: file, fullPage: true });
        result.screenshots.push(file);
      };
      const step = (name) => { result.steps.push(name); save(); };
      // Evaluated through DevTools, which the page's CSP does not govern;
      // the page itself never loads it.
      const axeViolations = async (page) => {
        await page.evaluate(axeSource + '\n;0');
        return page.evaluate(async () => {
          const report = await window.axe.run(document, { resultTypes: ['violations'] });
          return report.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
          }));
        });
      };
      // What the page left in the browser's storage.
      const storage = (page) => page.evaluate(async () => ({
        localStorage: localStorage.length,
        sessionStorage: sessionStorage.length,
        indexedDB: (await indexedDB.databases()).map((db) => db.name),
        cookies: document.cookie,
      }));

      await steps({ pageUrl, out, result, browser, context, openPage, watch, shot, step, axeViolations, storage });
    } catch (error) {
      // What the page showed when a step failed, to look at.
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages.length) {
        const file = path.join(out, 'failure.png');
        await pages[0].screenshot({ path: file, fullPage: true }).catch(() => {});
        result.screenshots.push(file);
      }
      throw error;
    } finally {
      save();
      await browser.close();
    }
  };

  main().catch((error) => {
    result.error = String(error && error.stack || error);
    save();
    console.error(result.error);
    process.exit(1);
  });
}

module.exports = { env, run };
