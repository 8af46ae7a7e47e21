//! Decoding an X.509 certificate (RFC 5280) with RustCrypto's `x509-cert`
//! (strict DER through `der`), then the checks it leaves to its users: the
//! two signature algorithm identifiers agree, the extensions Marshal reads
//! are well formed and none appears twice, and the key's bits fit its
//! algorithm.

use std::ops::Range;

use const_oid::{AssociatedOid, ObjectIdentifier};
use der::{Decode, Encode, Reader, SliceReader};
use time::OffsetDateTime;
use x509_cert::{
    certificate::{CertificateInner, Raw},
    ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage},
    name::Name,
    time::Time,
};

use crate::{
    algorithm::{KeyAlgorithm, SignatureAlgorithm},
    error::{Error, Result},
};

/// The certificate as `der` decodes it, without the profile's adjustments
/// (which would rewrite times on encoding and so break the round trip
/// below); the serial number's size is checked here instead.
type X509 = CertificateInner<Raw>;

/// RFC 5280's 20 octets, plus the sign byte some issuers count outside them
/// (x509-cert's own limit for decoding).
const MAX_SERIAL_BYTES: usize = 21;

/// What a certificate holds, decoded and checked.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// The TBSCertificate TLV's place in the DER: what the signature covers.
    pub(crate) tbs: Range<usize>,
    /// The serialNumber INTEGER's content octets (two's complement).
    pub(crate) serial: Vec<u8>,
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    /// The SubjectPublicKeyInfo: algorithm OID, its parameters (a whole
    /// TLV, when present) and the key's BIT STRING bytes.
    pub(crate) key_algorithm: ObjectIdentifier,
    pub(crate) key_parameters: Option<Vec<u8>>,
    pub(crate) public_key: Vec<u8>,
    /// basicConstraints cA.
    pub(crate) is_ca: bool,
    /// keyUsage bits, RFC 5280 bit 0 (digitalSignature) as 1 << 0; `None` when absent.
    pub(crate) key_usage: Option<u16>,
    /// extendedKeyUsage purposes in order; empty when absent.
    pub(crate) extended_key_usage: Vec<ObjectIdentifier>,
    pub(crate) signature_algorithm: ObjectIdentifier,
    pub(crate) signature: Vec<u8>,
}

/// Decodes one certificate; errors are `TruncatedDer` or `NotACertificate`.
pub(crate) fn parse(der: &[u8]) -> Result<Parsed> {
    // The tag first: text that is not DER at all is "not a certificate",
    // whatever else a decoder would say about it.
    if der.first() != Some(&0x30) {
        return Err(Error::NotACertificate("not an ASN.1 SEQUENCE".into()));
    }
    let certificate = X509::from_der(der).map_err(decoding)?;
    // `der` reads strictly but accepts a few encodings DER forbids (a
    // DEFAULT value written out, such as `critical FALSE`). Encoding what
    // was read must give back the very bytes, or the input was not DER.
    if certificate.to_der().map_err(decoding)? != der {
        return Err(Error::NotACertificate(
            "it is not canonical DER (a default value written out, for example)".into(),
        ));
    }
    if certificate
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .len()
        > MAX_SERIAL_BYTES
    {
        return Err(Error::NotACertificate(format!(
            "a serial number longer than {MAX_SERIAL_BYTES} bytes"
        )));
    }
    let tbs = tbs_range(der).map_err(decoding)?;
    let fields = certificate.tbs_certificate();

    // The signature algorithm is named twice, outside and inside what is
    // signed; they must be the same identifier, parameters included, or
    // the unsigned one could be changed (and the certificate ID with it).
    if certificate.signature_algorithm() != fields.signature() {
        return Err(Error::NotACertificate(
            "the signature algorithm outside differs from the one inside".into(),
        ));
    }
    let algorithm = certificate.signature_algorithm();
    if algorithm.parameters.is_some()
        && matches!(
            SignatureAlgorithm::from_oid(algorithm.oid),
            SignatureAlgorithm::Ecdsa { .. } | SignatureAlgorithm::Ed25519
        )
    {
        return Err(Error::NotACertificate(format!(
            "its {} signature algorithm has parameters, which RFC 5758 and RFC 8410 leave absent",
            SignatureAlgorithm::from_oid(algorithm.oid)
        )));
    }
    let signature = whole_bytes(certificate.signature().as_bytes(), "signatureValue")?;

    let spki = fields.subject_public_key_info();
    let key_parameters = spki
        .algorithm
        .parameters
        .as_ref()
        .map(|p| p.to_der().map_err(decoding))
        .transpose()?;
    let public_key = whole_bytes(spki.subject_public_key.as_bytes(), "subjectPublicKey")?;
    // Names the key (curve, size) now, so that a key whose bits do not fit
    // its algorithm is refused here and not shown as if it were fine.
    KeyAlgorithm::from_spki(spki.algorithm.oid, key_parameters.as_deref(), &public_key).map_err(
        |e| match e {
            Error::MalformedKey(detail) => Error::NotACertificate(detail),
            other => other,
        },
    )?;

    let mut parsed = Parsed {
        tbs,
        serial: fields.serial_number().as_bytes().to_vec(),
        issuer: fields.issuer().clone(),
        subject: fields.subject().clone(),
        not_before: time(fields.validity().not_before)?,
        not_after: time(fields.validity().not_after)?,
        key_algorithm: spki.algorithm.oid,
        key_parameters,
        public_key,
        is_ca: false,
        key_usage: None,
        extended_key_usage: Vec::new(),
        signature_algorithm: certificate.signature_algorithm().oid,
        signature,
    };
    let extensions = fields.extensions().map(Vec::as_slice).unwrap_or_default();
    for (i, extension) in extensions.iter().enumerate() {
        let id = extension.extn_id;
        if extensions[..i].iter().any(|e| e.extn_id == id) {
            return Err(Error::NotACertificate(format!(
                "extension {id} appears twice"
            )));
        }
        let value = extension.extn_value.as_bytes();
        match id {
            BasicConstraints::OID => {
                parsed.is_ca = extension_value::<BasicConstraints>(value, "basicConstraints")?.ca;
            }
            KeyUsage::OID => {
                parsed.key_usage = Some(extension_value::<KeyUsage>(value, "keyUsage")?.0.bits());
            }
            ExtendedKeyUsage::OID => {
                parsed.extended_key_usage =
                    extension_value::<ExtendedKeyUsage>(value, "extendedKeyUsage")?.0;
            }
            _ => {}
        }
    }
    Ok(parsed)
}

/// The range of the TBSCertificate TLV inside `der`, the first element of
/// the outer SEQUENCE (which `X509::from_der` has already checked).
fn tbs_range(der: &[u8]) -> der::Result<Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    reader.sequence(|fields| {
        let start = u32::from(fields.position()) as usize;
        let tbs = fields.tlv_bytes()?;
        // The rest was decoded already; skip it so `sequence` sees its end.
        let rest = fields.remaining_len();
        fields.drain(rest)?;
        Ok(start..start + tbs.len())
    })
}

fn extension_value<'a, T: Decode<'a, Error = der::Error>>(
    value: &'a [u8],
    name: &str,
) -> Result<T> {
    T::from_der(value)
        .map_err(|e| Error::NotACertificate(format!("its {name} extension is malformed: {e}")))
}

/// A BIT STRING's bytes, which must be whole octets (no unused bits).
fn whole_bytes(bytes: Option<&[u8]>, name: &str) -> Result<Vec<u8>> {
    bytes
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::NotACertificate(format!("{name} is not a whole number of bytes")))
}

fn time(t: Time) -> Result<OffsetDateTime> {
    i64::try_from(t.to_unix_duration().as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .ok_or_else(|| Error::NotACertificate(format!("an impossible time {t}")))
}

/// `der`'s errors in our terms: running out of bytes is a truncation,
/// anything else says what `der` found wrong and where.
fn decoding(e: der::Error) -> Error {
    match e.kind() {
        der::ErrorKind::Incomplete { .. } => Error::TruncatedDer(e.to_string()),
        _ => Error::NotACertificate(e.to_string()),
    }
}
