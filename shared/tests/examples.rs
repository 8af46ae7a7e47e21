//! Table tests over the fixtures in `tests/examples/`, which openssl made
//! (see its README): every import form, every refusal, every error kind.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::HashMap, fs, path::PathBuf};

use marshal_shared::{
    Certificate, Curve, Error, InputFormat, KeyAlgorithm, OffsetDateTime, import,
    pem::PemProblem,
    preflight::{self, FindingCode, Severity},
};

fn example(name: &str) -> Vec<u8> {
    // Run-time CARGO_MANIFEST_DIR: the compile-time one names whichever
    // checkout built this test into a shared target dir first.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let path = manifest.join("tests/examples").join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The certificate IDs openssl computed (`openssl-fingerprints.txt`).
fn openssl_ids() -> HashMap<String, String> {
    String::from_utf8(example("openssl-fingerprints.txt"))
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (file, rest) = line.split_once(' ')?;
            let hex = rest
                .split_once('=')?
                .1
                .replace(':', "")
                .to_ascii_lowercase();
            Some((file.to_owned(), hex))
        })
        .collect()
}

/// A fixed "now" inside the fixtures' validity (2026-11-29 to 2036-11-26).
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap() // 2027-12-28
}

#[test]
fn certificate_ids_equal_openssl_sha256_fingerprints() {
    let ids = openssl_ids();
    assert!(
        ids.len() >= 12,
        "openssl-fingerprints.txt looks incomplete: {ids:?}"
    );
    for (file, expected) in &ids {
        let imported = import(&example(file), "").unwrap_or_else(|e| panic!("{file}: {e}"));
        let cert = imported.leaf().unwrap();
        assert_eq!(
            &cert.id(),
            expected,
            "{file}: our certificate ID differs from openssl's"
        );
    }
}

#[test]
fn every_form_of_the_p256_credential_imports_to_the_same_certificate_and_key() {
    let reference = import(&example("p256.cert.pem"), "").unwrap();
    let cert_id = reference.leaf().unwrap().id();
    let key_pkcs8 = import(&example("p256.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    // (file, password, format, has certificate, has key)
    let cases: &[(&str, &str, InputFormat, bool, bool)] = &[
        (
            "p256.cert.der",
            "",
            InputFormat::DerCertificate,
            true,
            false,
        ),
        ("p256.cer", "", InputFormat::DerCertificate, true, false),
        ("p256.key.der", "", InputFormat::DerPrivateKey, false, true),
        ("p256.sec1.pem", "", InputFormat::Pem, false, true),
        (
            "p256.key.enc.pem",
            "marshal-test",
            InputFormat::Pem,
            false,
            true,
        ),
        (
            "p256.key.pbe-sha1-3des.pem",
            "marshal-test",
            InputFormat::Pem,
            false,
            true,
        ),
        (
            "p256.key.des3.pem",
            "marshal-test",
            InputFormat::Pem,
            false,
            true,
        ),
        ("p256.legacy.p12", "", InputFormat::Pkcs12, true, true),
        (
            "p256.legacy.pw.p12",
            "marshal-test",
            InputFormat::Pkcs12,
            true,
            true,
        ),
        ("p256.modern.p12", "", InputFormat::Pkcs12, true, true),
        (
            "p256.modern.pw.p12",
            "marshal-test",
            InputFormat::Pkcs12,
            true,
            true,
        ),
        (
            "p256.rc2-128.pw.p12",
            "marshal-test",
            InputFormat::Pkcs12,
            true,
            true,
        ),
        ("p256.plain.p12", "", InputFormat::Pkcs12, true, true),
        (
            "p256.plain.p12",
            "any password",
            InputFormat::Pkcs12,
            true,
            true,
        ),
        (
            "p256.nomac.pw.p12",
            "marshal-test",
            InputFormat::Pkcs12,
            true,
            true,
        ),
        (
            "p256.ber.pw.p12",
            "marshal-test",
            InputFormat::Pkcs12,
            true,
            true,
        ),
    ];
    for &(file, password, format, has_cert, has_key) in cases {
        let got = import(&example(file), password).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got.format, format, "{file}");
        if has_cert {
            assert_eq!(got.leaf().unwrap().id(), cert_id, "{file}");
        } else {
            assert!(got.certificates.is_empty(), "{file}");
        }
        match (&got.private_key, has_key) {
            (Some(key), true) => {
                assert_eq!(
                    key.pkcs8_der(),
                    key_pkcs8.pkcs8_der(),
                    "{file}: not the same PKCS#8"
                );
                assert_eq!(
                    key.algorithm(),
                    &KeyAlgorithm::Ec { curve: Curve::P256 },
                    "{file}"
                );
                key.check_matches(reference.leaf().unwrap()).unwrap();
            }
            (None, false) => {}
            (key, _) => panic!("{file}: expected key {has_key}, got {key:?}"),
        }
        if has_cert && has_key {
            assert_eq!(got.key_matches(), Some(Ok(())), "{file}");
        }
    }
}

#[test]
fn rsa_forms_import() {
    let cert = import(&example("rsa2048.cert.pem"), "").unwrap();
    for file in ["rsa2048.key.pem", "rsa2048.pkcs1.pem", "rsa2048.legacy.pfx"] {
        let got = import(&example(file), "").unwrap_or_else(|e| panic!("{file}: {e}"));
        let key = got.private_key.unwrap();
        assert_eq!(key.algorithm(), &KeyAlgorithm::Rsa { bits: 2048 }, "{file}");
        key.check_matches(cert.leaf().unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn key_and_certificate_that_do_not_belong_together() {
    let cert = import(&example("p256.cert.pem"), "").unwrap();
    let other = import(&example("other.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    assert_eq!(
        other.check_matches(cert.leaf().unwrap()),
        Err(Error::KeyMismatch)
    );
    let rsa = import(&example("rsa2048.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    assert_eq!(
        rsa.check_matches(cert.leaf().unwrap()),
        Err(Error::KeyMismatch)
    );
    let mut both = example("p256.cert.pem");
    both.extend(example("other.key.pem"));
    assert_eq!(
        import(&both, "").unwrap().key_matches(),
        Some(Err(Error::KeyMismatch))
    );
}

#[test]
fn wrong_and_missing_passwords_say_so() {
    for file in [
        "p256.legacy.pw.p12",
        "p256.modern.pw.p12",
        "p256.rc2-128.pw.p12",
        // No MAC: the wrong password shows only in what decryption gives.
        "p256.nomac.pw.p12",
        "p256.ber.pw.p12",
    ] {
        for password in ["", "wrong"] {
            assert_eq!(
                import(&example(file), password).unwrap_err(),
                Error::WrongPassword("the PKCS#12 file"),
                "{file} with {password:?}"
            );
        }
    }
    for file in [
        "p256.key.enc.pem",
        "p256.key.pbe-sha1-3des.pem",
        "p256.key.des3.pem",
    ] {
        assert_eq!(
            import(&example(file), "wrong").unwrap_err(),
            Error::WrongPassword("the encrypted private key"),
            "{file}"
        );
        // The same key in DER says the same, not that it was not recognised.
        let text = String::from_utf8(example(file)).unwrap();
        let block = &marshal_shared::pem::parse_blocks(&text).unwrap()[0];
        if block.label == "ENCRYPTED PRIVATE KEY" {
            assert_eq!(
                import(&block.der, "wrong").unwrap_err(),
                Error::WrongPassword("the encrypted private key"),
                "{file} as DER"
            );
        }
    }
}

#[test]
fn bundle_with_crlf_and_bag_attributes() {
    let text = String::from_utf8(example("bundle.crlf.pem")).unwrap();
    assert!(text.contains("\r\n"), "fixture should have CRLF line ends");
    let got = import(text.as_bytes(), "").unwrap();
    assert_eq!(got.certificates.len(), 2);
    let findings = preflight::check_pem(&text, &got.certificates, now());
    assert!(
        findings
            .iter()
            .any(|f| f.code == FindingCode::SeveralCertificates)
    );
    assert!(preflight::accepted(&findings));
}

/// What the API accepts as certificate PEM: every certificate fixture, one
/// by one and all together, and nothing else (not openssl's `Bag
/// Attributes`, not a key next to the certificate).
#[test]
fn strict_certificate_pem() {
    let ids = openssl_ids();
    let mut bundle = String::new();
    for file in ids.keys() {
        let text = String::from_utf8(example(file)).unwrap();
        let strict = Certificate::all_from_strict_pem(&text).unwrap();
        assert_eq!(strict, Certificate::all_from_pem(&text).unwrap(), "{file}");
        bundle.push_str(&text.replace('\n', "\r\n"));
        bundle.push_str("\n \t\n");
    }
    let all = Certificate::all_from_strict_pem(&bundle).unwrap();
    assert_eq!(all.len(), ids.len());

    let cert = String::from_utf8(example("p256.cert.pem")).unwrap();
    let key = String::from_utf8(example("p256.key.pem")).unwrap();
    let lines = cert.lines().count();
    let cases = [
        (
            "openssl's Bag Attributes",
            String::from_utf8(example("bundle.crlf.pem")).unwrap(),
            PemProblem::TextOutsideBlocks,
            1,
        ),
        (
            "a key after the certificate",
            format!("{cert}{key}"),
            PemProblem::OtherLabel,
            lines + 1,
        ),
        (
            "hex after the certificate",
            format!("{cert}\n3081870201003013"),
            PemProblem::TextOutsideBlocks,
            lines + 2,
        ),
        (
            "a dangling BEGIN line",
            format!("{cert}-----BEGIN CERTIFICATE-----\n"),
            PemProblem::NoEnd,
            lines + 1,
        ),
    ];
    for (what, text, problem, line) in cases {
        let err = Certificate::all_from_strict_pem(&text).unwrap_err();
        assert_eq!(
            err,
            Error::UnexpectedPemContent {
                problem,
                line,
                expected: "CERTIFICATE"
            },
            "{what}"
        );
        assert_eq!(err.code(), "unexpected_pem_content", "{what}");
        assert!(
            !err.to_string().contains("MII") && !err.to_string().contains("3081"),
            "{what}: the message quotes the input: {err}"
        );
    }
    let junk = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
    assert_eq!(
        Certificate::all_from_strict_pem(junk).unwrap_err().code(),
        "not_a_certificate"
    );
    assert_eq!(
        Certificate::all_from_strict_pem(" \n").unwrap_err(),
        Error::Empty
    );
}

#[test]
fn preflight_of_each_fixture() {
    // (file, the error or warning codes expected; empty = clean)
    let cases: &[(&str, &[FindingCode])] = &[
        ("p256.cert.pem", &[]),
        ("p384.cert.pem", &[]),
        ("p521.cert.pem", &[]),
        ("rsa2048.cert.pem", &[]),
        ("rsa1024.cert.pem", &[FindingCode::RsaKeyTooSmall]),
        (
            "ed25519.cert.pem",
            &[
                FindingCode::KeyTypeUnsupported,
                FindingCode::SignatureAlgorithmUnsupported,
            ],
        ),
        ("secp256k1.cert.pem", &[FindingCode::CurveUnsupported]),
        ("sha1-rsa2048.cert.pem", &[FindingCode::SignatureDigestWeak]),
        ("md5-rsa2048.cert.pem", &[FindingCode::SignatureDigestWeak]),
        ("expired.cert.pem", &[FindingCode::Expired]),
        ("not-yet-valid.cert.pem", &[FindingCode::NotYetValid]),
        ("ca.cert.pem", &[FindingCode::CaCertificate]),
    ];
    for &(file, expected) in cases {
        let cert = import(&example(file), "").unwrap().leaf().unwrap().clone();
        let findings = preflight::check_certificate(&cert, now());
        let codes: Vec<FindingCode> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, expected, "{file}: {findings:#?}");
        let is_error = |c: &FindingCode| *c != FindingCode::CaCertificate;
        assert_eq!(
            preflight::accepted(&findings),
            !expected.iter().any(is_error),
            "{file}: {findings:#?}"
        );
        for f in &findings {
            let expect_error = is_error(&f.code);
            assert_eq!(f.severity == Severity::Error, expect_error, "{file}: {f:?}");
            assert!(!f.message.is_empty());
        }
    }
}

#[test]
fn preflight_pem_size_and_duplicates() {
    let cert = import(&example("p256.cert.pem"), "")
        .unwrap()
        .leaf()
        .unwrap()
        .clone();
    let big = format!("{}{}", cert.to_pem(), "x".repeat(preflight::MAX_PEM_CHARS));
    let findings = preflight::check_pem(&big, std::slice::from_ref(&cert), now());
    assert!(
        findings
            .iter()
            .any(|f| f.code == FindingCode::PemTooLarge && f.severity == Severity::Error)
    );
    let dups = preflight::check_duplicates(&[cert.clone(), cert.clone()]);
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].code, FindingCode::DuplicateInBatch);
    assert!(dups[0].message.contains(&cert.id()));
}

#[test]
fn inspect_reports_what_openssl_reports() {
    let info = import(&example("p384.cert.pem"), "")
        .unwrap()
        .leaf()
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(info.subject, "CN=fixture-p384");
    assert_eq!(info.common_name.as_deref(), Some("fixture-p384"));
    assert_eq!(info.key.to_string(), "ECDSA P-384");
    assert_eq!(info.signature.to_string(), "ECDSA with SHA-384");
    assert!(info.self_signed);
    assert!(!info.is_ca);
    assert_eq!(info.key_usage, ["digitalSignature"]);
    assert_eq!(info.extended_key_usage, ["clientAuth"]);
    assert_eq!(info.fingerprints.sha256, info.certificate_id);
    let ca = import(&example("ca.cert.pem"), "")
        .unwrap()
        .leaf()
        .unwrap()
        .info()
        .unwrap();
    assert!(ca.is_ca);
    assert!(ca.key_usage.contains(&"keyCertSign".to_owned()));
}

#[test]
fn specific_errors_for_bad_inputs() {
    let der = example("p256.cert.der");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty_input"),
        ("whitespace", b"  \n\t".to_vec(), "empty_input"),
        ("garbage", b"hello, not a certificate".to_vec(), "unrecognised_input"),
        ("truncated DER", der[..der.len() / 2].to_vec(), "truncated_der"),
        ("PEM without END", b"-----BEGIN CERTIFICATE-----\nMIIB\n".to_vec(), "malformed_pem"),
        ("CSR label", b"-----BEGIN CERTIFICATE REQUEST-----\nAQID\n-----END CERTIFICATE REQUEST-----\n".to_vec(), "wrong_pem_label"),
        ("public key label", b"-----BEGIN PUBLIC KEY-----\nAQID\n-----END PUBLIC KEY-----\n".to_vec(), "wrong_pem_label"),
        ("junk in CERTIFICATE", b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n".to_vec(), "not_a_certificate"),
        ("two keys", [example("p256.key.pem"), example("other.key.pem")].concat(), "several_private_keys"),
        ("legacy PEM encryption", b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n".to_vec(), "unsupported_encryption"),
        ("RC4 in PKCS#12", example("p256.rc4.p12"), "unsupported_encryption"),
        ("DSA key label", b"-----BEGIN DSA PRIVATE KEY-----\nAQID\n-----END DSA PRIVATE KEY-----\n".to_vec(), "unsupported_key_type"),
    ];
    for (what, input, code) in cases {
        let err = import(&input, "").unwrap_err();
        assert_eq!(err.code(), code, "{what}: got {err:?}");
        let message = err.to_string();
        assert!(
            !message.contains("PRIVATE KEY-----"),
            "{what}: message echoes input: {message}"
        );
    }
    assert_eq!(
        import(&example("p256.rc4.p12"), "")
            .unwrap_err()
            .to_string(),
        "unsupported encryption in PKCS#12 file: pbeWithSHAAnd128BitRC4"
    );
}

/// Our certificate decoder against RustCrypto's `x509-cert`, field by
/// field, on every certificate fixture (openssl made them) and on what
/// `generate` makes.
#[test]
fn decoding_agrees_with_x509_cert() {
    use der::{Decode, Encode};
    use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

    let mut ders: Vec<(String, Vec<u8>)> = openssl_ids()
        .keys()
        .map(|file| {
            let cert =
                marshal_shared::Certificate::from_pem(std::str::from_utf8(&example(file)).unwrap())
                    .unwrap();
            (file.clone(), cert.der().to_vec())
        })
        .collect();
    for key_type in [
        marshal_shared::KeyType::EcP256,
        marshal_shared::KeyType::EcP384,
    ] {
        let made = marshal_shared::generate(
            key_type,
            &marshal_shared::CertificateRequest::new("agree"),
            now(),
        )
        .unwrap();
        ders.push((key_type.to_string(), made.certificate.der().to_vec()));
    }
    assert!(ders.len() > 10, "too few certificates: {}", ders.len());
    for (what, der) in ders {
        let ours = marshal_shared::Certificate::from_der(&der).unwrap();
        let info = ours.info().unwrap();
        let theirs = x509_cert::Certificate::from_der(&der).unwrap();
        let tbs = theirs.tbs_certificate();
        assert_eq!(info.subject, tbs.subject().to_string(), "{what}");
        assert_eq!(info.issuer, tbs.issuer().to_string(), "{what}");
        assert_eq!(
            info.serial,
            hex::encode(tbs.serial_number().as_bytes()),
            "{what}"
        );
        let (not_before, not_after) = ours.validity();
        let validity = tbs.validity();
        assert_eq!(
            (
                not_before.unix_timestamp() as u64,
                not_after.unix_timestamp() as u64
            ),
            (
                validity.not_before.to_unix_duration().as_secs(),
                validity.not_after.to_unix_duration().as_secs()
            ),
            "{what}"
        );
        assert_eq!(
            ours.public_key_bits(),
            tbs.subject_public_key_info().subject_public_key.raw_bytes(),
            "{what}"
        );
        assert_eq!(
            ours.common_name(),
            tbs.subject()
                .common_name()
                .unwrap()
                .map(|cn| cn.value().into_owned()),
            "{what}"
        );
        let ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
        assert_eq!(info.is_ca, ca, "{what}");
        let key_usage_bits = match tbs.get_extension::<KeyUsage>() {
            Ok(Some((_, KeyUsage(flags)))) => flags.bits(),
            _ => 0,
        };
        assert_eq!(
            info.key_usage.len() as u32,
            key_usage_bits.count_ones(),
            "{what}: {:?}",
            info.key_usage
        );
        let purposes = match tbs.get_extension::<ExtendedKeyUsage>() {
            Ok(Some((_, ExtendedKeyUsage(purposes)))) => purposes.len(),
            _ => 0,
        };
        assert_eq!(info.extended_key_usage.len(), purposes, "{what}");
        // The signature covers exactly the TBS x509-cert re-encodes.
        assert!(
            der.windows(tbs.to_der().unwrap().len())
                .any(|w| w == tbs.to_der().unwrap()),
            "{what}"
        );
    }
}
