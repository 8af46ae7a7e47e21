//! The device-client profile as rcgen parameters, and the certificate or CSR
//! rcgen encodes and signs from them.
//!
//! Subject C, O, OU, CN in that order (as `openssl` lists it), C a
//! PrintableString and the rest UTF8String; keyUsage digitalSignature (+
//! keyEncipherment for RSA, critical); extKeyUsage clientAuth;
//! subjectKeyIdentifier (certificates only); basicConstraints CA:FALSE
//! (critical). The CSR asks for the same extensions in its extensionRequest.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyUsagePurpose, PublicKeyData, SerialNumber,
};
use time::{OffsetDateTime, UtcOffset};

use super::{CertificateRequest, signer::Signer};
use crate::error::{Error, Result};

/// A self-signed device certificate (X.509 v3, DER) valid from `not_before` to `not_after`.
pub(super) fn certificate(
    signer: &Signer,
    request: &CertificateRequest,
    serial: &[u8],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Vec<u8>> {
    let mut params = device_client(signer, request)?;
    params.serial_number = Some(SerialNumber::from_slice(serial));
    params.not_before = certificate_time(not_before)?;
    params.not_after = certificate_time(not_after)?;
    // RFC 5280 4.2.1.2, method 1: SHA-1 of the public key bits, as openssl's
    // `subjectKeyIdentifier=hash` (rcgen's default hashes the whole SPKI
    // with SHA-256).
    let id = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, signer.der_bytes());
    params.key_identifier_method = KeyIdMethod::PreSpecified(id.as_ref().to_vec());
    let certificate = params
        .self_signed(signer)
        .map_err(|e| Error::crypto("certificate", e))?;
    Ok(certificate.der().to_vec())
}

/// A PKCS#10 request (DER) with the same subject, asking for the same
/// extensions but the subject key identifier (the CA derives its own).
pub(super) fn request(signer: &Signer, request: &CertificateRequest) -> Result<Vec<u8>> {
    let csr = device_client(signer, request)?
        .serialize_request(signer)
        .map_err(|e| Error::crypto("certificate request", e))?;
    Ok(csr.der().to_vec())
}

/// What the certificate and the CSR share: subject and extensions.
fn device_client(signer: &Signer, request: &CertificateRequest) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(request)?;
    params.key_usages = if signer.is_rsa() {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    };
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    // ExplicitNoCa: an empty basicConstraints (CA:FALSE), critical; NoCa would leave it out.
    params.is_ca = IsCa::ExplicitNoCa;
    Ok(params)
}

fn subject(request: &CertificateRequest) -> Result<DistinguishedName> {
    let mut name = DistinguishedName::new();
    // X.520: countryName is a PrintableString of two letters.
    if let Some(c) = &request.country {
        let printable = rcgen::string::PrintableString::try_from(c.as_str())
            .map_err(|_| Error::InvalidRequest(format!("country \"{c}\" is not printable")))?;
        name.push(DnType::CountryName, DnValue::PrintableString(printable));
    }
    if let Some(o) = &request.organization {
        name.push(DnType::OrganizationName, DnValue::Utf8String(o.clone()));
    }
    if let Some(ou) = &request.organizational_unit {
        name.push(
            DnType::OrganizationalUnitName,
            DnValue::Utf8String(ou.clone()),
        );
    }
    name.push(
        DnType::CommonName,
        DnValue::Utf8String(request.common_name.clone()),
    );
    Ok(name)
}

/// `at` in UTC, within what X.509 times can hold. rcgen writes UTCTime
/// through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5), but picks
/// by the year in `at`'s own offset and panics outside 0–9999: hence UTC,
/// and the years refused here.
fn certificate_time(at: OffsetDateTime) -> Result<OffsetDateTime> {
    let utc = at.checked_to_offset(UtcOffset::UTC);
    match utc {
        Some(utc) if (1950..=9999).contains(&utc.year()) => Ok(utc),
        _ => Err(Error::InvalidRequest(format!(
            "a certificate time in the year {}",
            utc.map_or(at.year(), |utc| utc.year())
        ))),
    }
}
