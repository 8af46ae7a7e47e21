// Sign-in end to end in Debian's Chromium, driven by playwright-core: the
// page with a config.json that asks for sign-in, a fake OIDC provider
// (fake_oidc.py) in a popup, and the API on loopback. Run by
// tests/tests/page_signin.rs, which checks what this script reports.
//
// Environment (all required):
//   MARSHAL_PAGE_URL      the page, e.g. http://127.0.0.1:PORT/
//   MARSHAL_ARTIFACTS     directory for screenshots and result.json
//   MARSHAL_NODE_MODULES  where playwright-core and axe-core are installed
//   MARSHAL_TARGET        the target id to register into
//   MARSHAL_THING         the common name / thing name to use
//   MARSHAL_FIRST_TOKEN_SECONDS  lifetime of the first id token (the
//                         script moves the page's clock past it)
//
// It writes result.json: what the page showed at each step, every request
// of the page and its popups (method, URL, body, Authorization header) with
// marks at the steps, console errors, axe-core violations with the sign-in
// bar in view, the storage left behind and the screenshot paths.
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
const target = env('MARSHAL_TARGET');
const thing = env('MARSHAL_THING');
const firstTokenSeconds = Number(env('MARSHAL_FIRST_TOKEN_SECONDS'));

const { chromium } = require(path.join(nodeModules, 'playwright-core'));
const axeSource = fs.readFileSync(path.join(nodeModules, 'axe-core', 'axe.min.js'), 'utf8');

const result = { requests: [], consoleErrors: [], screenshots: [], steps: [], marks: {}, popups: [] };
const save = () => fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1100, height: 900 },
    });
    // The page's clock, so the test can move it past the token's expiry;
    // it runs at real speed until then.
    await context.clock.install();
    // Every request of the page, its worker and its popups.
    context.on('request', (request) => {
      result.requests.push({
        method: request.method(),
        url: request.url(),
        body: request.postData() || '',
        authorization: request.headers()['authorization'] || null,
        navigation: request.isNavigationRequest(),
      });
    });
    const watch = (p) => {
      p.on('console', (message) => {
        if (message.type() === 'error') result.consoleErrors.push(`${p.url()}: ${message.text()}`);
      });
      p.on('pageerror', (error) => result.consoleErrors.push(`${p.url()}: ${error}`));
    };
    const page = await context.newPage();
    watch(page);

    let shotNumber = 0;
    const shot = async (name, which = page) => {
      shotNumber += 1;
      const file = path.join(out, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
      await which.screenshot({ path: file, fullPage: true });
      result.screenshots.push(file);
    };
    const step = (name) => { result.steps.push(name); save(); };
    const mark = (name) => { result.marks[name] = result.requests.length; };
    const text = async (selector, which = page) => (await which.textContent(selector)).trim();
    // Evaluated through DevTools, which the page's CSP does not govern.
    const axe = async (label) => {
      await page.evaluate(axeSource + '\n;0');
      result.axe = result.axe || {};
      result.axe[label] = await page.evaluate(async () => {
        const report = await window.axe.run(document, { resultTypes: ['violations'] });
        return report.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
        }));
      });
    };

    // Opens the popup with the button, approves at the fake provider and
    // waits for the popup to close itself.
    const signInThroughPopup = async (label) => {
      const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-in')]);
      watch(popup);
      await popup.waitForLoadState();
      const record = { label, providerUrl: popup.url() };
      result.popups.push(record);
      await popup.locator('#approve').waitFor();
      await shot(`${label}-provider`, popup);
      record.waiting = await text('#sign-in-status');
      if (label === 'first') {
        // A forged answer (wrong state) on the page's channel: refused,
        // and the page keeps waiting for its own.
        await page.evaluate(() => {
          const channel = new BroadcastChannel('marshal-sign-in');
          channel.postMessage(JSON.stringify({ marshalSignIn: { state: 'forged-state', code: 'forged-code' } }));
          channel.close();
        });
        await page.locator('#sign-in-problem').waitFor();
        record.forgedRefused = await text('#sign-in-problem');
        record.stillWaiting = await text('#sign-in-status');
        await shot('forged-answer-refused');
      }
      const closed = popup.waitForEvent('close', { timeout: 20000 }).then(() => true, () => false);
      await popup.click('#approve');
      record.closedItself = await closed;
      if (!record.closedItself) record.leftOpenAt = popup.url();
      await page.locator('#signed-in-name').waitFor();
      record.signedInName = await text('#signed-in-name');
      record.problemsLeft = await page.locator('#sign-in-problem').count();
    };

    step('open the page: sign-in asked for, nothing sent to the API');
    const response = await page.goto(pageUrl);
    result.pageHeaders = response.headers();
    await page.locator('#sign-in').waitFor();
    result.prompt = await text('#sign-in-status');
    await page.locator('.sign-in-needed').first().waitFor();
    result.targetsBeforeSignIn = await text('.sign-in-needed');
    await shot('signed-out');
    await axe('signedOut');
    mark('signInClicked');

    step('a blocked popup is said in words');
    // What a popup blocker does: window.open gives nothing back.
    await page.evaluate(() => { window.realOpen = window.open; window.open = () => null; });
    await page.click('#sign-in');
    await page.locator('#sign-in-problem').waitFor();
    result.popupBlocked = await text('#sign-in-problem');
    await shot('popup-blocked');
    await page.evaluate(() => { window.open = window.realOpen; });

    step('sign in through the popup');
    await signInThroughPopup('first');
    mark('signedIn');
    await page.locator('#target-' + target).waitFor();
    await shot('signed-in');

    step('generate a P-256 credential');
    await page.getByLabel('Common name (CN)').fill(thing);
    await page.getByLabel('Key type').selectOption('ec-p256');
    await page.click('#generate');
    await page.locator('#certificate-id').waitFor();
    result.certificateId = await text('#certificate-id');

    step('register it into one target');
    await page.check('#target-' + target);
    await page.click('#register');
    await page.locator('#registration-results').waitFor();
    result.rows = await page.$$eval('#registration-results tbody tr', (rows) => rows.map((row) => ({
      target: row.dataset.target,
      status: row.cells[1].textContent.trim(),
    })));
    await shot('registered');

    step('the token expires: the page says so and keeps the credentials');
    mark('beforeExpiry');
    await page.clock.fastForward((firstTokenSeconds + 60) * 1000);
    await page.locator('#sign-in-status.error').waitFor();
    result.expired = await text('#sign-in-status');
    result.certificateIdAfterExpiry = await text('#certificate-id');
    await page.click('#manage-use-current');
    await page.click('#manage-lookup');
    await page.locator('.sign-in-needed').first().waitFor();
    result.lookUpWhileExpired = await text('.sign-in-needed');
    await shot('expired');
    await axe('expired');
    mark('expired');

    step('sign in again; the look-up works');
    await signInThroughPopup('again');
    mark('signedInAgain');
    await page.click('#manage-lookup');
    await page.locator('#manage-status-' + target).waitFor();
    result.lookedUpStatus = await text('#manage-status-' + target);
    await shot('signed-in-again');

    step('sign out: the token is forgotten');
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor();
    result.afterSignOut = await text('#sign-in-status');
    mark('signedOut');
    await page.click('#manage-lookup');
    await page.locator('.sign-in-needed').first().waitFor();
    result.lookUpSignedOut = await text('.sign-in-needed');
    result.certificateIdAfterSignOut = await text('#certificate-id');
    await shot('signed-out-again');

    step('storage');
    result.storage = await page.evaluate(async () => ({
      localStorage: localStorage.length,
      sessionStorage: sessionStorage.length,
      indexedDB: (await indexedDB.databases()).map((db) => db.name),
      cookies: document.cookie,
    }));
    result.pages = context.pages().length;
    step('done');
  } finally {
    save();
    await browser.close();
  }
}

main().catch((error) => {
  result.error = String(error && error.stack || error);
  save();
  console.error(error);
  process.exit(1);
});
