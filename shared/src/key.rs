//! Private keys: the kinds we generate, and reading any common encoding into
//! PKCS#8 as a key pair proven consistent (`key/decode.rs`, `key/pair.rs`).

use std::{fmt, str::FromStr};

use serde::Serialize;
use zeroize::Zeroizing;

mod decode;
mod pair;
#[cfg(test)]
mod tests;

use crate::{
    algorithm::{KeyAlgorithm, rsa_public_numbers},
    certificate::Certificate,
    error::{Error, Result},
    pem,
};

/// The kinds of key Marshal generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum KeyType {
    /// ECDSA on P-256: small, fast, accepted everywhere AWS IoT runs. The default.
    #[default]
    #[serde(rename = "ec-p256")]
    EcP256,
    /// ECDSA on P-384.
    #[serde(rename = "ec-p384")]
    EcP384,
    /// RSA 2048.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA 3072.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA 4096.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
}

impl KeyType {
    /// Every key type, in the order a menu should show them.
    pub const ALL: [KeyType; 5] = [
        KeyType::EcP256,
        KeyType::EcP384,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
    ];

    /// The stable name used on command lines and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::EcP256 => "ec-p256",
            KeyType::EcP384 => "ec-p384",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
        }
    }

    /// The RSA modulus size, or `None` for elliptic-curve keys.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            KeyType::Rsa2048 => Some(2048),
            KeyType::Rsa3072 => Some(3072),
            KeyType::Rsa4096 => Some(4096),
            KeyType::EcP256 | KeyType::EcP384 => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    fn from_str(s: &str) -> Result<KeyType> {
        KeyType::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "unknown key type \"{s}\" (expected one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)"
                ))
            })
    }
}

/// A private key, held as PKCS#8 DER that is wiped from memory on drop.
///
/// One that exists is a consistent key pair: its public key was derived
/// from the secret (or, for RSA, the secret numbers were checked against
/// it) when it was read (`key/pair.rs`).
#[derive(Clone)]
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    algorithm: KeyAlgorithm,
    /// The public key as it appears in a certificate's SubjectPublicKeyInfo BIT STRING.
    public_key: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (v1) or `OneAsymmetricKey` (v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        let checked = decode::pkcs8(der)?;
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            algorithm: checked.algorithm,
            public_key: checked.public_key,
        })
    }

    /// A key ring has just generated and loaded (so checked): its PKCS#8 and
    /// the public point ring derived. Nothing here is read from outside.
    pub(crate) fn from_generated_ec(
        pkcs8: Zeroizing<Vec<u8>>,
        curve: crate::algorithm::Curve,
        public_key: Vec<u8>,
    ) -> PrivateKey {
        PrivateKey {
            pkcs8,
            algorithm: KeyAlgorithm::Ec { curve },
            public_key,
        }
    }

    /// Reads a SEC1 `ECPrivateKey` (PEM label `EC PRIVATE KEY`).
    pub fn from_sec1_der(der: &[u8]) -> Result<PrivateKey> {
        PrivateKey::from_pkcs8_der(&decode::sec1_to_pkcs8(der)?)
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (PEM label `RSA PRIVATE KEY`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey> {
        PrivateKey::from_pkcs8_der(&decode::pkcs1_to_pkcs8(der)?)
    }

    /// Reads a password-encrypted PKCS#8 `EncryptedPrivateKeyInfo`.
    pub fn from_encrypted_pkcs8_der(der: &[u8], password: &str) -> Result<PrivateKey> {
        let as_key_error = |e: Error| match e {
            Error::MalformedPkcs12(detail) | Error::TruncatedDer(detail) => {
                Error::MalformedKey(format!("encrypted PKCS#8: {detail}"))
            }
            other => other,
        };
        let envelope = decode::EncryptedPrivateKeyInfo::read(der)?;
        let plain = decode::decrypt(
            &envelope.encryption_algorithm,
            password,
            envelope.encrypted_data.as_bytes(),
        )
        .map_err(|e| match e {
            Error::WrongPassword(_) => Error::WrongPassword("the encrypted private key"),
            Error::UnsupportedEncryption { algorithm, .. } => Error::UnsupportedEncryption {
                context: "encrypted private key",
                algorithm,
            },
            other => as_key_error(other),
        })?;
        // A good padding by chance (1 in 256) still leaves garbage, which
        // is not DER; a key that decodes but does not hold together is
        // refused for what it is.
        if !decode::looks_like_private_key(&plain) {
            return Err(Error::WrongPassword("the encrypted private key"));
        }
        PrivateKey::from_pkcs8_der(&plain)
    }

    /// Reads the one private key in PEM text, whatever its PEM label.
    ///
    /// `password` decrypts an `ENCRYPTED PRIVATE KEY`; it is ignored otherwise.
    pub fn from_pem(text: &str, password: &str) -> Result<PrivateKey> {
        let mut keys = Vec::new();
        for block in pem::parse_blocks(text)? {
            if let Some(key) = PrivateKey::from_pem_block(&block, password)? {
                keys.push(key);
            }
        }
        match keys.len() {
            0 => Err(Error::NoPrivateKey),
            1 => Ok(keys.remove(0)),
            n => Err(Error::SeveralPrivateKeys(n)),
        }
    }

    /// Decodes a PEM block if its label names a private key; `Ok(None)` otherwise.
    pub(crate) fn from_pem_block(
        block: &pem::PemBlock,
        password: &str,
    ) -> Result<Option<PrivateKey>> {
        let key = match block.label.as_str() {
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&block.der)?,
            "ENCRYPTED PRIVATE KEY" => PrivateKey::from_encrypted_pkcs8_der(&block.der, password)?,
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" if block.has_headers => {
                return Err(Error::UnsupportedEncryption {
                    context: "PEM private key",
                    algorithm: "legacy OpenSSL PEM encryption (Proc-Type: 4,ENCRYPTED); convert with `openssl pkey -in KEY -out KEY.pk8`".into(),
                });
            }
            "EC PRIVATE KEY" => PrivateKey::from_sec1_der(&block.der)?,
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&block.der)?,
            label if label.ends_with("PRIVATE KEY") => {
                return Err(Error::UnsupportedKeyType(format!("PEM \"{label}\"")));
            }
            _ => return Ok(None),
        };
        Ok(Some(key))
    }

    /// Reads a DER private key of whichever form it has (PKCS#8, SEC1,
    /// PKCS#1); a broken key of a recognised form is refused for what is
    /// wrong with it.
    pub fn from_der_any(der: &[u8]) -> Result<PrivateKey> {
        match decode::form(der) {
            Some(decode::Form::Pkcs8) => PrivateKey::from_pkcs8_der(der),
            Some(decode::Form::Sec1) => PrivateKey::from_sec1_der(der),
            Some(decode::Form::Pkcs1) => PrivateKey::from_pkcs1_der(der),
            None => Err(Error::MalformedKey(
                "not a PKCS#8, SEC1 or PKCS#1 private key".into(),
            )),
        }
    }

    /// The key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key as a PKCS#8 PEM (label `PRIVATE KEY`), wiped on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode("PRIVATE KEY", &self.pkcs8))
    }

    /// What kind of key this is.
    pub fn algorithm(&self) -> &KeyAlgorithm {
        &self.algorithm
    }

    /// The public key bits as they appear in a certificate.
    pub fn public_key_bits(&self) -> &[u8] {
        &self.public_key
    }

    /// Checks that `certificate` carries this key's public key: the one
    /// derived from the secret when the key was read, not a field stored
    /// beside it.
    pub fn check_matches(&self, certificate: &Certificate) -> Result<()> {
        let cert_key = certificate.public_key_bits();
        let same = match &self.algorithm {
            // Compare numbers, not encodings: a non-minimal DER integer is still the same key.
            KeyAlgorithm::Rsa { .. } | KeyAlgorithm::RsaPss { .. } => {
                rsa_public_numbers(&self.public_key) == rsa_public_numbers(cert_key)
            }
            // The same point on another curve is another key.
            KeyAlgorithm::Ec { curve } => {
                self.public_key == cert_key
                    && certificate.key_algorithm().is_ok_and(|a| {
                        a == KeyAlgorithm::Ec {
                            curve: curve.clone(),
                        }
                    })
            }
            _ => self.public_key == cert_key,
        };
        if same {
            Ok(())
        } else {
            Err(Error::KeyMismatch)
        }
    }
}

/// True when `der` is shaped like an unencrypted private key of any
/// algorithm, one we can use or not: PKCS#8, SEC1 (naming its curve or
/// carrying its public key, as every tool writes it) or PKCS#1. For
/// spotting keys, where a DSA or X25519 key matters as much as ours.
pub(crate) fn looks_like_private_key(der: &[u8]) -> bool {
    decode::looks_like_private_key(der)
}

/// True when `der` is a PKCS#8 (any version), SEC1 or PKCS#1 structure,
/// whether the key in it holds together or not.
pub(crate) fn is_private_key_form(der: &[u8]) -> bool {
    decode::form(der).is_some()
}

/// True when `der` has the shape of an encrypted PKCS#8 key (an algorithm
/// named by an OID, then an OCTET STRING).
pub(crate) fn looks_like_encrypted_pkcs8(der: &[u8]) -> bool {
    decode::EncryptedPrivateKeyInfo::read(der).is_ok()
}
