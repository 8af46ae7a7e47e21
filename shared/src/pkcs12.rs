//! PKCS#12 (`.p12`/`.pfx`, RFC 7292): reading legacy and modern files, writing modern ones.
//!
//! Built on `der`: the envelope's types are declared in `asn1` and decoded
//! strictly, after `ber_to_der` re-frames the BER that Java and Windows
//! write. The PKCS#12 KDF and MAC (`kdf`) and the legacy ciphers are ours,
//! on ring's hashes and RustCrypto's ciphers; PBES2 is `crate::pbes2`.
//! Why not the crates that do all this, with what they cost: ARCHITECTURE.md.

/// The envelope's `der` types; `EncryptedPrivateKeyInfo` also serves `key.rs`.
pub(crate) mod asn1;
mod ber_to_der;
mod budget;
mod cipher;
mod kdf;
mod read;
#[cfg(test)]
mod tests;
mod write;

use const_oid::ObjectIdentifier;

use crate::{certificate::Certificate, error::Result, key::PrivateKey};

/// Iterations for PBKDF2 and the MAC in files we write (OpenSSL 3 writes 2,048).
pub const EXPORT_ITERATIONS: u32 = 10_000;

/// What a PKCS#12 file held.
#[derive(Debug, Clone)]
pub struct Pkcs12Contents {
    /// Every certificate, in file order.
    pub certificates: Vec<Certificate>,
    /// The private key, when there is one.
    pub private_key: Option<PrivateKey>,
}

/// True when the bytes look like a PKCS#12 PFX (a SEQUENCE starting with version 3).
pub fn looks_like_pkcs12(der: &[u8]) -> bool {
    // SEQUENCE { INTEGER 3, ContentInfo ... }: after the outer header comes 02 01 03.
    let body = match der {
        [0x30, 0x80, rest @ ..] => rest,
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, len, rest @ ..] => {
            let n = usize::from(len & 0x7f);
            rest.get(n..).unwrap_or_default()
        }
        _ => return false,
    };
    body.starts_with(&[0x02, 0x01, 0x03])
}

/// Checks the MAC, decrypts and reads a PKCS#12 file. The empty string is
/// the empty password (and also tried as "no password", as OpenSSL does).
pub fn import(der: &[u8], password: &str) -> Result<Pkcs12Contents> {
    read::read(der, password)
}

/// Writes a modern PKCS#12 (PBES2 + PBKDF2-HMAC-SHA-256 + AES-256-CBC, HMAC-SHA-256 MAC),
/// the OpenSSL 3 default that current tools read. Checks that key and certificate match.
pub fn export(
    certificate: &Certificate,
    key: &PrivateKey,
    password: &str,
    friendly_name: &str,
) -> Result<Vec<u8>> {
    key.check_matches(certificate)?;
    write::pfx(
        certificate.der(),
        key.pkcs8_der(),
        password,
        friendly_name,
        EXPORT_ITERATIONS,
    )
}

pub(crate) use asn1::der_error;

/// Decrypts bytes under a password-based AlgorithmIdentifier: PBES2, or the
/// PKCS#12 schemes that OpenSSL before 1.1 also used for encrypted PKCS#8.
pub(crate) fn decrypt_under(
    algorithm: spki::AlgorithmIdentifierRef<'_>,
    password: &str,
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let bmp = kdf::bmp_password(Some(password));
    let password = cipher::Password {
        text: password,
        bmp: &bmp,
        mac_checked: false,
    };
    cipher::Scheme::read(algorithm)?.decrypt(&password, ciphertext)
}

/// The object identifiers of PKCS#12's envelope (RFC 7292, PKCS#7, PKCS#9).
mod oids {
    use const_oid::ObjectIdentifier as Oid;

    pub(super) const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub(super) const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
    pub(super) const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
    pub(super) const SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
    pub(super) const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
    pub(super) const SAFE_CONTENTS_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.6");
    pub(super) const X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
    pub(super) const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
    pub(super) const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");
    pub(super) const SHA_256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
}

/// The name of an encryption, MAC or digest algorithm, or its OID when unknown.
pub fn algorithm_name(oid: ObjectIdentifier) -> String {
    KNOWN
        .iter()
        .find(|(k, _)| *k == oid)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| format!("algorithm {oid}"))
}

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// Names of the algorithms and content types files name.
const KNOWN: &[(ObjectIdentifier, &str)] = &[
    (oid("1.2.840.113549.1.12.1.1"), "pbeWithSHAAnd128BitRC4"),
    (oid("1.2.840.113549.1.12.1.2"), "pbeWithSHAAnd40BitRC4"),
    (
        oid("1.2.840.113549.1.12.1.3"),
        "pbeWithSHAAnd3-KeyTripleDES-CBC",
    ),
    (
        oid("1.2.840.113549.1.12.1.4"),
        "pbeWithSHAAnd2-KeyTripleDES-CBC",
    ),
    (oid("1.2.840.113549.1.12.1.5"), "pbeWithSHAAnd128BitRC2-CBC"),
    (oid("1.2.840.113549.1.12.1.6"), "pbeWithSHAAnd40BitRC2-CBC"),
    (oid("1.2.840.113549.1.5.1"), "pbeWithMD2AndDES-CBC"),
    (oid("1.2.840.113549.1.5.3"), "pbeWithMD5AndDES-CBC"),
    (oid("1.2.840.113549.1.5.6"), "pbeWithMD5AndRC2-CBC"),
    (oid("1.2.840.113549.1.5.10"), "pbeWithSHA1AndDES-CBC"),
    (oid("1.2.840.113549.1.5.11"), "pbeWithSHA1AndRC2-CBC"),
    (oid("1.2.840.113549.1.5.13"), "PBES2"),
    (oid("1.2.840.113549.1.5.14"), "PBMAC1"),
    (oid("1.2.840.113549.1.5.12"), "PBKDF2"),
    (oid("1.3.6.1.4.1.11591.4.11"), "scrypt"),
    (oid("2.16.840.1.101.3.4.1.2"), "AES-128-CBC"),
    (oid("2.16.840.1.101.3.4.1.22"), "AES-192-CBC"),
    (oid("2.16.840.1.101.3.4.1.42"), "AES-256-CBC"),
    (oid("1.2.840.113549.3.7"), "DES-EDE3-CBC"),
    (oid("1.3.14.3.2.7"), "DES-CBC"),
    (oid("1.2.840.113549.3.2"), "RC2-CBC"),
    (oid("1.2.840.113549.2.5"), "MD5"),
    (oid("1.3.14.3.2.26"), "SHA-1"),
    (oid("2.16.840.1.101.3.4.2.1"), "SHA-256"),
    (oid("2.16.840.1.101.3.4.2.2"), "SHA-384"),
    (oid("2.16.840.1.101.3.4.2.3"), "SHA-512"),
    (oid("1.2.840.113549.2.7"), "HMAC-SHA-1"),
    (oid("1.2.840.113549.2.8"), "hmacWithSHA224"),
    (oid("1.2.840.113549.2.9"), "HMAC-SHA-256"),
    (oid("1.2.840.113549.2.10"), "HMAC-SHA-384"),
    (oid("1.2.840.113549.2.11"), "HMAC-SHA-512"),
    (oid("1.2.840.113549.1.7.2"), "signedData"),
    (oid("1.2.840.113549.1.7.3"), "envelopedData"),
];
