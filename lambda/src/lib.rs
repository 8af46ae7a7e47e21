//! Marshal's HTTP API: one router served by AWS Lambda and by a local server.
//!
//! Empty on purpose until the API issue lands; nothing here pretends to work.
//! The crate exists so the workspace layout, lints and CI cover it from day one.
