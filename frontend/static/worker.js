// The generation worker: the same WebAssembly module as the page, so keys
// are made off the UI thread. RSA keys come from WebCrypto (fast, and the
// WebAssembly carries no RSA key generator); ECDSA keys from ring. The
// handler is installed before the module has loaded, so no job sent early
// is lost. Messages in: {kind: 'generate', job} or {kind: 'batch', job};
// out: {kind: 'generated', outcome}, {kind: 'progress', done, total},
// {kind: 'batch', zip, fileName, jobFile, count, ms} or {kind: 'batchFailed', message}.
import init, { generate_in_worker, BatchRun } from './marshal_frontend.js';

const ready = init();
const RSA_BITS = { 'rsa-2048': 2048, 'rsa-3072': 3072, 'rsa-4096': 4096 };

// A fresh RSA key as PKCS#8 DER, or undefined for other key types.
async function rsaPkcs8(bits) {
  if (!bits) return undefined;
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  return new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
}

const message = (error) => (error && error.message) || String(error);

async function generate(jobJson) {
  let key;
  try {
    key = await rsaPkcs8(RSA_BITS[JSON.parse(jobJson).keyType]);
    self.postMessage({ kind: 'generated', outcome: generate_in_worker(jobJson, key) });
  } catch (error) {
    const id = (() => { try { return JSON.parse(jobJson).id; } catch { return 0; } })();
    self.postMessage({
      kind: 'generated',
      outcome: JSON.stringify({ outcome: 'failed', id, message: `the browser could not make the key: ${message(error)}` }),
    });
  } finally {
    if (key) key.fill(0);
  }
}

async function batch(jobJson) {
  const started = performance.now();
  let run;
  try {
    run = new BatchRun(jobJson);
    const total = run.total();
    const bits = run.rsa_bits();
    let done = 0;
    let more = total > 0;
    let lastPost = 0;
    while (more) {
      const key = await rsaPkcs8(bits);
      try {
        more = run.add_next(key);
      } finally {
        if (key) key.fill(0);
      }
      done += 1;
      // About ten updates a second: enough for a smooth bar, cheap for the page.
      const now = performance.now();
      if (now - lastPost > 100 || !more) {
        self.postMessage({ kind: 'progress', done, total });
        lastPost = now;
      }
    }
    const fileName = run.file_name();
    const jobFile = run.job_file();
    const zip = run.finish();
    run = undefined; // finish() consumed it
    self.postMessage(
      { kind: 'batch', zip, fileName, jobFile, count: total, ms: performance.now() - started },
      [zip.buffer],
    );
  } catch (error) {
    if (run) run.free();
    self.postMessage({ kind: 'batchFailed', message: message(error) });
  }
}

self.onmessage = async (event) => {
  await ready;
  const { kind, job } = event.data;
  if (kind === 'batch') await batch(job);
  else await generate(job);
};
