//! `import(bytes, password)`: whatever a user drops on the page or gives the
//! CLI (PEM, DER certificate or key, PKCS#12), with the empty password and
//! the fixtures' one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| marshal_fuzz::fuzz_import(input));
