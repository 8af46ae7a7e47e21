// The onboarding page end to end in Debian's Chromium, driven by
// playwright-core. Run by tests/tests/page_e2e.rs, which starts moto and the
// API serving the built page, and checks what this script reports.
//
// Environment (all required; the first three are browser.cjs's):
//   MARSHAL_PAGE_URL      the page, e.g. http://127.0.0.1:PORT/
//   MARSHAL_ARTIFACTS     directory for screenshots, downloads and result.json
//   MARSHAL_NODE_MODULES  where playwright-core and axe-core are installed
//   MARSHAL_TARGETS       comma-separated target ids to register into
//   MARSHAL_THING         the common name / thing name to use
//   MARSHAL_FIXTURES      shared/tests/examples (DER .cer, legacy and modern .p12)
//   MARSHAL_BATCH         how many credentials the batch step makes
//
// It writes result.json: the certificate ID shown, the time from click to
// ID, the results table, every request the browser sent (method, URL,
// body), console errors, axe-core violations and the screenshot paths.
'use strict';

const path = require('path');
const { env, run } = require('./browser.cjs');

const targets = env('MARSHAL_TARGETS').split(',');
const thing = env('MARSHAL_THING');
const fixtures = env('MARSHAL_FIXTURES');
const batchSize = Number(env('MARSHAL_BATCH'));
const FIXTURE_PASSWORD = 'marshal-test';
const P12_PASSWORD = 'e2e-export-pass';

run({ context: { acceptDownloads: true } }, async ({ pageUrl, out, result, openPage, shot, step, axeViolations, storage }) => {
  const page = await openPage((message) => {
    // Served locally there is no config.json: the page asks for it at
    // start, takes the 404 as "same origin, no sign-in", and Chromium
    // logs the 404. Anything else is an error.
    const url = message.location().url || '';
    if (url.endsWith('/config.json') && message.text().includes('404')) {
      result.configJson404 = true;
      return true;
    }
    return false;
  });

  // Times, inside the page, from the next click on #button to #done in the
  // DOM: window[name] becomes a promise of the milliseconds.
  const timeClick = (button, done, name) => page.evaluate(([button, done, name]) => {
    window[name] = new Promise((resolve) => {
      let start = 0;
      document.getElementById(button)
        .addEventListener('click', () => { start = performance.now(); }, { capture: true, once: true });
      const observer = new MutationObserver(() => {
        if (start && document.getElementById(done)) {
          observer.disconnect();
          resolve(performance.now() - start);
        }
      });
      observer.observe(document.body, { childList: true, subtree: true });
    });
  }, [button, done, name]);

  step('open the page');
  const response = await page.goto(pageUrl);
  result.pageHeaders = response.headers();
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
  await timeClick('generate', 'certificate-id', 'marshalTiming');
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

  step('device kit, PKCS#12 and QR code of the registered certificate');
  const saveDownload = async (button, file) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    await download.saveAs(path.join(out, file));
    return download.suggestedFilename();
  };
  result.kitName = await saveDownload('#download-kit', 'device-kit.zip');
  await page.fill('#p12-password', P12_PASSWORD);
  result.p12Name = await saveDownload('#download-p12', 'device.p12');
  result.p12Password = P12_PASSWORD;
  await page.locator('#certificate-qr svg').screenshot({ path: path.join(out, 'qr.png') });

  step('RSA-2048 through WebCrypto');
  await page.getByLabel('Key type').selectOption('rsa-2048');
  const rsaStart = Date.now();
  await page.click('#generate');
  await page.waitForFunction((old) => {
    const id = document.getElementById('certificate-id');
    return id && id.textContent.trim() !== old;
  }, result.certificateId);
  result.rsaMs = Date.now() - rsaStart;
  result.rsaId = (await page.textContent('#certificate-id')).trim();
  await page.click('.made details summary');
  result.rsaKey = (await page.locator('.made .details').textContent());
  const [rsaCert] = await Promise.all([page.waitForEvent('download'), page.click('#download-certificate')]);
  await rsaCert.saveAs(path.join(out, 'rsa.cert.pem'));
  await shot('rsa');

  step('import a DER .cer (certificate only)');
  await page.click('#source-import');
  const importFiles = async (...names) => {
    await page.setInputFiles('#import-file', names.map((n) => path.join(fixtures, n)));
  };
  const waitForOrigin = async (name) => page.waitForFunction(
    (n) => (document.getElementById('credentials-origin') || {}).textContent?.includes(n), name,
  );
  const imported = async () => ({
    id: (await page.textContent('#certificate-id')).trim(),
    origin: (await page.textContent('#credentials-origin')).trim(),
    keyCheck: (await page.textContent('#key-check')).trim(),
    keyDownload: await page.locator('#download-key').count(),
  });
  result.imports = {};
  await importFiles('p256.cer');
  await waitForOrigin('p256.cer');
  result.imports.cer = await imported();
  await shot('imported-cer');

  step('import a legacy .p12 that needs a password');
  await importFiles('p256.legacy.pw.p12');
  await page.locator('#import-problem').waitFor();
  result.imports.passwordProblem = (await page.textContent('#import-problem')).trim();
  await shot('import-needs-password');
  await page.fill('#import-password', FIXTURE_PASSWORD);
  await page.click('#import-retry');
  await waitForOrigin('p256.legacy.pw.p12');
  result.imports.legacy = await imported();

  step('import a modern .p12 without a password');
  await importFiles('p256.modern.p12');
  await waitForOrigin('p256.modern.p12');
  result.imports.modern = await imported();
  await shot('imported-p12');

  step('register the imported certificate');
  await page.click('#register');
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('#registration-results tbody tr');
    return rows.length > 0;
  });
  result.importedRows = await page.$$eval('#registration-results tbody tr', (rows) => rows.map((row) => ({
    target: row.dataset.target,
    status: row.cells[1].textContent.trim(),
  })));

  step('manage: look the imported certificate up');
  await page.click('#manage-use-current');
  await page.click('#manage-lookup');
  const statusOf = (t) => page.textContent('#manage-status-' + t).then((s) => s.trim());
  const waitStatus = (t, want) => page.waitForFunction(
    ([t, want]) => (document.getElementById('manage-status-' + t) || {}).textContent?.trim() === want,
    [t, want],
  );
  await waitStatus(targets[0], 'ACTIVE');
  result.manage = { lookedUp: {} };
  for (const t of targets) result.manage.lookedUp[t] = await statusOf(t);
  // Whose it is, per target, as the badges say it.
  result.manage.owner = {};
  for (const t of targets) result.manage.owner[t] = (await page.textContent('#manage-owner-' + t)).trim();
  await shot('manage-looked-up');
  await page.locator('#manage-table').screenshot({ path: path.join(out, 'manage-table.png') });

  step('manage: deactivate in the first target');
  await page.check('#manage-target-' + targets[0]);
  await page.click('#manage-deactivate');
  await page.locator('#manage-confirm').waitFor();
  result.manage.deactivateConfirm = (await page.textContent('#manage-confirm-panel')).trim();
  await shot('manage-confirm-deactivate');
  await page.click('#manage-confirm');
  await waitStatus(targets[0], 'INACTIVE');
  result.manage.afterDeactivate = {};
  for (const t of targets) result.manage.afterDeactivate[t] = await statusOf(t);
  await shot('manage-deactivated');

  step('manage: delete from every target');
  for (const t of targets) await page.check('#manage-target-' + t);
  await page.click('#manage-delete');
  await page.locator('#manage-confirm').waitFor();
  result.manage.deleteConfirm = (await page.textContent('#manage-confirm-panel')).trim();
  await page.click('#manage-confirm');
  await waitStatus(targets[targets.length - 1], 'not registered');
  await waitStatus(targets[0], 'not registered');
  result.manage.afterDelete = {};
  for (const t of targets) result.manage.afterDelete[t] = await statusOf(t);
  await shot('manage-deleted');

  step('batch: ' + batchSize + ' P-256 credentials in the worker, page responsive');
  await page.click('#source-make');
  await page.getByLabel('Key type').selectOption('ec-p256');
  const names = Array.from({ length: batchSize }, (_, i) => `pump-${String(i + 1).padStart(4, '0')}`);
  // Set like a paste: one input event (Playwright's fill types long text slowly).
  const setNames = (list) => page.$eval('#batch-names', (el, text) => {
    el.value = text;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, list.join('\n'));
  await setNames(names);
  await timeClick('batch-start', 'batch-done', 'marshalBatchTiming');
  // The longest gap between two timer ticks while the batch runs: how
  // long the page could not answer input.
  await page.evaluate(() => {
    window.marshalGaps = { max: 0, ticks: 0, running: true };
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      window.marshalGaps.max = Math.max(window.marshalGaps.max, now - last);
      window.marshalGaps.ticks += 1;
      last = now;
      if (window.marshalGaps.running) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    // Settled in the same task as the batch ends, before any other tick.
    window.marshalBatchTiming.then(() => { window.marshalGaps.running = false; });
  });
  await page.click('#batch-start');
  // Typing while the batch runs must land at once.
  await page.fill('#manage-id', 'typed during the batch');
  result.batchTyped = await page.inputValue('#manage-id');
  result.batchProgressSeen = await page.locator('#batch-progress').count();
  await page.locator('#batch-done').waitFor({ timeout: 60000 });
  result.batchClickToDoneMs = await page.evaluate(() => window.marshalBatchTiming);
  result.batchWorkerMs = Number(await page.getAttribute('#batch-done', 'data-ms'));
  result.batchCount = Number(await page.getAttribute('#batch-done', 'data-count'));
  result.batchMaxGapMs = await page.evaluate(() => window.marshalGaps.max);
  await shot('batch-done');
  result.batchName = await saveDownload('#batch-download', 'batch.zip');

  step('batch: cancel');
  // RSA-2048 keys take WebCrypto tens of milliseconds each: 200 of them
  // run long enough to cancel half-way on any machine.
  await page.getByLabel('Key type').selectOption('rsa-2048');
  await setNames(names.slice(0, 200).map((n) => n + '-c'));
  await page.click('#batch-start');
  await page.locator('#batch-cancel').waitFor();
  await page.click('#batch-cancel');
  await page.locator('#batch-cancelled').waitFor();
  result.batchCancelled = true;
  await page.fill('#manage-id', '');

  step('nothing stored');
  result.storage = await storage(page);

  step('accessibility (axe-core)');
  result.axeViolations = await axeViolations(page);

  step('japanese');
  await page.selectOption('#language', 'ja');
  result.japaneseHeading = (await page.textContent('#credentials-heading')).trim();
  await shot('japanese');

  step('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('phone');
  // What a phone shows, screen by screen (the full page is too tall to read).
  for (const section of ['#credentials-heading', '#yours-heading', '#register-heading', '#batch-heading']) {
    await page.locator(section).scrollIntoViewIfNeeded();
    const file = path.join(out, `phone-${section.slice(1)}.png`);
    await page.screenshot({ path: file });
    result.screenshots.push(file);
  }
  step('done');
});
