// Loads the page's WebAssembly and mounts it (an external file, so the
// Content-Security-Policy needs no 'unsafe-inline').
import init, { start_page } from './marshal_frontend.js';

await init();
start_page();
