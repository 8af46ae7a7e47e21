// The onboarding page end to end in Debian's Chromium, driven by
// playwright-core. Run by tests/tests/page_e2e.rs, which starts moto and the
// API serving the built page, and checks what this script reports.
//
// Environment (all required):
//   MARSHAL_PAGE_URL      the page, e.g. http://127.0.0.1:PORT/
//   MARSHAL_ARTIFACTS     directory for screenshots, downloads and result.json
//   MARSHAL_NODE_MODULES  where playwright-core and axe-core are installed
//   MARSHAL_TARGETS       comma-separated target ids to register into
//   MARSHAL_THING         the common name / thing name to use
//
// It writes result.json: the certificate ID shown, the time from click to
// ID, the results table, every request the browser sent (method, URL,
// body), console errors, axe-core violations and the screenshot paths.
'use strict';

const fs = require('fs');
const path = require('path');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const pageUrl = env('MARSHAL_PAGE_URL');
const out = env('MARSHAL_ARTIFACTS');
const nodeModules = env('MARSHAL_NODE_MODULES');
const targets = env('MARSHAL_TARGETS').split(',');
const thing = env('MARSHAL_THING');

const { chromium } = require(path.join(nodeModules, 'playwright-core'));
const axeSource = fs.readFileSync(path.join(nodeModules, 'axe-core', 'axe.min.js'), 'utf8');

const result = { requests: [], consoleErrors: [], screenshots: [], steps: [] };
const save = () => fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    // playwright-core starts Chromium with a fresh temporary profile.
  });
  try {
    const context = await browser.newContext({
      acceptDownloads: true,
      locale: 'en-US',
      viewport: { width: 1100, height: 900 },
    });
    // Every request of the page and its worker, with its body.
    context.on('request', (request) => {
      result.requests.push({
        method: request.method(),
        url: request.url(),
        body: request.postData() || '',
      });
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') result.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => result.consoleErrors.push(String(error)));

    let shotNumber = 0;
    const shot = async (name) => {
      shotNumber += 1;
      const file = path.join(out, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      result.screenshots.push(file);
    };
    const step = (name) => { result.steps.push(name); save(); };

    step('open the page');
    await page.goto(pageUrl);
    await page.locator('#target-' + targets[0]).waitFor();
    await shot('opened');

    step('generate with an empty form shows what is missing');
    await page.click('#generate');
    result.emptyFormError = (await page.textContent('#common-name-error')).trim();

    step('fill the form');
    await page.getByLabel('Common name (CN)').fill(thing);
    await page.getByLabel('Key type').selectOption('ec-p256');
    await shot('form-filled');

    step('generate');
    // Timed inside the page: from the click event to the ID in the DOM.
    await page.evaluate(() => {
      window.marshalTiming = new Promise((resolve) => {
        let start = 0;
        document.getElementById('generate')
          .addEventListener('click', () => { start = performance.now(); }, { capture: true, once: true });
        const observer = new MutationObserver(() => {
          if (start && document.getElementById('certificate-id')) {
            observer.disconnect();
            resolve(performance.now() - start);
          }
        });
        observer.observe(document.body, { childList: true, subtree: true });
      });
    });
    await page.click('#generate');
    await page.locator('#certificate-id').waitFor();
    result.generateMs = await page.evaluate(() => window.marshalTiming);
    result.certificateId = (await page.textContent('#certificate-id')).trim();
    result.preflightClean = await page.locator('#preflight-clean').isVisible();
    await shot('generated');

    step('download certificate and key');
    for (const [button, file] of [['#download-certificate', 'certificate.pem'], ['#download-key', 'private.key']]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      result[button.slice(1)] = download.suggestedFilename();
      await download.saveAs(path.join(out, file));
    }

    step('choose targets');
    for (const target of targets) await page.check('#target-' + target);
    await shot('targets-chosen');

    step('register');
    await page.click('#register');
    await page.locator('#registration-results').waitFor();
    result.summary = (await page.textContent('#registration-summary')).trim();
    result.rows = await page.$$eval('#registration-results tbody tr', (rows) => rows.map((row) => ({
      target: row.dataset.target,
      status: row.cells[1].textContent.trim(),
      arn: row.cells[2].textContent.trim(),
      endpoint: row.cells[3].textContent.trim(),
    })));
    await shot('registered');

    step('nothing stored');
    result.storage = await page.evaluate(async () => ({
      localStorage: localStorage.length,
      sessionStorage: sessionStorage.length,
      indexedDB: (await indexedDB.databases()).map((db) => db.name),
      cookies: document.cookie,
    }));

    step('accessibility (axe-core)');
    // Evaluated through DevTools, which the page's CSP does not govern;
    // the page itself never loads it.
    await page.evaluate(axeSource + '\n;0');
    const axe = await page.evaluate(async () => {
      const report = await window.axe.run(document, { resultTypes: ['violations'] });
      return report.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
      }));
    });
    result.axeViolations = axe;

    step('japanese');
    await page.selectOption('#language', 'ja');
    result.japaneseHeading = (await page.textContent('#make-heading')).trim();
    await shot('japanese');

    step('phone width');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('phone');
    step('done');
  } finally {
    save();
    await browser.close();
  }
}

main().catch((error) => {
  result.error = String(error && error.stack || error);
  save();
  console.error(result.error);
  process.exit(1);
});
