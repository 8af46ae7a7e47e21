//! Encoding and signing a device certificate or a CSR (DER), with ring.
//!
//! Our own encoder on `ber`'s DER writer: rcgen and its yasna encoder cost
//! the page ~15 KB gzipped for the one certificate shape we make.

use const_oid::ObjectIdentifier as Oid;
use ring::{
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, RsaKeyPair},
};
use time::{OffsetDateTime, UtcOffset};

use crate::{
    KeyAlgorithm,
    algorithm::Curve,
    ber::{explicit0, octets, oid, seq, tlv},
    error::{Error, Result},
    key::PrivateKey,
};

const BIT_STRING: u8 = 0x03;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const BOOLEAN_TRUE: [u8; 3] = [0x01, 0x01, 0xff];
const NULL: [u8; 2] = [0x05, 0x00];

const COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
const ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
const ORGANIZATIONAL_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
const EXTENSION_REQUEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.14");

/// The subject, in encoding order (C, O, OU, CN), as `openssl` lists it.
pub(super) struct Subject<'a> {
    pub(super) country: Option<&'a str>,
    pub(super) organization: Option<&'a str>,
    pub(super) organizational_unit: Option<&'a str>,
    pub(super) common_name: &'a str,
}

impl Subject<'_> {
    fn to_der(&self) -> Vec<u8> {
        let rdn = |attribute: Oid, tag: u8, value: &str| {
            tlv(
                crate::ber::SET,
                &seq(&[&oid(attribute), &tlv(tag, value.as_bytes())]),
            )
        };
        let mut rdns = Vec::new();
        // X.520: countryName is a PrintableString of two letters.
        if let Some(c) = self.country {
            rdns.push(rdn(COUNTRY, PRINTABLE_STRING, c));
        }
        if let Some(o) = self.organization {
            rdns.push(rdn(ORGANIZATION, UTF8_STRING, o));
        }
        if let Some(ou) = self.organizational_unit {
            rdns.push(rdn(ORGANIZATIONAL_UNIT, UTF8_STRING, ou));
        }
        rdns.push(rdn(COMMON_NAME, UTF8_STRING, self.common_name));
        tlv(crate::ber::SEQUENCE, &rdns.concat())
    }
}

/// How a key signs: its SubjectPublicKeyInfo, the signature algorithm, and
/// whether it is RSA (which also gets keyEncipherment).
struct Signer<'a> {
    key: &'a PrivateKey,
    spki: Vec<u8>,
    algorithm: Vec<u8>,
    is_rsa: bool,
}

impl<'a> Signer<'a> {
    fn new(key: &'a PrivateKey) -> Result<Signer<'a>> {
        let bits = bit_string(key.public_key_bits());
        let (key_algorithm, algorithm, is_rsa) = match key.algorithm() {
            KeyAlgorithm::Ec { curve: Curve::P256 } => (
                seq(&[&oid(EC_PUBLIC_KEY), &oid(P256)]),
                seq(&[&oid(ECDSA_SHA256)]),
                false,
            ),
            KeyAlgorithm::Ec { curve: Curve::P384 } => (
                seq(&[&oid(EC_PUBLIC_KEY), &oid(P384)]),
                seq(&[&oid(ECDSA_SHA384)]),
                false,
            ),
            KeyAlgorithm::Rsa { bits } if *bits >= 2048 => (
                seq(&[&oid(RSA_ENCRYPTION), &NULL]),
                seq(&[&oid(RSA_SHA256), &NULL]),
                true,
            ),
            other => {
                return Err(Error::UnsupportedKeyType(format!(
                    "{other} cannot sign a device certificate (use ECDSA P-256/P-384 or RSA ≥ 2048)"
                )));
            }
        };
        Ok(Signer {
            key,
            spki: seq(&[&key_algorithm, &bits]),
            algorithm,
            is_rsa,
        })
    }

    /// `SEQUENCE { message, algorithm, BIT STRING signature }`: a signed
    /// certificate or CSR.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        let pkcs8 = self.key.pkcs8_der();
        let failed = |e: &dyn std::fmt::Display| Error::crypto("signature", e);
        let signature = match self.key.algorithm() {
            KeyAlgorithm::Ec { curve } => {
                let alg = if *curve == Curve::P384 {
                    &signature::ECDSA_P384_SHA384_ASN1_SIGNING
                } else {
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING
                };
                let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng).map_err(|e| failed(&e))?;
                pair.sign(&rng, message)
                    .map_err(|e| failed(&e))?
                    .as_ref()
                    .to_vec()
            }
            _ => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| failed(&e))?;
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .map_err(|e| failed(&e))?;
                out
            }
        };
        Ok(seq(&[message, &self.algorithm, &bit_string(&signature)]))
    }

    /// keyUsage (critical), extKeyUsage clientAuth, basicConstraints CA:FALSE
    /// (critical), and for certificates the subject key identifier.
    fn extensions(&self, with_key_identifier: bool) -> Vec<u8> {
        // KeyUsage BIT STRING: digitalSignature (bit 0), keyEncipherment (bit 2).
        let key_usage = if self.is_rsa {
            [0x03, 0x02, 0x05, 0xa0]
        } else {
            [0x03, 0x02, 0x07, 0x80]
        };
        let extension = |id: Oid, critical: bool, value: &[u8]| {
            let critical: &[u8] = if critical { &BOOLEAN_TRUE } else { &[] };
            seq(&[&oid(id), critical, &octets(value)])
        };
        let mut list = vec![
            extension(KEY_USAGE, true, &key_usage),
            extension(EXTENDED_KEY_USAGE, false, &seq(&[&oid(CLIENT_AUTH)])),
        ];
        if with_key_identifier {
            // RFC 5280 4.2.1.2, method 1: SHA-1 of the public key bits.
            let id = ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                self.key.public_key_bits(),
            );
            list.push(extension(
                SUBJECT_KEY_IDENTIFIER,
                false,
                &octets(id.as_ref()),
            ));
        }
        list.push(extension(BASIC_CONSTRAINTS, true, &seq(&[])));
        tlv(crate::ber::SEQUENCE, &list.concat())
    }
}

/// A self-signed device certificate (X.509 v3) valid from `not_before` to `not_after`.
pub(super) fn certificate(
    key: &PrivateKey,
    subject: &Subject<'_>,
    serial: &[u8],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Vec<u8>> {
    let signer = Signer::new(key)?;
    let name = subject.to_der();
    let tbs = seq(&[
        &explicit0(&[0x02, 0x01, 0x02]), // version 3
        &tlv(0x02, serial),
        &signer.algorithm,
        &name,
        &seq(&[&time(not_before)?, &time(not_after)?]),
        &name,
        &signer.spki,
        &tlv(0xa3, &signer.extensions(true)),
    ]);
    signer.sign(&tbs)
}

/// A PKCS#10 request with the same subject and extensions.
pub(super) fn request(key: &PrivateKey, subject: &Subject<'_>) -> Result<Vec<u8>> {
    let signer = Signer::new(key)?;
    let extension_request = seq(&[
        &oid(EXTENSION_REQUEST),
        &tlv(crate::ber::SET, &signer.extensions(false)),
    ]);
    let info = seq(&[
        &[0x02, 0x01, 0x00], // version 1
        &subject.to_der(),
        &signer.spki,
        &tlv(0xa0, &extension_request), // [0] IMPLICIT SET OF Attribute
    ]);
    signer.sign(&info)
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    tlv(BIT_STRING, &[&[0u8][..], bytes].concat())
}

/// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
fn time(at: OffsetDateTime) -> Result<Vec<u8>> {
    let at = at.to_offset(UtcOffset::UTC);
    let year = at.year();
    if !(1950..=9999).contains(&year) {
        return Err(Error::InvalidRequest(format!(
            "a certificate time in the year {year}"
        )));
    }
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    Ok(if year < 2050 {
        tlv(UTC_TIME, format!("{:02}{rest}", year % 100).as_bytes())
    } else {
        tlv(GENERALIZED_TIME, format!("{year:04}{rest}").as_bytes())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn times_switch_to_generalized_in_2050() {
        let at = |s: &str| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
        };
        assert_eq!(
            time(at("2026-11-29T11:34:14Z")).unwrap()[2..],
            *b"261129113414Z"
        );
        assert_eq!(time(at("2049-12-31T23:59:59Z")).unwrap()[0], UTC_TIME);
        assert_eq!(
            time(at("2050-01-01T00:00:00Z")).unwrap()[2..],
            *b"20500101000000Z"
        );
        assert_eq!(
            time(at("2026-11-29T20:34:14+09:00")).unwrap()[2..],
            *b"261129113414Z"
        );
    }
}
