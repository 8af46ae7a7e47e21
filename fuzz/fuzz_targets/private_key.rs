//! Private keys: DER in every form (PKCS#8, SEC1, PKCS#1, encrypted PKCS#8
//! with either password) and PEM text of any label. Every key read must
//! read back from its PKCS#8 and be flagged as key material.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_fuzz::{check_key, with_either_password};
use marshal_shared::PrivateKey;

fuzz_target!(|input: &[u8]| {
    let pkcs8 = PrivateKey::from_pkcs8_der(input);
    let sec1 = PrivateKey::from_sec1_der(input);
    let pkcs1 = PrivateKey::from_pkcs1_der(input);
    let any = PrivateKey::from_der_any(input);
    assert_eq!(
        any.is_ok(),
        pkcs8.is_ok() || sec1.is_ok() || pkcs1.is_ok(),
        "from_der_any disagrees with the three DER forms it tries"
    );
    for key in [&pkcs8, &sec1, &pkcs1].into_iter().flatten() {
        check_key(key);
    }
    if let Ok(key) = pkcs8 {
        assert_eq!(key.pkcs8_der(), input, "a PKCS#8 key is not kept as given");
    }
    if let Ok(key) = with_either_password(|p| PrivateKey::from_encrypted_pkcs8_der(input, p)) {
        check_key(&key);
    }
    if let Ok(text) = std::str::from_utf8(input)
        && let Ok(key) = with_either_password(|p| PrivateKey::from_pem(text, p))
    {
        check_key(&key);
    }
});
