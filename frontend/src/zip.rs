//! Zip archives for the page's downloads (device kit, batch). Filled in next.
