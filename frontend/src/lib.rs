//! Marshal's onboarding page (Yew + WebAssembly).
//!
//! Empty on purpose until the page issue lands; nothing here pretends to work.
//! The crate exists so the workspace layout, lints and CI cover it from day one.
