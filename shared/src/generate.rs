//! Making device credentials: a key and a self-signed "device client" certificate, or a CSR.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

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

    fn params(&self, now: OffsetDateTime, key_type_is_rsa: bool) -> Result<CertificateParams> {
        self.validate()?;
        let mut dn = DistinguishedName::new();
        if let Some(c) = &self.country {
            dn.push(DnType::CountryName, c.as_str());
        }
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        if let Some(ou) = &self.organizational_unit {
            dn.push(DnType::OrganizationalUnitName, ou.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());

        let mut params = CertificateParams::default();
        params.distinguished_name = dn;
        // Whole seconds: X.509 UTCTime has no fractions.
        let start = now.replace_nanosecond(0).unwrap_or(now);
        params.not_before = start;
        params.not_after = start + Duration::days(i64::from(self.validity_days));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = if key_type_is_rsa {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ]
        } else {
            vec![KeyUsagePurpose::DigitalSignature]
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        Ok(params)
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
    let params = request.params(now, false)?;
    let key_pair = match key_type {
        KeyType::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyType::EcP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            return Err(Error::UnsupportedKeyType(format!(
                "{} keys are not made here: generate the key elsewhere and sign with self_signed",
                key_type.as_str()
            )));
        }
    }
    .map_err(|e| Error::crypto("key pair", e))?;
    let private_key =
        PrivateKey::from_pkcs8_der(&zeroize::Zeroizing::new(key_pair.serialize_der()))?;
    let certificate = sign(params, &key_pair)?;
    Ok(Credentials {
        certificate,
        private_key,
    })
}

/// Makes a self-signed device certificate for an existing key (for example an
/// RSA key the browser generated with WebCrypto).
pub fn self_signed(
    key: &PrivateKey,
    request: &CertificateRequest,
    now: OffsetDateTime,
) -> Result<Certificate> {
    let (key_pair, is_rsa) = signing_key(key)?;
    sign(request.params(now, is_rsa)?, &key_pair)
}

/// Makes a PKCS#10 certificate signing request (PEM) with the same subject and extensions.
pub fn csr(key: &PrivateKey, request: &CertificateRequest, now: OffsetDateTime) -> Result<String> {
    let (key_pair, is_rsa) = signing_key(key)?;
    let params = request.params(now, is_rsa)?;
    let csr = params
        .serialize_request(&key_pair)
        .map_err(|e| Error::crypto("certificate signing request", e))?;
    Ok(pem::encode("CERTIFICATE REQUEST", csr.der()))
}

fn sign(mut params: CertificateParams, key_pair: &KeyPair) -> Result<Certificate> {
    params.serial_number = Some(random_serial()?);
    let cert = params
        .self_signed(key_pair)
        .map_err(|e| Error::crypto("certificate", e))?;
    Certificate::from_der(cert.der())
}

fn signing_key(key: &PrivateKey) -> Result<(KeyPair, bool)> {
    use crate::{Curve, KeyAlgorithm};
    let (alg, is_rsa): (&'static rcgen::SignatureAlgorithm, bool) = match key.algorithm() {
        KeyAlgorithm::Ec { curve: Curve::P256 } => (&rcgen::PKCS_ECDSA_P256_SHA256, false),
        KeyAlgorithm::Ec { curve: Curve::P384 } => (&rcgen::PKCS_ECDSA_P384_SHA384, false),
        KeyAlgorithm::Rsa { bits } if *bits >= 2048 => (&rcgen::PKCS_RSA_SHA256, true),
        other => {
            return Err(Error::UnsupportedKeyType(format!(
                "{other} cannot sign a device certificate (use ECDSA P-256/P-384 or RSA ≥ 2048)"
            )));
        }
    };
    let pair = KeyPair::from_pkcs8_der_and_sign_algo(&key.pkcs8_der().into(), alg)
        .map_err(|e| Error::crypto("signing key", e))?;
    Ok((pair, is_rsa))
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; SERIAL_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
    // Positive (top bit clear) and exactly SERIAL_BYTES long in DER (first byte non-zero).
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(SerialNumber::from_slice(&bytes))
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
