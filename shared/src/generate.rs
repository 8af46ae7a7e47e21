//! Making device credentials: a key and a self-signed "device client" certificate, or a CSR.

mod profile;
mod signer;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use self::signer::Signer;
use crate::{
    certificate::Certificate,
    error::{Error, Result},
    key::{KeyType, PrivateKey},
    pem,
};

/// Default validity of a generated certificate: ten years.
///
/// Devices stay in the field for years and a certificate registered without a
/// CA is revoked in the AWS IoT registry, not by expiry; a short default would
/// only brick devices. Users who rotate credentials pick fewer days.
pub const DEFAULT_VALIDITY_DAYS: u32 = 3650;

/// The longest validity we issue (100 years); X.509 times end in 9999 anyway.
pub const MAX_VALIDITY_DAYS: u32 = 36_500;

/// Serial number length in bytes: 16 random bytes, the top bit cleared to keep it positive.
pub const SERIAL_BYTES: usize = 16;

/// What goes into a device certificate besides its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequest {
    /// Subject CN; by convention the AWS IoT thing name.
    pub common_name: String,
    /// Subject O.
    pub organization: Option<String>,
    /// Subject OU.
    pub organizational_unit: Option<String>,
    /// Subject C, two letters (ISO 3166).
    pub country: Option<String>,
    /// Days of validity from `now`.
    pub validity_days: u32,
}

impl CertificateRequest {
    /// A request for `common_name` with the default validity and no other subject fields.
    pub fn new(common_name: impl Into<String>) -> CertificateRequest {
        CertificateRequest {
            common_name: common_name.into(),
            organization: None,
            organizational_unit: None,
            country: None,
            validity_days: DEFAULT_VALIDITY_DAYS,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        check_name_part("common name", &self.common_name, true)?;
        if let Some(o) = &self.organization {
            check_name_part("organization", o, false)?;
        }
        if let Some(ou) = &self.organizational_unit {
            check_name_part("organizational unit", ou, false)?;
        }
        if let Some(c) = &self.country
            && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(Error::InvalidRequest(format!(
                "country must be two capital letters (ISO 3166), got \"{c}\""
            )));
        }
        if self.validity_days == 0 || self.validity_days > MAX_VALIDITY_DAYS {
            return Err(Error::InvalidRequest(format!(
                "validity must be 1 to {MAX_VALIDITY_DAYS} days, got {}",
                self.validity_days
            )));
        }
        Ok(())
    }
}

fn check_name_part(what: &str, value: &str, required: bool) -> Result<()> {
    if value.trim().is_empty() {
        return if required {
            Err(Error::InvalidRequest(format!("{what} must not be empty")))
        } else {
            Err(Error::InvalidRequest(format!(
                "{what} must not be blank (leave it out instead)"
            )))
        };
    }
    if value.chars().count() > 64 {
        return Err(Error::InvalidRequest(format!(
            "{what} is longer than 64 characters (the X.520 limit)"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

/// A freshly made key and its self-signed certificate.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The self-signed device certificate.
    pub certificate: Certificate,
    /// Its private key.
    pub private_key: PrivateKey,
}

/// Generates a key of `key_type` and a self-signed device certificate valid from `now`.
pub fn generate(
    key_type: KeyType,
    request: &CertificateRequest,
    now: OffsetDateTime,
) -> Result<Credentials> {
    match key_type.rsa_bits() {
        None => generate_ec(key_type, request, now),
        Some(bits) => {
            let private_key = PrivateKey::from_pkcs8_der(&generate_rsa_pkcs8(bits)?)?;
            let certificate = self_signed(&private_key, request, now)?;
            Ok(Credentials {
                certificate,
                private_key,
            })
        }
    }
}

/// [`generate`] for the ECDSA key types only: the page makes RSA keys with
/// WebCrypto and calls [`self_signed`], so its WebAssembly never carries an
/// RSA key generator.
pub fn generate_ec(
    key_type: KeyType,
    request: &CertificateRequest,
    now: OffsetDateTime,
) -> Result<Credentials> {
    use ring::signature::{EcdsaKeyPair, KeyPair};
    request.validate()?;
    let curve = match key_type {
        KeyType::EcP256 => crate::algorithm::Curve::P256,
        KeyType::EcP384 => crate::algorithm::Curve::P384,
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            return Err(Error::UnsupportedKeyType(format!(
                "{} keys are not made here: generate the key elsewhere and sign with self_signed",
                key_type.as_str()
            )));
        }
    };
    // Both curves above have a signer; the error only keeps this total.
    let (algorithm, signature) = signer::ec_algorithms(&curve)
        .ok_or_else(|| Error::UnsupportedKeyType(format!("ECDSA {curve} keys")))?;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).map_err(|_| Error::Random)?;
    let pkcs8 = zeroize::Zeroizing::new(pkcs8.as_ref().to_vec());
    // ring checks the pair it loads; that one pair both signs and gives the
    // public point, so a fresh key is not proven a second time.
    let pair = EcdsaKeyPair::from_pkcs8(algorithm, &pkcs8, &rng)
        .map_err(|e| Error::crypto("new EC key", e))?;
    let public_key = pair.public_key().as_ref().to_vec();
    let certificate = sign_certificate(&Signer::ec(pair, signature), request, now)?;
    Ok(Credentials {
        certificate,
        private_key: PrivateKey::from_generated_ec(pkcs8, curve, public_key),
    })
}

/// Makes a self-signed device certificate for `key` (valid from `now` for
/// `request.validity_days`).
pub fn self_signed(
    key: &PrivateKey,
    request: &CertificateRequest,
    now: OffsetDateTime,
) -> Result<Certificate> {
    request.validate()?;
    sign_certificate(&Signer::new(key)?, request, now)
}

/// The certificate `signer` signs for `request` (validated by the caller).
fn sign_certificate(
    signer: &Signer,
    request: &CertificateRequest,
    now: OffsetDateTime,
) -> Result<Certificate> {
    // Whole seconds: X.509 times have no fractions.
    let start = now.replace_nanosecond(0).unwrap_or(now);
    let end = start
        .checked_add(Duration::days(i64::from(request.validity_days)))
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{} days from {start} is past what a date can hold",
                request.validity_days
            ))
        })?;
    let der = profile::certificate(signer, request, &random_serial()?, start, end)?;
    Certificate::from_der(&der)
}

/// Makes a PKCS#10 certificate signing request (PEM) with the same subject and extensions.
pub fn csr(key: &PrivateKey, request: &CertificateRequest) -> Result<String> {
    request.validate()?;
    let der = profile::request(&Signer::new(key)?, request)?;
    Ok(pem::encode("CERTIFICATE REQUEST", &der))
}

/// 16 random bytes, positive (top bit clear) and exactly [`SERIAL_BYTES`]
/// long in DER (first byte non-zero).
fn random_serial() -> Result<[u8; SERIAL_BYTES]> {
    let mut bytes = [0u8; SERIAL_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(bytes)
}

/// Generates an RSA private key as PKCS#8 DER.
pub fn generate_rsa_pkcs8(bits: usize) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
        .map_err(|e| Error::crypto("RSA key", e))?;
    let doc = key
        .to_pkcs8_der()
        .map_err(|e| Error::crypto("RSA key", e))?;
    Ok(zeroize::Zeroizing::new(doc.as_bytes().to_vec()))
}
