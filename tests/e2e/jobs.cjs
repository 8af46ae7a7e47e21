// Factory jobs from the page in Debian's Chromium: a batch made in the
// browser is registered as a job into the targets chosen in Register, and
// its progress followed to the end; a small batch goes in the request body,
// a large one is PUT to the job bucket's presigned URL first. The results
// CSV of each is downloaded. Run by tests/tests/page_jobs.rs, which checks
// what this script reports against boto3's view of moto.
//
// Environment (the first three are browser.cjs's):
//   MARSHAL_PAGE_URL, MARSHAL_ARTIFACTS, MARSHAL_NODE_MODULES
//   MARSHAL_TARGETS   target ids to choose, comma-separated
//   MARSHAL_SMALL     names in the batch sent in the body
//   MARSHAL_LARGE     names in the batch uploaded
'use strict';

const path = require('path');
const { env, run } = require('./browser.cjs');

const targets = env('MARSHAL_TARGETS').split(',');
const sizes = { small: Number(env('MARSHAL_SMALL')), large: Number(env('MARSHAL_LARGE')) };

run({ result: { jobs: {} } }, async ({ pageUrl, out, result, openPage, shot, step, axeViolations }) => {
  const page = await openPage();

  step('open the page and choose the targets');
  await page.goto(pageUrl);
  for (const target of targets) {
    await page.locator(`#target-${target}`).check();
  }

  for (const kind of ['small', 'large']) {
    step(`${kind} batch: ${sizes[kind]} credentials made in the browser`);
    const names = Array.from({ length: sizes[kind] }, (_, i) => `${kind}-${String(i + 1).padStart(3, '0')}`);
    await page.fill('#batch-names', names.join('\n'));
    await page.click('#batch-start');
    await page.locator('#batch-done').waitFor({ timeout: 120000 });
    await page.locator('#batch-job-submit').waitFor();
    if (kind === 'small') {
      await page.locator('#batch-job').scrollIntoViewIfNeeded();
      await shot('job-ready');
      result.axeReady = await axeViolations(page);
    }

    step(`${kind} batch: register it as a job and follow it`);
    await page.click('#batch-job-submit');
    const status = page.locator('#batch-job-status');
    await status.waitFor({ timeout: 60000 });
    // Seen while it runs (the first read may already be the end).
    const first = await status.getAttribute('data-state');
    await page.locator('#batch-job-status[data-state="finished"], #batch-job-status[data-state="failed"], #batch-job-status[data-state="cancelled"]')
      .waitFor({ timeout: 240000 });
    const job = {
      first,
      id: await status.getAttribute('data-job'),
      state: await status.getAttribute('data-state'),
      done: Number(await status.getAttribute('data-done')),
      total: Number(await status.getAttribute('data-total')),
      counts: ((await page.textContent('#batch-job-counts')) || '').replace(/\s+/g, ' ').trim(),
    };
    await page.locator('#batch-job').scrollIntoViewIfNeeded();
    await shot(`job-${kind}-${job.state}`);
    await page.locator('#batch-job').screenshot({ path: path.join(out, `job-${kind}-panel.png`) });

    step(`${kind} batch: download the results`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#batch-job-results')]);
    job.csvName = download.suggestedFilename();
    job.csvPath = path.join(out, `job-${kind}.csv`);
    await download.saveAs(job.csvPath);
    result.jobs[kind] = job;
    if (kind === 'large') result.axeFinished = await axeViolations(page);
  }
});
