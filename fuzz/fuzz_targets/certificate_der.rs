//! `Certificate::from_der`: a DER certificate (`.cer`, `.der`, or a PEM
//! block's contents), checked against what must hold for every certificate
//! it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_shared::Certificate;

fuzz_target!(|der: &[u8]| {
    if let Ok(cert) = Certificate::from_der(der) {
        marshal_fuzz::check_certificate(&cert, der);
    }
});
