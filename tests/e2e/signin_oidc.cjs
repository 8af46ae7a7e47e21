// Sign-in end to end against a real OpenID provider (dev/oidc/provider.mjs,
// npm oidc-provider) in Debian's Chromium: the page signs alice in through
// the provider's own form in a popup (a wrong password first), lists her
// group's targets, registers into one; signs out (the provider's session
// ends); signs bob in and lists his. Run by tests/tests/page_signin_oidc.rs,
// which checks what this script reports against the API's answers.
//
// Environment (the first three are browser.cjs's):
//   MARSHAL_PAGE_URL, MARSHAL_ARTIFACTS, MARSHAL_NODE_MODULES
//   MARSHAL_USERS    JSON [[name, password], [name, password]]: who signs in, in turn
//   MARSHAL_TARGET   the target the first user registers into
//   MARSHAL_THING    the common name / thing name to use
'use strict';

const { env, run } = require('./browser.cjs');

const users = JSON.parse(env('MARSHAL_USERS'));
const target = env('MARSHAL_TARGET');
const thing = env('MARSHAL_THING');

run({
  result: { marks: {}, signIns: [] },
  request: (request) => ({ authorization: request.headers()['authorization'] || null }),
}, async ({ pageUrl, result, context, openPage, watch, shot, step, storage }) => {
  const page = await openPage();
  // The API's answers to the page, to show they were accepted.
  result.apiAnswers = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/v1/')) {
      result.apiAnswers.push({ url: response.url(), status: response.status() });
    }
  });
  const text = async (selector, which = page) => (await which.textContent(selector)).trim();
  const targetIds = () => page.$$eval('input[id^="target-"]', (inputs) => inputs.map((i) => i.id.slice('target-'.length)));

  // The popup at the provider: its form, optionally a wrong password
  // first; then it sends the popup back to the page, which closes it.
  const signIn = async ([name, password], { wrongFirst }) => {
    const record = { name };
    result.signIns.push(record);
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-in')]);
    watch(popup);
    await popup.locator('#username').waitFor();
    record.providerUrl = popup.url();
    await shot(`provider-form-${name}`, popup);
    if (wrongFirst) {
      await popup.fill('#username', name);
      await popup.fill('#password', `${password}-wrong`);
      await popup.click('#login');
      await popup.locator('#login-problem').waitFor();
      record.wrongPassword = await text('#login-problem', popup);
    }
    await popup.fill('#username', name);
    await popup.fill('#password', password);
    const closed = popup.waitForEvent('close', { timeout: 20000 }).then(() => true, () => false);
    // The targets as the API answered them for this user's token, then as
    // the page lists them once it has drawn that answer.
    const config = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/config', { timeout: 20000 });
    await popup.click('#login');
    record.closedItself = await closed;
    await page.locator('#signed-in-name').waitFor();
    record.signedInName = await text('#signed-in-name');
    const answer = await config;
    record.configStatus = answer.status();
    const ids = ((await answer.json()).targets || []).map((t) => t.id);
    record.apiTargets = ids;
    if (ids.length) await page.locator('#target-' + ids[0]).waitFor();
    await page.waitForFunction((want) => {
      const have = [...document.querySelectorAll('input[id^="target-"]')].map((i) => i.id.slice('target-'.length));
      return have.length === want.length && have.every((id, i) => id === want[i]);
    }, ids, { timeout: 10000 }).catch(() => {});
    record.targets = await targetIds();
    await shot(`signed-in-${name}`);
  };

  step('open the page: sign-in asked for');
  await page.goto(pageUrl);
  await page.locator('#sign-in').waitFor();
  result.prompt = await text('#sign-in-status');

  step(`sign in as ${users[0][0]} at the provider`);
  result.marks.firstSignIn = result.requests.length;
  await signIn(users[0], { wrongFirst: true });

  step('generate and register into the group\'s target');
  await page.getByLabel('Common name (CN)').fill(thing);
  await page.getByLabel('Key type').selectOption('ec-p256');
  await page.click('#generate');
  await page.locator('#certificate-id').waitFor();
  result.certificateId = await text('#certificate-id');
  await page.check('#target-' + target);
  await page.click('#register');
  await page.locator('#registration-results').waitFor();
  result.rows = await page.$$eval('#registration-results tbody tr', (rows) => rows.map((row) => ({
    target: row.dataset.target,
    status: row.cells[1].textContent.trim(),
  })));
  await shot('registered');

  step('sign out: the provider ends its session in a popup');
  result.marks.signOut = result.requests.length;
  const [logoutPopup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-out')]);
  watch(logoutPopup);
  const started = Date.now();
  while (!logoutPopup.isClosed() && Date.now() - started < 20000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  result.signOutPopupClosedItself = logoutPopup.isClosed();
  if (!result.signOutPopupClosedItself) {
    result.signOutPopupLeftAt = logoutPopup.url();
    await shot('sign-out-popup-left-open', logoutPopup);
    await logoutPopup.close();
  }
  await page.locator('#sign-in').waitFor();
  result.afterSignOut = await text('#sign-in-status');
  result.targetsAfterSignOut = await targetIds();
  // Her registration results went with her; the credentials made on this
  // page without signing in stay (they may not be saved yet).
  result.keyDownloadsAfterSignOut = await page.locator('#download-key').count();
  result.resultRowsAfterSignOut = await page.locator('#registration-results tbody tr').count();

  // The same page, no reload: the first user's targets went with the
  // sign-out, and the next user's load with their sign-in.
  step(`sign in as ${users[1][0]} on the same page: the provider asks again`);
  result.marks.secondSignIn = result.requests.length;
  await signIn(users[1], { wrongFirst: false });

  step('storage');
  result.storage = await storage(page);
  result.pages = context.pages().length;
  step('done');
});
