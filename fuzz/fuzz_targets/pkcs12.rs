//! `pkcs12::import`: PFX files (legacy, modern, MAC-less, BER-framed) with
//! the empty password and the fixtures' one; what comes out holds as any
//! certificate and key must.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_fuzz::{check_certificate, check_key, with_either_password};
use marshal_shared::pkcs12;

fuzz_target!(|input: &[u8]| {
    let _ = pkcs12::looks_like_pkcs12(input);
    if let Ok(contents) = with_either_password(|p| pkcs12::import(input, p)) {
        for cert in &contents.certificates {
            check_certificate(cert, cert.der());
        }
        if let Some(key) = &contents.private_key {
            check_key(key);
        }
    }
});
