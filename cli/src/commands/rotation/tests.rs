use std::{fs, path::PathBuf};

use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

fn example(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tests/examples"
    ))
    .join(name)
}

/// A scratch directory that is removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "marshal-cli-rotation-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[track_caller]
fn refused(path: &Path, code: &str) -> Failure {
    let failure = new_certificate(path, NOW).unwrap_err();
    assert_eq!(failure.code, code, "{}: {failure:?}", path.display());
    failure
}

#[test]
fn a_certificate_alone_is_taken_as_pem_or_der() {
    for name in ["p256.cert.pem", "p256.cert.der", "p256.cer"] {
        let (cert, _) =
            new_certificate(&example(name), NOW).unwrap_or_else(|f| panic!("{name}: {f:?}"));
        assert!(
            cert.to_pem().starts_with("-----BEGIN CERTIFICATE-----"),
            "{name}"
        );
    }
}

#[test]
fn a_file_holding_a_key_is_refused_before_anything_is_sent() {
    let scratch = Scratch::new("keys");
    let cert = fs::read(example("p256.cert.pem")).unwrap();
    let key = fs::read(example("p256.key.pem")).unwrap();
    let together = scratch.file("both.pem", &[cert.clone(), key].concat());
    let failure = refused(&together, "key_material_in_file");
    assert_eq!(failure.status, 2);
    assert!(failure.message.contains("marshal convert"), "{failure:?}");
    assert!(failure.message.contains("nothing was sent"), "{failure:?}");
    // A key under a certificate's label is still a key.
    let body = fs::read_to_string(example("p256.key.pem")).unwrap();
    // The key's label, assembled so no key marker sits in the source.
    let key_label = ["PRIVATE", "KEY"].join(" ");
    let disguised = body.replace(&key_label, "CERTIFICATE");
    refused(
        &scratch.file("disguised.pem", &[cert, disguised.into_bytes()].concat()),
        "key_material_in_file",
    );
    for name in [
        "p256.key.pem",
        "p256.sec1.pem",
        "rsa2048.pkcs1.pem",
        "p256.key.enc.pem",
        "p256.key.der",
        "p256.modern.p12",
        "p256.plain.p12",
        "p256.modern.pw.p12",
        "rsa2048.legacy.pfx",
    ] {
        let failure = refused(&example(name), "key_material_in_file");
        assert!(
            !failure.message.contains("PRIVATE KEY-----"),
            "the refusal must not echo the key: {failure:?}"
        );
    }
}

#[test]
fn several_or_no_certificates_are_refused() {
    let scratch = Scratch::new("count");
    let one = fs::read(example("p256.cert.pem")).unwrap();
    let two = fs::read(example("p384.cert.pem")).unwrap();
    let failure = refused(
        &scratch.file("two.pem", &[one, two].concat()),
        "several_certificates",
    );
    assert_eq!(failure.status, 2);
    let failure = new_certificate(&scratch.file("empty.pem", b"nothing here\n"), NOW).unwrap_err();
    assert_eq!(failure.status, 2, "{failure:?}");
    let failure = new_certificate(&scratch.0.join("missing.pem"), NOW).unwrap_err();
    assert_eq!(failure.status, 2, "{failure:?}");
}

#[test]
fn what_aws_iot_refuses_is_not_sent() {
    let failure = refused(&example("rsa1024.cert.pem"), "preflight_failed");
    assert_eq!(failure.status, 1);
    assert!(failure.message.contains("nothing was sent"), "{failure:?}");
}
