//! Cross-checks `marshal` against the openssl CLI: what `keygen` makes, the certificate ID of every fixture, and what `convert` writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::{
    Cmd, FIXTURE_PASSWORD, Run, example, fixture_id, fixture_ids, keygen, keygen_cmd,
    openssl_cert_public_key, openssl_certificate_id, openssl_key_public_key, openssl_validity,
    password_line, pem_label,
};

/// Generates `key_type` with `marshal keygen` and has openssl confirm every
/// fact about it. `key_facts` are lines openssl's `-text` must show for
/// this key type.
fn check_keygen(key_type: &str, key_facts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let made = keygen(key_type, 30, dir.path());
    let context = |why: String| -> String { format!("{why}\n\nmarshal keygen was:\n{}", made.run) };

    // The ID printed, the ID of `marshal fingerprint` and openssl's agree.
    let openssl_id = openssl_certificate_id(&made.cert);
    if made.id != openssl_id {
        made.run.fail(format_args!(
            "keygen printed certificate ID {} but openssl's SHA-256 fingerprint is {openssl_id}",
            made.id
        ));
    }
    Cmd::marshal()
        .arg("fingerprint")
        .arg(&made.cert)
        .run()
        .assert_success()
        .assert_stdout_eq(&format!("{openssl_id}\n"));

    // The self-signature is valid. Plain `openssl verify -CAfile C C` would
    // pass even with a corrupt signature: OpenSSL skips checking the
    // signature of a trust anchor unless `-check_ss_sig` asks for it. A
    // self-signed leaf (CA:FALSE, no keyCertSign) is accepted as its own
    // trust anchor, and OpenSSL 3 ignores key usage when checking the
    // signature of such a self-issued end-entity certificate (RFC 6818 §2),
    // so `-x509_strict` can stay on.
    Cmd::openssl()
        .args(["verify", "-x509_strict", "-check_ss_sig", "-CAfile"])
        .arg(&made.cert)
        .arg(&made.cert)
        .run()
        .assert_success()
        .assert_stdout_contains(": OK");

    // The "SSL client" profile, as openssl reads it.
    let text = Cmd::openssl()
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&made.cert)
        .run();
    text.assert_success();
    let subject = format!("Subject: CN = {}", made.cn);
    let profile = [
        "CA:FALSE",
        "Digital Signature",
        "TLS Web Client Authentication",
        "X509v3 Subject Key Identifier",
        subject.as_str(),
    ];
    for needle in profile.iter().chain(key_facts) {
        if !text.stdout_text().contains(needle) {
            text.fail(context(format!("the certificate text lacks {needle:?}")));
        }
    }

    // At least 16 bytes of serial: openssl prints the integer in hex without
    // leading zeros, so 31 or more digits means a value of at least 2^120.
    let serial = Cmd::openssl()
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(&made.cert)
        .run();
    serial.assert_success();
    let hex = serial.stdout_field("serial=");
    if hex.trim_start_matches('0').len() < 31 {
        serial.fail(context(format!("serial {hex} is shorter than 16 bytes")));
    }

    let (not_before, not_after) = openssl_validity(&made.cert);
    if not_after - not_before != 30 * 86_400 {
        made.run.fail(format_args!(
            "--days 30 but notAfter - notBefore = {} s (expected {})",
            not_after - not_before,
            30 * 86_400
        ));
    }

    let cert_public = openssl_cert_public_key(&made.cert);
    let key_public = openssl_key_public_key(&made.key, None);
    if cert_public != key_public {
        made.run.fail(format_args!(
            "the private key does not belong to the certificate\n\
             certificate's:\n{cert_public}\nkey's:\n{key_public}"
        ));
    }

    let key_text = std::fs::read_to_string(&made.key).unwrap();
    if pem_label(&key_text) != Some("PRIVATE KEY") {
        made.run.fail(format_args!(
            "the key file's PEM label is {:?}, expected PKCS#8 `PRIVATE KEY`",
            pem_label(&key_text)
        ));
    }
    assert_owner_only(&made.key, &made.run);
}

#[cfg(unix)]
fn assert_owner_only(path: &Path, run: &Run) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    if mode != 0o600 {
        run.fail(format_args!(
            "{} has mode {mode:o}, expected 600",
            path.display()
        ));
    }
}

#[cfg(not(unix))]
fn assert_owner_only(_path: &Path, _run: &Run) {}

#[test]
fn keygen_ec_p256_is_what_openssl_sees() {
    check_keygen(
        "ec-p256",
        &[
            "NIST CURVE: P-256",
            "Signature Algorithm: ecdsa-with-SHA256",
        ],
    );
}

#[test]
fn keygen_ec_p384_is_what_openssl_sees() {
    check_keygen(
        "ec-p384",
        &[
            "NIST CURVE: P-384",
            "Signature Algorithm: ecdsa-with-SHA384",
        ],
    );
}

#[test]
fn keygen_rsa_2048_is_what_openssl_sees() {
    check_keygen(
        "rsa-2048",
        &[
            "Public-Key: (2048 bit)",
            "Signature Algorithm: sha256WithRSAEncryption",
        ],
    );
}

/// Every fixture certificate, in every container, has openssl's certificate ID.
#[test]
fn fingerprint_of_every_fixture_equals_openssl() {
    let ids = fixture_ids();
    let p256 = ids["p256.cert.pem"].clone();
    let rsa = ids["rsa2048.cert.pem"].clone();
    let mut cases: Vec<(String, Option<&str>, String)> = ids
        .iter()
        .map(|(file, id)| (file.clone(), None, id.clone()))
        .collect();
    for (file, password, id) in [
        ("p256.cert.der", None, &p256),
        ("p256.cer", None, &p256),
        ("p256.legacy.p12", None, &p256),
        ("p256.modern.p12", None, &p256),
        ("p256.legacy.pw.p12", Some(FIXTURE_PASSWORD), &p256),
        ("p256.modern.pw.p12", Some(FIXTURE_PASSWORD), &p256),
        ("rsa2048.legacy.pfx", None, &rsa),
        ("p256.rc2-128.pw.p12", Some(FIXTURE_PASSWORD), &p256),
        ("p256.plain.p12", None, &p256),
        ("p256.nomac.pw.p12", Some(FIXTURE_PASSWORD), &p256),
        ("p256.ber.pw.p12", Some(FIXTURE_PASSWORD), &p256),
    ] {
        cases.push((file.to_owned(), password, id.clone()));
    }

    let mut failures = Vec::new();
    for (file, password, want) in &cases {
        let mut cmd = Cmd::marshal().arg("fingerprint").arg(example(file));
        if let Some(password) = password {
            cmd = cmd.arg("--password-stdin").stdin(password_line(password));
        }
        let run = cmd.run();
        let leaked = String::from_utf8_lossy(&run.stdout).contains("PRIVATE KEY")
            || String::from_utf8_lossy(&run.stderr).contains("PRIVATE KEY");
        if run.code() != Some(0) || run.stdout != format!("{want}\n").as_bytes() || leaked {
            failures.push(format!("{file}: openssl says {want}\n{run}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures: `marshal fingerprint` differs from openssl \
         (or failed, or printed key material):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// `marshal convert FILE --out-cert C --out-key K` gives back exactly the
/// fixture certificate and a PKCS#8 key with the fixture key's public key.
fn check_convert_pkcs12(file: &str, password: Option<&str>, pair: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("out.cert.pem");
    let key = dir.path().join("out.key.pem");
    let mut cmd = Cmd::marshal()
        .arg("convert")
        .arg(example(file))
        .arg("--out-cert")
        .arg(&cert)
        .arg("--out-key")
        .arg(&key);
    if let Some(password) = password {
        cmd = cmd.arg("--password-stdin").stdin(password_line(password));
    }
    let run = cmd.run();
    run.assert_success().assert_no_private_key();

    let want = fixture_id(&format!("{pair}.cert.pem"));
    let got = openssl_certificate_id(&cert);
    if got != want {
        run.fail(format_args!(
            "the certificate written has ID {got}, the fixture's is {want}"
        ));
    }
    check_same_key(&run, &key, &example(&format!("{pair}.key.pem")), None);
}

/// `written` is PKCS#8 PEM and has the same public key as `fixture`.
fn check_same_key(run: &Run, written: &Path, fixture: &Path, password: Option<&str>) {
    let text = std::fs::read_to_string(written)
        .unwrap_or_else(|e| run.fail(format_args!("cannot read {}: {e}", written.display())));
    if pem_label(&text) != Some("PRIVATE KEY") {
        run.fail(format_args!(
            "{} has PEM label {:?}, expected PKCS#8 `PRIVATE KEY`",
            written.display(),
            pem_label(&text)
        ));
    }
    let got = openssl_key_public_key(written, None);
    let want = openssl_key_public_key(fixture, password);
    if got != want {
        run.fail(format_args!(
            "the key written is not {}: its public key is\n{got}\nexpected\n{want}",
            fixture.display()
        ));
    }
}

#[test]
fn convert_p256_legacy_p12_with_empty_password() {
    check_convert_pkcs12("p256.legacy.p12", None, "p256");
}

#[test]
fn convert_p256_legacy_p12_with_password() {
    check_convert_pkcs12("p256.legacy.pw.p12", Some(FIXTURE_PASSWORD), "p256");
}

#[test]
fn convert_p256_modern_p12_with_empty_password() {
    check_convert_pkcs12("p256.modern.p12", None, "p256");
}

#[test]
fn convert_p256_modern_p12_with_password() {
    check_convert_pkcs12("p256.modern.pw.p12", Some(FIXTURE_PASSWORD), "p256");
}

/// BER framing, as Java and Windows write PKCS#12 (openssl reads it too).
#[test]
fn convert_p256_ber_p12() {
    check_convert_pkcs12("p256.ber.pw.p12", Some(FIXTURE_PASSWORD), "p256");
}

#[test]
fn convert_rsa2048_legacy_pfx() {
    check_convert_pkcs12("rsa2048.legacy.pfx", None, "rsa2048");
}

/// The blog's `openssl x509 -inform DER -outform PEM` step, done by marshal.
#[test]
fn convert_der_cer_to_pem() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("out.cert.pem");
    let run = Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cer"))
        .arg("--out-cert")
        .arg(&cert)
        .run();
    run.assert_success();
    let got = openssl_certificate_id(&cert);
    let want = fixture_id("p256.cert.pem");
    if got != want {
        run.fail(format_args!(
            "the PEM written has ID {got}, p256.cer has {want}"
        ));
    }
}

/// `marshal convert KEYFILE --out-key K` rewrites any private key format as PKCS#8 PEM.
fn check_convert_key(file: &str, password: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("out.key.pem");
    let mut cmd = Cmd::marshal()
        .arg("convert")
        .arg(example(file))
        .arg("--out-key")
        .arg(&key);
    if let Some(password) = password {
        cmd = cmd.arg("--password-stdin").stdin(password_line(password));
    }
    let run = cmd.run();
    run.assert_success().assert_no_private_key();
    check_same_key(&run, &key, &example(file), password);
}

#[test]
fn convert_sec1_key_to_pkcs8() {
    check_convert_key("p256.sec1.pem", None);
}

#[test]
fn convert_pkcs1_key_to_pkcs8() {
    check_convert_key("rsa2048.pkcs1.pem", None);
}

#[test]
fn convert_encrypted_pkcs8_key() {
    check_convert_key("p256.key.enc.pem", Some(FIXTURE_PASSWORD));
}

#[test]
fn convert_pkcs8_der_key() {
    check_convert_key("p256.key.der", None);
}

/// `marshal convert CERT --key KEY --out-p12 OUT` makes a PKCS#12 that
/// openssl opens with the same password and finds the same pair in.
#[test]
fn exported_pkcs12_opens_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("out.p12");
    let run = Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cert.pem"))
        .arg("--key")
        .arg(example("p256.key.pem"))
        .arg("--out-p12")
        .arg(&p12)
        .arg("--password-stdin")
        .stdin(password_line(FIXTURE_PASSWORD))
        .run();
    run.assert_success().assert_no_private_key();

    // `-legacy` only loads the legacy provider next to the default one, so
    // openssl reads the file whichever encryption marshal chose.
    let cert = dir.path().join("from-p12.cert.pem");
    let key = dir.path().join("from-p12.key.pem");
    let pass = format!("pass:{FIXTURE_PASSWORD}");
    for (what, out) in [
        (["-clcerts", "-nokeys"], &cert),
        (["-nocerts", "-nodes"], &key),
    ] {
        Cmd::openssl()
            .args(["pkcs12", "-legacy", "-in"])
            .arg(&p12)
            .args(["-passin", &pass])
            .args(what)
            .arg("-out")
            .arg(out)
            .run()
            .assert_success();
    }
    let got = openssl_certificate_id(&cert);
    let want = fixture_id("p256.cert.pem");
    if got != want {
        run.fail(format_args!(
            "openssl finds certificate {got} in the PKCS#12, expected {want}"
        ));
    }
    check_same_key(&run, &key, &example("p256.key.pem"), None);
}

/// A wrong or missing password is exit 2 with a message about the password,
/// never a key, and no half-written output.
#[test]
fn wrong_password_is_exit_2_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out_key = dir.path().join("out.key.pem");
    let cases: [(&str, Option<&str>); 5] = [
        ("p256.modern.pw.p12", Some("wrong")),
        ("p256.legacy.pw.p12", Some("wrong")),
        ("p256.modern.pw.p12", None),
        ("p256.legacy.pw.p12", None),
        ("p256.key.enc.pem", Some("wrong")),
    ];
    for (file, password) in cases {
        // A lone key file has no certificate to fingerprint or inspect.
        let subcommands: &[&str] = if file.ends_with(".p12") {
            &["fingerprint", "inspect", "convert"]
        } else {
            &["convert"]
        };
        for subcommand in subcommands {
            let mut cmd = Cmd::marshal().arg(subcommand).arg(example(file));
            if *subcommand == "convert" {
                cmd = cmd.arg("--out-key").arg(&out_key);
            }
            if let Some(password) = password {
                cmd = cmd.arg("--password-stdin").stdin(password_line(password));
            }
            let run = cmd.run();
            run.assert_exit(2).assert_no_private_key();
            if !run.stderr_text().to_lowercase().contains("password") {
                run.fail("stderr does not mention the password");
            }
            if out_key.exists() {
                run.fail(format_args!(
                    "{} was written although reading failed",
                    out_key.display()
                ));
            }
        }
    }
}

/// `marshal keygen --csr` writes a PKCS#10 request that openssl verifies,
/// with the certificate's subject (C as openssl orders it), its extensions
/// and the key's public key.
#[test]
fn keygen_csr_verifies_in_openssl() {
    for key_type in ["ec-p256", "rsa-2048"] {
        let dir = tempfile::tempdir().unwrap();
        let run = keygen_cmd(key_type, 30, dir.path())
            .args(["--csr", "--org-unit", "Line 1", "--country", "JP"])
            .run();
        run.assert_success().assert_no_private_key();
        let csr = dir.path().join(format!("dev-{key_type}.csr.pem"));
        let key = dir.path().join(format!("dev-{key_type}.private.key"));
        let text = Cmd::openssl()
            .args(["req", "-verify", "-noout", "-text", "-in"])
            .arg(&csr)
            .run();
        text.assert_success();
        let subject = format!("Subject: C = JP, OU = Line 1, CN = dev-{key_type}");
        for needle in [
            "verify OK",
            subject.as_str(),
            "Requested Extensions",
            "Digital Signature",
            "TLS Web Client Authentication",
            "CA:FALSE",
        ] {
            let all = format!(
                "{}{}",
                text.stdout_text(),
                String::from_utf8_lossy(&text.stderr)
            );
            if !all.contains(needle) {
                text.fail(format_args!("the CSR ({key_type}) lacks {needle:?}"));
            }
        }
        let csr_public = Cmd::openssl()
            .args(["req", "-noout", "-pubkey", "-in"])
            .arg(&csr)
            .run();
        csr_public.assert_success();
        if csr_public.stdout_text() != openssl_key_public_key(&key, None) {
            csr_public.fail(format_args!(
                "the CSR ({key_type}) does not carry the key's public key"
            ));
        }
    }
}
