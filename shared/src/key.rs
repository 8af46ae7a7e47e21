//! Private keys: the kinds we generate, and reading any common encoding into PKCS#8.

use std::{fmt, str::FromStr};

use serde::Serialize;
use zeroize::Zeroizing;

use crate::{
    algorithm::{Curve, KeyAlgorithm, oids, rsa_public_numbers, uint_bits},
    ber::{self, Element, INTEGER, OCTET_STRING, Reader, SEQUENCE, oid, seq, tlv},
    certificate::Certificate,
    error::{Error, Result},
    pem,
};

/// `[0]` and `[1]` of ECPrivateKey (EXPLICIT) and PrivateKeyInfo (IMPLICIT).
const CONTEXT_0: u8 = 0xa0;
const CONTEXT_1: u8 = 0xa1;
const CONTEXT_1_PRIMITIVE: u8 = 0x81;
const NULL: [u8; 2] = [0x05, 0x00];

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
    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        let info = Pkcs8::read(der).map_err(|e| as_key_error("PKCS#8", e))?;
        let secret = info.private_key.content;
        let (algorithm, public_key) = match info.algorithm {
            oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
                let rsa = RsaPrivateKey::read(secret).map_err(|e| as_key_error("RSA key", e))?;
                let bits = uint_bits(rsa.modulus.content);
                let algorithm = if info.algorithm == oids::RSASSA_PSS {
                    KeyAlgorithm::RsaPss { bits }
                } else {
                    KeyAlgorithm::Rsa { bits }
                };
                (algorithm, rsa.public_key())
            }
            oids::EC_PUBLIC_KEY => {
                let ec = EcPrivateKey::read(secret).map_err(|e| as_key_error("EC key", e))?;
                let curve_oid = info
                    .parameters
                    .as_ref()
                    .and_then(|p| p.oid().ok())
                    .or(ec.curve)
                    .ok_or_else(|| Error::MalformedKey("EC key without a named curve".into()))?;
                let public = ec.public_key.ok_or_else(|| {
                    Error::UnsupportedKeyType(
                        "EC private key without its public key (re-export it with openssl pkey)"
                            .into(),
                    )
                })?;
                (
                    KeyAlgorithm::Ec {
                        curve: Curve::from_oid(curve_oid),
                    },
                    public.to_vec(),
                )
            }
            oids::ED25519 => {
                let public = match info.public_key {
                    Some(bits) => bits.to_vec(),
                    None => ed25519_public(secret)?,
                };
                (KeyAlgorithm::Ed25519, public)
            }
            other => {
                return Err(Error::UnsupportedKeyType(
                    KeyAlgorithm::from_plain_oid(other).to_string(),
                ));
            }
        };
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            algorithm,
            public_key,
        })
    }

    /// Reads a SEC1 `ECPrivateKey` (`-----BEGIN EC PRIVATE KEY-----`).
    pub fn from_sec1_der(der: &[u8]) -> Result<PrivateKey> {
        ber::check_der(der).map_err(|e| as_key_error("SEC1 EC key", e))?;
        let ec = EcPrivateKey::read(der).map_err(|e| as_key_error("SEC1 EC key", e))?;
        let Some(curve) = ec.curve else {
            return Err(Error::MalformedKey(
                "SEC1 EC key without a named curve".into(),
            ));
        };
        // The curve moves to the PKCS#8 AlgorithmIdentifier, as `openssl pkcs8 -topk8` writes it.
        let mut inner = vec![ec.version.to_tlv(), ec.private_key.to_tlv()];
        if let Some(public) = &ec.public_key_element {
            inner.push(public.to_tlv());
        }
        let inner = Zeroizing::new(seq(&inner.iter().map(Vec::as_slice).collect::<Vec<_>>()));
        wrap_pkcs8(&seq(&[&oid(oids::EC_PUBLIC_KEY), &oid(curve)]), &inner)
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (`-----BEGIN RSA PRIVATE KEY-----`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey> {
        ber::check_der(der).map_err(|e| as_key_error("PKCS#1 RSA key", e))?;
        RsaPrivateKey::read(der).map_err(|e| as_key_error("PKCS#1 RSA key", e))?;
        wrap_pkcs8(&seq(&[&oid(oids::RSA_ENCRYPTION), &NULL]), der)
    }

    /// Reads a password-encrypted PKCS#8 `EncryptedPrivateKeyInfo`.
    pub fn from_encrypted_pkcs8_der(der: &[u8], password: &str) -> Result<PrivateKey> {
        // EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
        let as_key_error = |e: Error| match e {
            Error::MalformedPkcs12(detail) | Error::TruncatedDer(detail) => {
                Error::MalformedKey(format!("encrypted PKCS#8: {detail}"))
            }
            other => other,
        };
        let (algorithm, ciphertext) = encrypted_pkcs8_parts(der).map_err(as_key_error)?;
        let ciphertext = ciphertext.octets().map_err(as_key_error)?;
        let plain = crate::pkcs12::decrypt_with_password(&algorithm, password, &ciphertext)
            .map_err(|e| match e {
                Error::WrongPassword(_) => Error::WrongPassword("the encrypted private key"),
                Error::UnsupportedEncryption { algorithm, .. } => Error::UnsupportedEncryption {
                    context: "encrypted private key",
                    algorithm,
                },
                other => as_key_error(other),
            })?;
        // A good padding by chance (1 in 256) still leaves garbage.
        PrivateKey::from_pkcs8_der(&plain).map_err(|e| match e {
            Error::MalformedKey(_) | Error::TruncatedDer(_) => {
                Error::WrongPassword("the encrypted private key")
            }
            other => other,
        })
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

    /// Tries each DER private key form in turn (PKCS#8, SEC1, PKCS#1).
    pub fn from_der_any(der: &[u8]) -> Result<PrivateKey> {
        PrivateKey::from_pkcs8_der(der)
            .or_else(|_| PrivateKey::from_sec1_der(der))
            .or_else(|_| PrivateKey::from_pkcs1_der(der))
            .map_err(|_| Error::MalformedKey("not a PKCS#8, SEC1 or PKCS#1 private key".into()))
    }

    /// The key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), wiped on drop.
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

    /// Checks that `certificate` carries this key's public key.
    pub fn check_matches(&self, certificate: &Certificate) -> Result<()> {
        let cert_key = certificate.public_key_bits();
        let same = match self.algorithm {
            // Compare numbers, not encodings: a non-minimal DER integer is still the same key.
            KeyAlgorithm::Rsa { .. } | KeyAlgorithm::RsaPss { .. } => {
                rsa_public_numbers(&self.public_key) == rsa_public_numbers(cert_key)
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

fn ed25519_public(secret: &[u8]) -> Result<Vec<u8>> {
    // CurvePrivateKey ::= OCTET STRING (the 32-byte seed)
    let seed = Reader::new(secret, "Ed25519 key")
        .expect(OCTET_STRING, "the seed")
        .map_err(|e| as_key_error("Ed25519 key", e))?;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed.content)
        .map_err(|_| Error::MalformedKey("Ed25519 key: bad seed".into()))?;
    Ok(ring::signature::KeyPair::public_key(&pair)
        .as_ref()
        .to_vec())
}

/// `PrivateKeyInfo { version 0, algorithm, privateKey }` around `inner`, then read back.
fn wrap_pkcs8(algorithm: &[u8], inner: &[u8]) -> Result<PrivateKey> {
    let der = Zeroizing::new(seq(&[
        &[0x02, 0x01, 0x00],
        algorithm,
        &tlv(OCTET_STRING, inner),
    ]));
    PrivateKey::from_pkcs8_der(&der)
}

/// A parse failure of key bytes, as `MalformedKey` naming the structure.
fn as_key_error(what: &str, err: Error) -> Error {
    match err {
        Error::MalformedPkcs12(detail) | Error::TruncatedDer(detail) => {
            Error::MalformedKey(format!("{what}: {detail}"))
        }
        other => other,
    }
}

/// PrivateKeyInfo (RFC 5958): version, algorithm, privateKey, then the
/// optional attributes `[0]` and (version 2) publicKey `[1]`.
struct Pkcs8<'a> {
    algorithm: const_oid::ObjectIdentifier,
    parameters: Option<Element<'a>>,
    private_key: Element<'a>,
    public_key: Option<&'a [u8]>,
}

impl<'a> Pkcs8<'a> {
    fn read(der: &'a [u8]) -> Result<Pkcs8<'a>> {
        ber::check_der(der)?;
        let mut fields = ber::sole_sequence(der, "PrivateKeyInfo")?;
        let version = fields.expect(INTEGER, "the version")?.small_uint()?;
        if version > 1 {
            return Err(ber::malformed(format!("version {version}")));
        }
        let mut algorithm = fields.expect(SEQUENCE, "the algorithm")?.reader();
        let oid = algorithm.expect(ber::OID, "the algorithm")?.oid()?;
        let parameters = algorithm.next_element()?;
        let private_key = fields.expect(OCTET_STRING, "privateKey")?;
        fields.optional(CONTEXT_0)?;
        let public_key = match fields.optional(CONTEXT_1_PRIMITIVE)? {
            Some(bits) => match bits.content {
                [0, key @ ..] => Some(key),
                _ => return Err(ber::malformed("a public key with unused bits")),
            },
            None => None,
        };
        if !fields.is_empty() {
            return Err(ber::malformed("unexpected fields after the key"));
        }
        Ok(Pkcs8 {
            algorithm: oid,
            parameters,
            private_key,
            public_key,
        })
    }
}

/// RSAPrivateKey (RFC 8017): the numbers, of which the public key is two.
struct RsaPrivateKey<'a> {
    modulus: Element<'a>,
    public_exponent: Element<'a>,
}

impl<'a> RsaPrivateKey<'a> {
    fn read(der: &'a [u8]) -> Result<RsaPrivateKey<'a>> {
        let mut fields = ber::sole_sequence(der, "RSAPrivateKey")?;
        let version = fields.expect(INTEGER, "the version")?.small_uint()?;
        if version > 1 {
            return Err(ber::malformed(format!("version {version}")));
        }
        let modulus = fields.expect(INTEGER, "the modulus")?;
        let public_exponent = fields.expect(INTEGER, "the public exponent")?;
        for name in [
            "the private exponent",
            "prime 1",
            "prime 2",
            "exponent 1",
            "exponent 2",
            "the coefficient",
        ] {
            fields.expect(INTEGER, name)?;
        }
        Ok(RsaPrivateKey {
            modulus,
            public_exponent,
        })
    }

    /// RSAPublicKey DER: `SEQUENCE { modulus, publicExponent }`.
    fn public_key(&self) -> Vec<u8> {
        seq(&[&self.modulus.to_tlv(), &self.public_exponent.to_tlv()])
    }
}

/// ECPrivateKey (RFC 5915): version 1, the secret, and optionally the
/// curve `[0]` and the public key `[1]`.
struct EcPrivateKey<'a> {
    version: Element<'a>,
    private_key: Element<'a>,
    curve: Option<const_oid::ObjectIdentifier>,
    public_key_element: Option<Element<'a>>,
    public_key: Option<&'a [u8]>,
}

impl<'a> EcPrivateKey<'a> {
    fn read(der: &'a [u8]) -> Result<EcPrivateKey<'a>> {
        let mut fields = ber::sole_sequence(der, "ECPrivateKey")?;
        let version = fields.expect(INTEGER, "the version")?;
        if version.small_uint()? != 1 {
            return Err(ber::malformed("an ECPrivateKey version other than 1"));
        }
        let private_key = fields.expect(OCTET_STRING, "privateKey")?;
        // `[n] EXPLICIT`: the one element inside, with the tag it must have.
        let inside = |wrapper: Option<&Element<'a>>, tag, name: &str| {
            wrapper.map(|w| w.reader().expect(tag, name)).transpose()
        };
        let curve = inside(
            fields.optional(CONTEXT_0)?.as_ref(),
            ber::OID,
            "a named curve",
        )?
        .map(|e| e.oid())
        .transpose()?;
        let public_key_element = fields.optional(CONTEXT_1)?;
        let public_key = inside(
            public_key_element.as_ref(),
            ber::BIT_STRING,
            "the public key",
        )?
        .map(|e| e.bit_string())
        .transpose()?;
        if !fields.is_empty() {
            return Err(ber::malformed("unexpected fields after the key"));
        }
        Ok(EcPrivateKey {
            version,
            private_key,
            curve,
            public_key_element,
            public_key,
        })
    }
}

/// True when `der` is shaped like an unencrypted private key of any
/// algorithm, one we can use or not: PKCS#8, SEC1 (naming its curve or
/// carrying its public key, as every tool writes it) or PKCS#1. For
/// spotting keys, where a DSA or X25519 key matters as much as ours.
pub(crate) fn looks_like_private_key(der: &[u8]) -> bool {
    ber::check_der(der).is_ok()
        && (Pkcs8::read(der).is_ok()
            || EcPrivateKey::read(der)
                .is_ok_and(|ec| ec.curve.is_some() || ec.public_key_element.is_some())
            || RsaPrivateKey::read(der).is_ok())
}

/// EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }:
/// the algorithm and the encrypted key, nothing after.
fn encrypted_pkcs8_parts(der: &[u8]) -> Result<(Element<'_>, Element<'_>)> {
    let mut info = ber::sole_sequence(der, "EncryptedPrivateKeyInfo")?;
    let algorithm = info.expect(SEQUENCE, "the encryption algorithm")?;
    let ciphertext = info.expect(OCTET_STRING, "the encrypted key")?;
    if !info.is_empty() {
        return Err(ber::malformed("fields after the encrypted key"));
    }
    Ok((algorithm, ciphertext))
}

/// True when `der` has the shape of an encrypted PKCS#8 key (an algorithm
/// named by an OID, then an OCTET STRING).
pub(crate) fn looks_like_encrypted_pkcs8(der: &[u8]) -> bool {
    encrypted_pkcs8_parts(der).is_ok_and(|(algorithm, _)| {
        crate::pbes2::read_oid(&mut algorithm.reader(), "the algorithm").is_ok()
    })
}
