//! Cross-checks `marshal` against Python's `cryptography` (a second implementation beside openssl): keygen output and exported PKCS#12.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::path::Path;

use marshal_tests::{Cmd, FIXTURE_PASSWORD, Run, example, fixture_id, keygen, password_line};
use serde_json::{Value, json};

/// Put before every script: a clear message instead of an AttributeError on
/// an old `cryptography` (Debian 12's is 38; `not_valid_after_utc` is 42+).
const REQUIRE_CRYPTOGRAPHY_42: &str = r#"
import sys, cryptography
if int(cryptography.__version__.split(".")[0]) < 42:
    sys.exit("%s has cryptography %s; these checks need 42 or newer (tests/requirements.txt)"
             % (sys.executable, cryptography.__version__))
"#;

/// Loads a PEM certificate and PEM private key; prints what it sees as JSON.
const LOAD_KEYGEN_OUTPUT: &str = r#"
import json, sys
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), password=None)

def spki(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ).hex()

def extension(cls):
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None

if isinstance(key, ec.EllipticCurvePrivateKey):
    key_type = "ec-" + {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}.get(
        key.curve.name, key.curve.name)
elif isinstance(key, rsa.RSAPrivateKey):
    key_type = "rsa-%d" % key.key_size
else:
    key_type = type(key).__name__

try:
    cert.verify_directly_issued_by(cert)
    self_signature = "valid"
except Exception as e:
    self_signature = repr(e)

bc = extension(x509.BasicConstraints)
ku = extension(x509.KeyUsage)
eku = extension(x509.ExtendedKeyUsage)
ski = extension(x509.SubjectKeyIdentifier)
print(json.dumps({
    "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    "public_keys_equal": spki(cert.public_key()) == spki(key.public_key()),
    "key_type": key_type,
    "self_signature": self_signature,
    "basic_constraints_ca": None if bc is None else bc.ca,
    "key_usage_digital_signature": None if ku is None else ku.digital_signature,
    "eku_client_auth": None if eku is None else ExtendedKeyUsageOID.CLIENT_AUTH in eku,
    "subject_key_identifier": ski is not None,
    "serial": str(cert.serial_number),
    "serial_at_least_2_120": cert.serial_number >= 2**120,
    "subject": cert.subject.rfc4514_string(),
    "validity_seconds": int((cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds()),
}))
"#;

/// Loads a PKCS#12 with a password (argv[2], may be empty); prints what it holds as JSON.
const LOAD_PKCS12: &str = r#"
import json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

key, cert, additional = pkcs12.load_key_and_certificates(
    open(sys.argv[1], "rb").read(), sys.argv[2].encode())

def spki(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ).hex()

print(json.dumps({
    "sha256": None if cert is None else cert.fingerprint(hashes.SHA256()).hex(),
    "has_key": key is not None,
    "public_keys_equal": None if key is None or cert is None
        else spki(cert.public_key()) == spki(key.public_key()),
    "additional_certificates": len(additional),
}))
"#;

/// Runs a script with the given arguments and returns its JSON.
fn python(script: &str, args: &[&OsStr]) -> (Run, Value) {
    let run = Cmd::python(&format!("{REQUIRE_CRYPTOGRAPHY_42}{script}"))
        .args(args)
        .run();
    run.assert_success();
    let facts = run.json();
    (run, facts)
}

/// `got` must equal `want` field by field; on failure prints both and every run.
fn assert_facts(got: &Value, want: &Value, runs: &[&Run]) {
    let mismatches: Vec<String> = want
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| got.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            format!(
                "  {k}: python says {}, expected {v}",
                got.get(k.as_str()).unwrap_or(&Value::Null)
            )
        })
        .collect();
    if !mismatches.is_empty() {
        let runs: Vec<String> = runs.iter().map(ToString::to_string).collect();
        panic!(
            "Python cryptography disagrees:\n{}\n\nall it saw: {got:#}\n\n{}",
            mismatches.join("\n"),
            runs.join("\n\n")
        );
    }
}

fn check_keygen(key_type: &str) {
    let dir = tempfile::tempdir().unwrap();
    let made = keygen(key_type, 30, dir.path());
    let (run, facts) = python(
        LOAD_KEYGEN_OUTPUT,
        &[made.cert.as_os_str(), made.key.as_os_str()],
    );
    assert_facts(
        &facts,
        &json!({
            "sha256": made.id,
            "public_keys_equal": true,
            "key_type": key_type,
            "self_signature": "valid",
            "basic_constraints_ca": false,
            "key_usage_digital_signature": true,
            "eku_client_auth": true,
            "subject_key_identifier": true,
            "serial_at_least_2_120": true,
            "subject": format!("CN={}", made.cn),
            "validity_seconds": 30 * 86_400,
        }),
        &[&made.run, &run],
    );
}

#[test]
fn keygen_ec_p256_loads_in_python() {
    check_keygen("ec-p256");
}

#[test]
fn keygen_ec_p384_loads_in_python() {
    check_keygen("ec-p384");
}

#[test]
fn keygen_rsa_2048_loads_in_python() {
    check_keygen("rsa-2048");
}

/// `marshal convert CERT --key KEY --out-p12 OUT --password-stdin` (or
/// `--empty-password` for `None`), then
/// `pkcs12.load_key_and_certificates(OUT, password)`.
fn check_pkcs12_export(cert: &Path, key: &Path, password: Option<&str>, want_id: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("out.p12");
    let mut cmd = Cmd::marshal()
        .arg("convert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .arg("--out-p12")
        .arg(&p12);
    cmd = match password {
        Some(password) => cmd.arg("--password-stdin").stdin(password_line(password)),
        None => cmd.arg("--empty-password"),
    };
    let export = cmd.run();
    export.assert_success().assert_no_private_key();
    let (run, facts) = python(
        LOAD_PKCS12,
        &[p12.as_os_str(), OsStr::new(password.unwrap_or(""))],
    );
    assert_facts(
        &facts,
        &json!({
            "sha256": want_id,
            "has_key": true,
            "public_keys_equal": true,
        }),
        &[&export, &run],
    );
}

#[test]
fn exported_pkcs12_with_password_loads_in_python() {
    check_pkcs12_export(
        &example("p256.cert.pem"),
        &example("p256.key.pem"),
        Some(FIXTURE_PASSWORD),
        &fixture_id("p256.cert.pem"),
    );
}

/// An empty password, asked for with `--empty-password`, is what macOS
/// Keychain users are used to.
#[test]
fn exported_pkcs12_with_empty_password_loads_in_python() {
    check_pkcs12_export(
        &example("rsa2048.cert.pem"),
        &example("rsa2048.key.pem"),
        None,
        &fixture_id("rsa2048.cert.pem"),
    );
}

#[test]
fn exported_pkcs12_of_keygen_output_loads_in_python() {
    let dir = tempfile::tempdir().unwrap();
    let made = keygen("ec-p384", 30, dir.path());
    check_pkcs12_export(&made.cert, &made.key, Some(FIXTURE_PASSWORD), &made.id);
}
