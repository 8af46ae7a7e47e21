// Sign-in end to end in Debian's Chromium, driven by playwright-core: the
// page with a config.json that asks for sign-in, a fake OIDC provider
// (fake_oidc.py) in a popup, and the API on loopback. Run by
// tests/tests/page_signin.rs, which checks what this script reports.
//
// Environment (all required; the first three are browser.cjs's):
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

const { env, run } = require('./browser.cjs');

const target = env('MARSHAL_TARGET');
const thing = env('MARSHAL_THING');
const firstTokenSeconds = Number(env('MARSHAL_FIRST_TOKEN_SECONDS'));

run({
  result: { marks: {}, popups: [] },
  // Who sent each request, and with what token.
  request: (request) => ({
    authorization: request.headers()['authorization'] || null,
    navigation: request.isNavigationRequest(),
  }),
}, async ({ pageUrl, result, context, openPage, watch, shot, step, axeViolations, storage }) => {
  // The page's clock, so the test can move it past the token's expiry;
  // it runs at real speed until then.
  await context.clock.install();
  const page = await openPage();

  const mark = (name) => { result.marks[name] = result.requests.length; };
  const text = async (selector, which = page) => (await which.textContent(selector)).trim();
  const axe = async (label) => {
    result.axe = result.axe || {};
    result.axe[label] = await axeViolations(page);
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

  step('sign out: the token is forgotten, and the provider session ended in a popup');
  const [logoutPopup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-out')]);
  watch(logoutPopup);
  // On loopback the popup can be gone before a 'close' listener exists, so
  // ask Playwright whether it is closed, for up to 20 s.
  const closingStarted = Date.now();
  while (!logoutPopup.isClosed() && Date.now() - closingStarted < 20000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  result.signOutPopupClosedItself = logoutPopup.isClosed();
  result.signOutPopupClosedAfterMs = Date.now() - closingStarted;
  if (!result.signOutPopupClosedItself) {
    result.signOutPopupLeftAt = logoutPopup.url();
    await shot('sign-out-popup-left-open', logoutPopup);
    await logoutPopup.close();
  }
  await page.locator('#sign-in').waitFor();
  result.signOutProblems = await page.locator('#sign-in-problem').count();
  result.afterSignOut = await text('#sign-in-status');
  mark('signedOut');
  await page.click('#manage-lookup');
  await page.locator('.sign-in-needed').first().waitFor();
  result.lookUpSignedOut = await text('.sign-in-needed');
  result.certificateIdAfterSignOut = await text('#certificate-id');
  await shot('signed-out-again');

  step('signing in again asks the provider afresh');
  const [freshPopup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-in')]);
  watch(freshPopup);
  await freshPopup.locator('#approve').waitFor();
  await shot('provider-after-sign-out', freshPopup);
  await freshPopup.close();

  step('storage');
  result.storage = await storage(page);
  result.pages = context.pages().length;
  step('done');
});
