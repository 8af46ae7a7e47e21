//! Keys that must be refused (issue 13), made by
//! `tests/examples/make-broken-keys.py` and refused by Python
//! `cryptography` too; and the key/certificate match on derived keys.

use super::PrivateKey;
use crate::{certificate::Certificate, error::Error, import::import};

macro_rules! broken {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../tests/examples/broken-keys/", $name)),
        )
    };
}

/// Each broken key: the file, the error code and words the message must hold.
#[test]
fn issue_13_broken_keys_are_refused_with_specific_words() {
    let cases = [
        (
            broken!("mismatch.sec1.pem"),
            "malformed_key",
            "is not the one its secret makes",
        ),
        (
            broken!("mismatch.pkcs8.pem"),
            "malformed_key",
            "is not the one its secret makes",
        ),
        (
            broken!("rsa-wrong-modulus.pkcs1.pem"),
            "malformed_key",
            "not one key pair",
        ),
        (
            broken!("ed25519-v2-mismatch.pem"),
            "malformed_key",
            "is not the one its seed makes",
        ),
        (
            broken!("curve-mismatch.pkcs8.pem"),
            "malformed_key",
            "names P-256 but the key inside names P-384",
        ),
        (
            broken!("short-secret.sec1.pem"),
            "malformed_key",
            "a 1-byte secret on P-256, which needs exactly 32 bytes",
        ),
        (
            broken!("rsa-q2.pkcs1.pem"),
            "malformed_key",
            "primes of 1024 and 2 bits",
        ),
        (
            broken!("pkcs8-v1-with-public.pem"),
            "malformed_key",
            "v1 with a public key",
        ),
        (
            broken!("pkcs8-v3.pem"),
            "malformed_key",
            "version 3 (only v1 and v2 exist)",
        ),
        (
            broken!("non-der-inner.pkcs8.pem"),
            "malformed_key",
            "EC key:",
        ),
    ];
    for ((name, pem), code, words) in cases {
        let err = PrivateKey::from_pem(pem, "").expect_err(name);
        let message = err.to_string();
        assert_eq!(err.code(), code, "{name}: {message}");
        assert!(
            message.contains(words),
            "{name}: {message:?} lacks {words:?}"
        );
        // Nor does the page's import take it.
        assert!(
            import(pem.as_bytes(), "").is_err(),
            "{name}: import took it"
        );
    }
}

/// The bug: a key stored beside a certificate's public key matched that
/// certificate, so `convert --out-p12` packed it. Now it does not load.
#[test]
fn issue_13_a_foreign_public_key_does_not_make_a_key_match() {
    let cases = [
        (
            broken!("mismatch.pkcs8.pem"),
            &include_bytes!("../../tests/examples/p256.cert.pem")[..],
        ),
        (
            broken!("rsa-wrong-modulus.pkcs1.pem"),
            include_bytes!("../../tests/examples/rsa2048.cert.pem"),
        ),
    ];
    for ((name, key), cert) in cases {
        let bundle = [key.as_bytes(), cert].concat();
        let err = import(&bundle, "").expect_err(name);
        assert_eq!(err.code(), "malformed_key", "{name}: {err}");
    }
}

#[test]
fn keys_match_their_certificates_and_no_other() {
    let key = |text: &[u8]| PrivateKey::from_pem(std::str::from_utf8(text).unwrap(), "").unwrap();
    let cert = |text: &[u8]| Certificate::from_pem(std::str::from_utf8(text).unwrap()).unwrap();
    let p256 = key(include_bytes!("../../tests/examples/p256.key.pem"));
    let sec1 = key(include_bytes!("../../tests/examples/p256.sec1.pem"));
    let p384 = key(include_bytes!("../../tests/examples/p384.key.pem"));
    let p521 = key(include_bytes!("../../tests/examples/p521.key.pem"));
    let rsa = key(include_bytes!("../../tests/examples/rsa2048.pkcs1.pem"));
    let other = key(include_bytes!("../../tests/examples/other.key.pem"));
    let p256_cert = cert(include_bytes!("../../tests/examples/p256.cert.pem"));
    let p384_cert = cert(include_bytes!("../../tests/examples/p384.cert.pem"));
    let p521_cert = cert(include_bytes!("../../tests/examples/p521.cert.pem"));
    let rsa_cert = cert(include_bytes!("../../tests/examples/rsa2048.cert.pem"));
    p256.check_matches(&p256_cert).unwrap();
    sec1.check_matches(&p256_cert).unwrap();
    assert_eq!(
        sec1.pkcs8_der(),
        p256.pkcs8_der(),
        "SEC1 rewrapped as openssl writes PKCS#8"
    );
    p384.check_matches(&p384_cert).unwrap();
    p521.check_matches(&p521_cert).unwrap();
    rsa.check_matches(&rsa_cert).unwrap();
    for (key, cert) in [
        (&other, &p256_cert),
        (&p256, &p384_cert),
        (&p384, &p521_cert),
        (&rsa, &p256_cert),
    ] {
        assert_eq!(key.check_matches(cert), Err(Error::KeyMismatch));
    }
}

#[test]
fn trailing_bytes_and_bare_secrets_are_refused() {
    let der = include_bytes!("../../tests/examples/p256.key.der");
    let err = PrivateKey::from_pkcs8_der(&[&der[..], &[0]].concat()).unwrap_err();
    assert_eq!(err.code(), "malformed_key", "{err}");
    let err = PrivateKey::from_der_any(&der[..der.len() - 1]).unwrap_err();
    assert_eq!(err.code(), "malformed_key", "{err}");
}

/// ring checks RSA key pairs of 2048, 3072 and 4096 bits only; others are
/// refused as keys Marshal does not take, not as broken ones.
#[test]
fn rsa_keys_ring_cannot_check_are_unsupported() {
    let pkcs8 = crate::generate::generate_rsa_pkcs8(1024).unwrap();
    let err = PrivateKey::from_pkcs8_der(&pkcs8).unwrap_err();
    assert_eq!(err.code(), "unsupported_key_type", "{err}");
    assert!(err.to_string().contains("RSA 1024 keys"), "{err}");
}

/// A broken key in DER is refused for what is wrong with it, not as
/// unrecognised input.
#[test]
fn broken_der_keys_are_refused_for_what_is_wrong() {
    for (name, text) in [
        broken!("mismatch.pkcs8.pem"),
        broken!("mismatch.sec1.pem"),
        broken!("rsa-q2.pkcs1.pem"),
        broken!("pkcs8-v3.pem"),
    ] {
        let blocks = crate::pem::parse_blocks(text).unwrap();
        let err = import(&blocks[0].der, "").expect_err(name);
        assert_eq!(err.code(), "malformed_key", "{name}: {err}");
    }
}

/// Found by the `private_key` fuzz target: the largest version number a
/// u64 holds overflowed while the error named the version.
#[test]
fn the_largest_pkcs8_version_is_named_not_overflowed() {
    let mut der = vec![0x30, 0x0b, 0x02, 0x09, 0x00];
    der.extend([0xff; 8]);
    let err = PrivateKey::from_pkcs8_der(&der).unwrap_err();
    assert_eq!(err.code(), "malformed_key", "{err}");
    assert!(
        err.to_string().contains("version 18446744073709551616"),
        "{err}"
    );
}
