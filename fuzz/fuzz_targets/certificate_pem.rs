//! Certificates from PEM text: leniently (`all_from_pem`, `from_pem`: the
//! CLI and the page) and strictly (`all_from_strict_pem`: the API). What the
//! strict reader accepts, the lenient one accepts too, as the same
//! certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_shared::Certificate;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let lenient = Certificate::all_from_pem(text);
    if let Ok(certs) = &lenient {
        for cert in certs {
            marshal_fuzz::check_certificate(cert, cert.der());
        }
    }
    let _ = Certificate::from_pem(text);
    if let Ok(strict) = Certificate::all_from_strict_pem(text) {
        for cert in &strict {
            marshal_fuzz::check_certificate(cert, cert.der());
        }
        match &lenient {
            Ok(certs) => assert_eq!(
                certs, &strict,
                "the strict and lenient PEM readers read different certificates"
            ),
            Err(e) => panic!(
                "the strict PEM reader accepts what the lenient one refuses: {}",
                e.code()
            ),
        }
    }
});
