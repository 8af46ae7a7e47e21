//! What must hold for whatever `marshal-shared` decodes, shared by the fuzz
//! targets: no panic is the floor, these are the invariants above it. Each
//! check panics (which libFuzzer reports as a crash) with words saying what
//! broke, never with the input's bytes.

use base64ct::{Base64, Encoding};
use marshal_shared::{
    Certificate, Error, Imported, InputFormat, PrivateKey, find_key_material, import,
};
use sha2::{Digest, Sha256};

/// The passwords the fixtures use (`shared/tests/examples/README.md`): the
/// empty one, then the one of every encrypted fixture. Trying both keeps
/// corpus files plain files (what `marshal inspect` reads) and still
/// reaches past the MAC and the decryption of either kind.
pub const PASSWORDS: [&str; 2] = ["", "marshal-test"];

/// Runs `read` with the empty password, and again with the fixtures'
/// password when the first was the wrong one.
pub fn with_either_password<T>(read: impl Fn(&str) -> Result<T, Error>) -> Result<T, Error> {
    match read(PASSWORDS[0]) {
        Err(Error::WrongPassword(_)) => read(PASSWORDS[1]),
        other => other,
    }
}

/// A decoded certificate: its DER is what was decoded, its ID is the
/// SHA-256 of that DER (the AWS IoT certificate ID), what `inspect` shows
/// can be computed, its PEM reads back as itself (strictly too, as the API
/// reads it), and its PEM is not flagged as key material.
pub fn check_certificate(cert: &Certificate, der: &[u8]) {
    assert_eq!(
        cert.der(),
        der,
        "a certificate's DER is not the bytes it came from"
    );
    // Another SHA-256 than the one shared uses (ring's).
    assert_eq!(
        cert.id(),
        hex::encode(Sha256::digest(der)),
        "a certificate's ID is not the SHA-256 of its DER"
    );
    // Whatever it holds, describing it must not panic.
    let _ = cert.info();
    let _ = cert.key_algorithm();
    let _ = cert.is_self_signed();

    let pem = cert.to_pem();
    match Certificate::all_from_strict_pem(&pem) {
        Ok(again) => assert!(
            again.len() == 1 && again[0] == *cert,
            "a certificate's PEM reads back (strictly) as something else"
        ),
        Err(e) => panic!(
            "a certificate's own PEM is refused by the API's reader: {}",
            e.code()
        ),
    }
    assert!(
        Certificate::from_pem(&pem).is_ok_and(|again| again == *cert),
        "a certificate's PEM does not read back as itself"
    );
    if !could_hold_key_structure(der) {
        assert_eq!(
            find_key_material(&pem),
            None,
            "a certificate's PEM is flagged as private key material"
        );
    }
}

/// Whether `der` has bytes where a key structure could begin: INTEGER 0, 1
/// or 3 (PKCS#8, SEC1, PKCS#1, PFX) or a password-based encryption OID
/// (encrypted PKCS#8). A certificate with one of them could embed a real key
/// (in an extension, say), and flagging that is right; one without can only
/// be a false alarm.
fn could_hold_key_structure(der: &[u8]) -> bool {
    const PKCS5_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
    const PKCS12_PBE_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
    der.windows(3)
        .any(|w| matches!(w, [0x02, 0x01, 0x00 | 0x01 | 0x03]))
        || der.windows(PKCS5_ARC.len()).any(|w| w == PKCS5_ARC)
        || der
            .windows(PKCS12_PBE_ARC.len())
            .any(|w| w == PKCS12_PBE_ARC)
}

/// The smallest key detection looks for (an Ed25519 PKCS#8 key): below it,
/// key-material detection gives up by design (`key_material/embedded.rs`).
const MIN_KEY_DER: usize = 48;

/// A decoded private key: its PKCS#8 reads back as the same key, and what
/// we can read as a key, the API refuses as key material, even as bare
/// base64 or hex (the label alone would be caught by its words).
pub fn check_key(key: &PrivateKey) {
    let pkcs8 = key.pkcs8_der();
    match PrivateKey::from_pkcs8_der(pkcs8) {
        Ok(again) => {
            assert_eq!(
                again.algorithm(),
                key.algorithm(),
                "a key's PKCS#8 reads back as another algorithm"
            );
            assert_eq!(
                again.public_key_bits(),
                key.public_key_bits(),
                "a key's PKCS#8 reads back with another public key"
            );
        }
        Err(e) => panic!("a key's own PKCS#8 does not read back: {}", e.code()),
    }
    assert!(
        find_key_material(&key.to_pkcs8_pem()).is_some(),
        "a key's PKCS#8 PEM is not flagged as key material"
    );
    if pkcs8.len() >= MIN_KEY_DER {
        assert!(
            find_key_material(&Base64::encode_string(pkcs8)).is_some(),
            "base64 of a key we read is not flagged as key material"
        );
        assert!(
            find_key_material(&hex::encode(pkcs8)).is_some(),
            "hex of a key we read is not flagged as key material"
        );
    }
}

/// What [`import`] returned: each certificate and the key checked, a DER
/// certificate is the input itself, and the questions callers ask of the
/// result (leaf, key match) answer without panicking.
pub fn check_imported(imported: &Imported, input: &[u8]) {
    for cert in &imported.certificates {
        check_certificate(cert, cert.der());
    }
    if imported.format == InputFormat::DerCertificate {
        assert!(
            imported.certificates.len() == 1 && imported.certificates[0].der() == input,
            "a DER certificate import is not the input's certificate"
        );
    }
    if let Some(key) = &imported.private_key {
        check_key(key);
    }
    let _ = imported.leaf();
    let _ = imported.key_matches();
}

/// Imports `input` with either password and checks what came out.
pub fn fuzz_import(input: &[u8]) {
    if let Ok(imported) = with_either_password(|password| import(input, password)) {
        check_imported(&imported, input);
    }
}
