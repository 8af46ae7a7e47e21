//! What a key or a signature is: algorithm, size, curve, digest, named from their OIDs.

use std::fmt;

use const_oid::ObjectIdentifier;
use serde::Serialize;

use crate::error::{Error, Result};

pub(crate) mod oids {
    use const_oid::ObjectIdentifier as Oid;

    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(crate) const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    pub(crate) const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    pub(crate) const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    pub(crate) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(crate) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub(crate) const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
    pub(crate) const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");

    pub(crate) const MD2_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.2");
    pub(crate) const MD5_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.4");
    pub(crate) const SHA1_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    pub(crate) const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub(crate) const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub(crate) const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub(crate) const SHA224_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.14");
    pub(crate) const ECDSA_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    pub(crate) const ECDSA_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
    pub(crate) const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub(crate) const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub(crate) const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
}

/// An elliptic curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// The Bitcoin curve; AWS IoT refuses it.
    Secp256k1,
    /// Any other named curve, by OID.
    Other(String),
}

impl Curve {
    pub(crate) fn from_oid(oid: ObjectIdentifier) -> Curve {
        match oid {
            oids::P256 => Curve::P256,
            oids::P384 => Curve::P384,
            oids::P521 => Curve::P521,
            oids::SECP256K1 => Curve::Secp256k1,
            other => Curve::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Curve::P256 => f.write_str("P-256"),
            Curve::P384 => f.write_str("P-384"),
            Curve::P521 => f.write_str("P-521"),
            Curve::Secp256k1 => f.write_str("secp256k1"),
            Curve::Other(oid) => write!(f, "curve {oid}"),
        }
    }
}

/// The algorithm and size of a public or private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus size in bits.
        bits: u32,
    },
    /// RSA restricted to PSS signatures (id-RSASSA-PSS keys).
    RsaPss {
        /// Modulus size in bits.
        bits: u32,
    },
    /// ECDSA on a named curve.
    Ec {
        /// The curve.
        curve: Curve,
    },
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA.
    Dsa,
    /// Anything else, by OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl KeyAlgorithm {
    /// Describes the key in a certificate's SubjectPublicKeyInfo: its
    /// algorithm OID, the parameters (a whole TLV) and the key's bits.
    pub(crate) fn from_spki(
        oid: ObjectIdentifier,
        parameters: Option<&[u8]>,
        key_bits: &[u8],
    ) -> Result<KeyAlgorithm> {
        Ok(match oid {
            oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
                let bits = rsa_bits(key_bits)?;
                if oid == oids::RSASSA_PSS {
                    KeyAlgorithm::RsaPss { bits }
                } else {
                    KeyAlgorithm::Rsa { bits }
                }
            }
            oids::EC_PUBLIC_KEY => {
                // namedCurve; explicit parameters or implicitCA are not named.
                let curve = parameters
                    .and_then(|p| <ObjectIdentifier as der::Decode>::from_der(p).ok())
                    .map(Curve::from_oid)
                    .unwrap_or_else(|| Curve::Other("explicit parameters".into()));
                check_point(&curve, key_bits)?;
                KeyAlgorithm::Ec { curve }
            }
            oids::ED25519 if key_bits.len() != 32 => {
                return Err(Error::MalformedKey(format!(
                    "an Ed25519 public key of {} bytes (it has 32)",
                    key_bits.len()
                )));
            }
            other => KeyAlgorithm::from_plain_oid(other),
        })
    }

    pub(crate) fn from_plain_oid(oid: ObjectIdentifier) -> KeyAlgorithm {
        match oid {
            oids::ED25519 => KeyAlgorithm::Ed25519,
            oids::ED448 => KeyAlgorithm::Ed448,
            oids::DSA => KeyAlgorithm::Dsa,
            other => KeyAlgorithm::Other {
                oid: other.to_string(),
            },
        }
    }
}

/// The size in bits of an RSA public key given as PKCS#1 `RSAPublicKey` DER.
pub(crate) fn rsa_bits(pkcs1_public: &[u8]) -> Result<u32> {
    let (modulus, _) = rsa_public_numbers(pkcs1_public)
        .ok_or_else(|| Error::MalformedKey("RSA public key: not an RSAPublicKey".into()))?;
    Ok(uint_bits(modulus))
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
/// (strict DER, both positive): the two numbers' bytes without leading zeros.
pub(crate) fn rsa_public_numbers(pkcs1_public: &[u8]) -> Option<(&[u8], &[u8])> {
    let key = <pkcs1::RsaPublicKeyRef<'_> as der::Decode>::from_der(pkcs1_public).ok()?;
    Some((key.modulus.as_bytes(), key.public_exponent.as_bytes()))
}

/// An EC public key's bits must be a point encoding of its curve's size:
/// `04 || x || y` or `02|03 || x`. A point labelled with the wrong curve, or
/// no point at all, is refused instead of being named after the label.
fn check_point(curve: &Curve, point: &[u8]) -> Result<()> {
    let field_bytes = match curve {
        Curve::P256 | Curve::Secp256k1 => 32,
        Curve::P384 => 48,
        Curve::P521 => 66,
        Curve::Other(_) => return Ok(()),
    };
    let fits = match point.first() {
        Some(0x04) => point.len() == 1 + 2 * field_bytes,
        Some(0x02 | 0x03) => point.len() == 1 + field_bytes,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Error::MalformedKey(format!(
            "a public key of {} bytes is not a point on {curve}",
            point.len()
        )))
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn uint_bits(bytes: &[u8]) -> u32 {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    let lead = u32::from(trimmed[0]);
    (trimmed.len() as u32 - 1) * 8 + (32 - lead.leading_zeros())
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyAlgorithm::RsaPss { bits } => write!(f, "RSA-PSS {bits}"),
            KeyAlgorithm::Ec { curve } => write!(f, "ECDSA {curve}"),
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Ed448 => f.write_str("Ed448"),
            KeyAlgorithm::Dsa => f.write_str("DSA"),
            KeyAlgorithm::Other { oid } => write!(f, "unknown key algorithm {oid}"),
        }
    }
}

/// The digest a signature algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Digest {
    /// MD2 (broken).
    Md2,
    /// MD5 (broken).
    Md5,
    /// SHA-1 (broken for signatures).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// A certificate's signature algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with a digest.
    Rsa {
        /// The digest.
        digest: Digest,
    },
    /// ECDSA with a digest.
    Ecdsa {
        /// The digest.
        digest: Digest,
    },
    /// RSASSA-PSS (digest in parameters).
    RsaPss,
    /// Ed25519.
    Ed25519,
    /// Anything else, by OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl SignatureAlgorithm {
    pub(crate) fn from_oid(oid: ObjectIdentifier) -> SignatureAlgorithm {
        use Digest::*;
        use SignatureAlgorithm::{Ecdsa, Rsa};
        match oid {
            oids::MD2_RSA => Rsa { digest: Md2 },
            oids::MD5_RSA => Rsa { digest: Md5 },
            oids::SHA1_RSA => Rsa { digest: Sha1 },
            oids::SHA224_RSA => Rsa { digest: Sha224 },
            oids::SHA256_RSA => Rsa { digest: Sha256 },
            oids::SHA384_RSA => Rsa { digest: Sha384 },
            oids::SHA512_RSA => Rsa { digest: Sha512 },
            oids::ECDSA_SHA1 => Ecdsa { digest: Sha1 },
            oids::ECDSA_SHA224 => Ecdsa { digest: Sha224 },
            oids::ECDSA_SHA256 => Ecdsa { digest: Sha256 },
            oids::ECDSA_SHA384 => Ecdsa { digest: Sha384 },
            oids::ECDSA_SHA512 => Ecdsa { digest: Sha512 },
            oids::RSASSA_PSS => SignatureAlgorithm::RsaPss,
            oids::ED25519 => SignatureAlgorithm::Ed25519,
            other => SignatureAlgorithm::Other {
                oid: other.to_string(),
            },
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Digest::Md2 => "MD2",
            Digest::Md5 => "MD5",
            Digest::Sha1 => "SHA-1",
            Digest::Sha224 => "SHA-224",
            Digest::Sha256 => "SHA-256",
            Digest::Sha384 => "SHA-384",
            Digest::Sha512 => "SHA-512",
        })
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureAlgorithm::Rsa { digest } => write!(f, "RSA with {digest}"),
            SignatureAlgorithm::Ecdsa { digest } => write!(f, "ECDSA with {digest}"),
            SignatureAlgorithm::RsaPss => f.write_str("RSASSA-PSS"),
            SignatureAlgorithm::Ed25519 => f.write_str("Ed25519"),
            SignatureAlgorithm::Other { oid } => write!(f, "unknown signature algorithm {oid}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_bits_counts_from_the_top_set_bit() {
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
        assert_eq!(uint_bits(&[1]), 1);
        assert_eq!(uint_bits(&[0x80]), 8);
        assert_eq!(uint_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(uint_bits(&[0x7f, 0xff]), 15);
    }
}
