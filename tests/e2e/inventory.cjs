// Inventory and rotation end to end in Debian's Chromium: the page lists
// what Marshal registered (soonest expiry first, days-left badges), filters
// it, shows one certificate's history and exports CSV; then looks one
// certificate up, rotates it (a new key made in this browser, registered
// into the same targets) and retires the old one. Run by
// tests/tests/page_inventory.rs, which checks what this script reports
// against boto3's view of moto.
//
// Environment (the first three are browser.cjs's):
//   MARSHAL_PAGE_URL, MARSHAL_ARTIFACTS, MARSHAL_NODE_MODULES
//   MARSHAL_ROTATE   the certificate ID to rotate
//   MARSHAL_THING    a thing name to filter the inventory on
'use strict';

const path = require('path');
const { env, run } = require('./browser.cjs');

const rotate = env('MARSHAL_ROTATE');
const thing = env('MARSHAL_THING');

run({ result: {} }, async ({ pageUrl, out, result, openPage, shot, step, axeViolations }) => {
  const page = await openPage();
  const text = async (selector) => ((await page.textContent(selector)) || '').trim();
  const rows = () => page.$$eval('#inventory-table tbody tr', (trs) => trs.map((tr) => ({
    certificate: tr.dataset.certificate,
    target: tr.dataset.target,
    badge: (tr.querySelector('.badge.expiry') || {}).className || '',
    badgeText: ((tr.querySelector('.badge.expiry') || {}).textContent || '').trim(),
  })));

  step('open the page and search the inventory');
  await page.goto(pageUrl);
  await page.locator('#inventory-search').waitFor();
  await page.click('#inventory-search');
  await page.locator('#inventory-table tbody tr').first().waitFor();
  result.rows = await rows();
  result.count = await text('#inventory-count');
  await page.locator('#inventory-table').scrollIntoViewIfNeeded();
  await shot('inventory');
  await page.locator('#inventory-table').screenshot({ path: path.join(out, 'inventory-table.png') });
  result.axeInventory = await axeViolations(page);

  step('filter on a thing');
  await page.fill('#inventory-thing', thing);
  await page.click('#inventory-search');
  await page.waitForFunction((want) => {
    const trs = [...document.querySelectorAll('#inventory-table tbody tr')];
    return trs.length > 0 && trs.length < want;
  }, result.rows.length, { timeout: 10000 });
  result.filtered = await rows();
  await page.fill('#inventory-thing', '');

  step('history of the first row');
  await page.click('#inventory-history-0');
  await page.locator('#inventory-history-table tbody tr').first().waitFor();
  result.history = await page.$$eval('#inventory-history-table tbody tr', (trs) => trs.map((tr) => tr.textContent.replace(/\s+/g, ' ').trim()));
  await shot('inventory-history');
  await page.locator('#inventory-history').screenshot({ path: path.join(out, 'inventory-history-panel.png') });
  await page.click('#inventory-history-close');

  step('export CSV');
  await page.click('#inventory-search');
  await page.locator('#inventory-table tbody tr').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#inventory-export')]);
  result.csvName = download.suggestedFilename();
  const csvPath = path.join(out, 'inventory.csv');
  await download.saveAs(csvPath);
  result.csvPath = csvPath;

  step('look the certificate up and rotate it');
  await page.fill('#manage-id', rotate);
  await page.click('#manage-lookup');
  await page.locator('#manage-rotate').waitFor();
  await page.click('#manage-rotate');
  await page.locator('#manage-rotation-summary').waitFor({ timeout: 60000 });
  result.rotationSummary = await text('#manage-rotation-summary');
  result.rotationRows = await page.$$eval('#manage-rotation-results tbody tr', (trs) => trs.map((tr) => ({
    target: tr.dataset.target, ok: tr.classList.contains('ok'),
  })));
  result.newCertificateId = await text('#rotate-certificate-id');
  const [kit] = await Promise.all([page.waitForEvent('download'), page.click('#rotate-download-kit')]);
  result.kitName = kit.suggestedFilename();
  await kit.saveAs(path.join(out, 'rotated-kit.zip'));
  await shot('rotated');
  await page.locator('#manage-rotation').screenshot({ path: path.join(out, 'rotation-panel.png') });
  result.axeRotated = await axeViolations(page);

  step('retire the old certificate');
  await page.click('#manage-retire');
  await page.locator('#manage-confirm').waitFor();
  result.retireConfirm = await text('#manage-confirm-panel');
  await page.click('#manage-confirm');
  await page.locator('#manage-outcomes-summary').waitFor({ timeout: 60000 });
  result.retireSummary = await text('#manage-outcomes-summary');
  await shot('retired');
});
