// The generation worker: the same WebAssembly module as the page, so keys
// are made off the UI thread. The handler is installed before the module
// has loaded, so no job sent early is lost.
import init, { generate_in_worker } from './marshal_frontend.js';

const ready = init();

self.onmessage = async (event) => {
  await ready;
  self.postMessage(generate_in_worker(event.data));
};
