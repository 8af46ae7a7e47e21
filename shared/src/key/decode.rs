//! The private key encodings, read with RustCrypto's decoders (strict DER:
//! no trailing bytes, minimal lengths and INTEGERs, the right tags):
//! PKCS#8 v1/v2 (`pkcs8`), SEC1 (`sec1`), PKCS#1 (`pkcs1`) and the
//! encrypted PKCS#8 envelope. SEC1 and PKCS#1 are rewrapped as PKCS#8.

use der::{
    Decode, Encode, Header, Reader, SliceReader, Tag, TagMode, TagNumber,
    asn1::{AnyRef, BitStringRef, Null, ObjectIdentifier, OctetStringRef, SequenceRef},
};
use pkcs1::{RsaPrivateKeyRef, RsaPublicKeyRef};
use pkcs8::PrivateKeyInfoRef;
use sec1::EcPrivateKey;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::pair;
use crate::{
    algorithm::{Curve, KeyAlgorithm, oids, uint_bits},
    error::{Error, Result},
};

/// What reading a PKCS#8 key proved: its algorithm and the public key its
/// secret makes.
pub(super) struct Checked {
    pub(super) algorithm: KeyAlgorithm,
    pub(super) public_key: Vec<u8>,
}

/// Reads PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` and checks the key pair.
pub(super) fn pkcs8(der: &[u8]) -> Result<Checked> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|e| pkcs8_error(der, e))?;
    let secret = info.private_key.as_bytes();
    let stored_public = info
        .public_key
        .map(|bits| {
            bits.as_bytes()
                .ok_or_else(|| malformed("PKCS#8", "a public key with unused bits"))
        })
        .transpose()?;
    let parameters = info.algorithm.parameters;
    match info.algorithm.oid {
        oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
            let pss = info.algorithm.oid == oids::RSASSA_PSS;
            match parameters {
                None => {}
                Some(p) if !pss && p.is_null() => {}
                Some(p) if pss && p.decode_as::<pkcs1::RsaPssParamsOwned>().is_ok() => {}
                Some(_) => {
                    return Err(malformed(
                        "PKCS#8",
                        "RSA algorithm parameters that are neither NULL nor RSASSA-PSS parameters",
                    ));
                }
            }
            let rsa = RsaPrivateKeyRef::from_der(secret).map_err(|e| der_error("RSA key", e))?;
            pair::check_rsa(&rsa, secret)?;
            let public = RsaPublicKeyRef {
                modulus: rsa.modulus,
                public_exponent: rsa.public_exponent,
            };
            if let Some(stored) = stored_public {
                let same = RsaPublicKeyRef::from_der(stored).is_ok_and(|s| s == public);
                if !same {
                    return Err(malformed(
                        "RSA key",
                        "the public key stored with it is not its modulus and exponent",
                    ));
                }
            }
            let bits = uint_bits(rsa.modulus.as_bytes());
            Ok(Checked {
                algorithm: if pss {
                    KeyAlgorithm::RsaPss { bits }
                } else {
                    KeyAlgorithm::Rsa { bits }
                },
                public_key: public.to_der().map_err(|e| der_error("RSA key", e))?,
            })
        }
        oids::EC_PUBLIC_KEY => {
            let outer = named_curve(parameters)?;
            let ec = EcPrivateKey::from_der(secret).map_err(|e| der_error("EC key", e))?;
            if let Some(inner) = ec.parameters.and_then(|p| p.named_curve())
                && inner != outer
            {
                return Err(Error::MalformedKey(format!(
                    "EC key: the PKCS#8 algorithm names {} but the key inside names {}",
                    Curve::from_oid(outer),
                    Curve::from_oid(inner)
                )));
            }
            let stored = match (ec.public_key, stored_public) {
                (Some(inner), Some(outer)) if inner != outer => {
                    return Err(malformed(
                        "EC key",
                        "two different public keys (in the ECPrivateKey and in PKCS#8 v2)",
                    ));
                }
                (inner, outer) => inner.or(outer),
            };
            let curve = Curve::from_oid(outer);
            let public_key = pair::ec_public(&curve, ec.private_key, stored)?;
            Ok(Checked {
                algorithm: KeyAlgorithm::Ec { curve },
                public_key,
            })
        }
        oids::ED25519 => {
            if parameters.is_some() {
                return Err(malformed(
                    "Ed25519 key",
                    "algorithm parameters (RFC 8410 has none)",
                ));
            }
            // CurvePrivateKey ::= OCTET STRING (the 32-byte seed)
            let seed =
                <&OctetStringRef>::from_der(secret).map_err(|e| der_error("Ed25519 key", e))?;
            Ok(Checked {
                algorithm: KeyAlgorithm::Ed25519,
                public_key: pair::ed25519_public(seed.as_bytes(), stored_public)?,
            })
        }
        other => Err(Error::UnsupportedKeyType(
            KeyAlgorithm::from_plain_oid(other).to_string(),
        )),
    }
}

/// The curve an `id-ecPublicKey` AlgorithmIdentifier names.
fn named_curve(parameters: Option<AnyRef<'_>>) -> Result<ObjectIdentifier> {
    parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| {
            Error::MalformedKey(
                "EC key without a named curve (explicit curve parameters are not supported)".into(),
            )
        })
}

/// SEC1 `ECPrivateKey` as PKCS#8, the curve moved to the
/// AlgorithmIdentifier as `openssl pkcs8 -topk8` writes it.
pub(super) fn sec1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let ec = EcPrivateKey::from_der(der).map_err(|e| der_error("SEC1 EC key", e))?;
    let Some(curve) = ec.parameters.and_then(|p| p.named_curve()) else {
        return Err(malformed("SEC1 EC key", "no named curve"));
    };
    let inner = encode_secret(&EcPrivateKey {
        parameters: None,
        ..ec
    })?;
    wrap_pkcs8(oids::EC_PUBLIC_KEY, Some(AnyRef::from(&curve)), &inner)
}

/// PKCS#1 `RSAPrivateKey` as PKCS#8 (rsaEncryption, NULL parameters).
pub(super) fn pkcs1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    // Strict DER: the bytes are the canonical encoding, so they go in as they are.
    RsaPrivateKeyRef::from_der(der).map_err(|e| der_error("PKCS#1 RSA key", e))?;
    wrap_pkcs8(oids::RSA_ENCRYPTION, Some(AnyRef::from(Null)), der)
}

fn wrap_pkcs8(
    oid: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    inner: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let private_key = OctetStringRef::new(inner).map_err(|e| der_error("PKCS#8", e))?;
    encode_secret(&PrivateKeyInfoRef::new(
        AlgorithmIdentifierRef { oid, parameters },
        private_key,
    ))
}

/// DER of `value` in a buffer wiped on drop, sized once (no reallocation
/// leaves a copy behind).
fn encode_secret(value: &impl Encode) -> Result<Zeroizing<Vec<u8>>> {
    let len = value
        .encoded_len()
        .and_then(usize::try_from)
        .map_err(|e| der_error("PKCS#8", e))?;
    let mut buffer = Zeroizing::new(vec![0; len]);
    value
        .encode_to_slice(&mut buffer)
        .map_err(|e| der_error("PKCS#8", e))?;
    Ok(buffer)
}

/// `EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }`
/// (RFC 5208). `pkcs8::EncryptedPrivateKeyInfo` has the same shape but reads
/// the algorithm as a `pkcs5::EncryptionScheme`, which has no PKCS#12 PBE
/// schemes (`pbeWithSHAAnd3-KeyTripleDES-CBC`, what OpenSSL 1.0 wrote) and
/// cannot name an unknown one; `pbes2`/`pkcs12` decide what they decrypt.
#[derive(der::Sequence)]
pub(super) struct EncryptedPrivateKeyInfo<'a> {
    pub(super) encryption_algorithm: AlgorithmIdentifierRef<'a>,
    pub(super) encrypted_data: &'a OctetStringRef,
}

impl<'a> EncryptedPrivateKeyInfo<'a> {
    pub(super) fn read(der: &'a [u8]) -> Result<EncryptedPrivateKeyInfo<'a>> {
        EncryptedPrivateKeyInfo::from_der(der).map_err(|e| der_error("encrypted PKCS#8", e))
    }
}

/// Decrypts under `algorithm` (PBES2, or the PKCS#12 schemes OpenSSL
/// before 1.1 used for encrypted PKCS#8) with `crate::pkcs12`'s code.
pub(super) fn decrypt(
    algorithm: &AlgorithmIdentifierRef<'_>,
    password: &str,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    crate::pkcs12::decrypt_under(*algorithm, password, ciphertext)
}

/// The encodings of an unencrypted private key.
pub(super) enum Form {
    Pkcs8,
    Sec1,
    Pkcs1,
}

/// Which encoding `der` has, by its structure alone (any algorithm, any
/// PKCS#8 version, whether the key holds together or not).
pub(super) fn form(der: &[u8]) -> Option<Form> {
    if pkcs8_version(der).is_some() {
        Some(Form::Pkcs8)
    } else if EcPrivateKey::from_der(der).is_ok() {
        Some(Form::Sec1)
    } else if RsaPrivateKeyRef::from_der(der).is_ok() {
        Some(Form::Pkcs1)
    } else {
        None
    }
}

/// True when `der` is shaped like an unencrypted private key of any
/// algorithm, one we can use or not: PKCS#8 v1 or v2 (also with a
/// version and a public key field that disagree), SEC1 (naming its curve
/// or carrying its public key, as every tool writes it) or PKCS#1. For
/// spotting keys, where a broken, DSA or X25519 key matters as much as ours.
pub(super) fn looks_like_private_key(der: &[u8]) -> bool {
    pkcs8_version(der).is_some_and(|version| version <= 1)
        || EcPrivateKey::from_der(der)
            .is_ok_and(|ec| ec.parameters.is_some() || ec.public_key.is_some())
        || RsaPrivateKeyRef::from_der(der).is_ok()
}

/// The version of a PKCS#8 structure without `pkcs8`'s rule tying it to
/// the public key field: `SEQUENCE { INTEGER, AlgorithmIdentifier, OCTET
/// STRING, [0] IMPLICIT attributes OPTIONAL, [1] IMPLICIT BIT STRING
/// OPTIONAL }`.
fn pkcs8_version(der: &[u8]) -> Option<u64> {
    let read = || -> der::Result<u64> {
        let mut reader = SliceReader::new(der)?;
        let version = reader.sequence(|fields: &mut SliceReader<'_>| {
            let version = u64::decode(fields)?;
            AlgorithmIdentifierRef::decode(fields)?;
            <&OctetStringRef>::decode(fields)?;
            fields.context_specific::<&SequenceRef>(TagNumber(0), TagMode::Implicit)?;
            fields.context_specific::<BitStringRef<'_>>(TagNumber(1), TagMode::Implicit)?;
            Ok::<u64, der::Error>(version)
        })?;
        reader.finish()?;
        Ok(version)
    };
    read().ok()
}

/// Why `pkcs8`'s decoder refused `der`, in words for the versions.
fn pkcs8_error(der: &[u8], err: der::Error) -> Error {
    let version = || -> Option<u64> {
        let mut reader = SliceReader::new(der).ok()?;
        let header = Header::decode(&mut reader).ok()?;
        (header.tag() == Tag::Sequence).then_some(())?;
        u64::decode(&mut reader).ok()
    };
    let public_key_field = matches!(
        err.kind(),
        der::ErrorKind::Value {
            tag: Tag::ContextSpecific { number, .. }
        } if number.value() == 1
    );
    match version() {
        Some(v) if v > 1 => malformed_owned(
            "PKCS#8",
            // The stored number is one less than the version's name (v1 is 0).
            format!("version {} (only v1 and v2 exist)", u128::from(v) + 1),
        ),
        Some(0) if public_key_field => {
            malformed("PKCS#8", "v1 with a public key (only v2 has one)")
        }
        Some(1) if public_key_field => malformed("PKCS#8", "v2 without its public key"),
        _ => der_error("PKCS#8", err),
    }
}

fn der_error(what: &str, err: der::Error) -> Error {
    Error::MalformedKey(format!("{what}: {err}"))
}

fn malformed(what: &str, detail: &str) -> Error {
    Error::MalformedKey(format!("{what}: {detail}"))
}

fn malformed_owned(what: &str, detail: String) -> Error {
    Error::MalformedKey(format!("{what}: {detail}"))
}
