//! QR codes of certificate IDs, as SVG. Filled in next.
