//! PKCS#12's envelope (RFC 7292, and the PKCS#7 ContentInfo and
//! EncryptedData it is built of) as `der` types, borrowing from the bytes.
//!
//! Declared here rather than taken from RustCrypto's `pkcs12` crate: its
//! types are owned copies, it pins a pre-release `cms`, and it cost a probe
//! of the page 30 KB gzipped where these cost 4 KB (see ARCHITECTURE.md).
//! Decoding is `der`'s strict DER, after `ber_to_der` re-framed the layer.

use std::borrow::Cow;

use der::{
    Decode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged,
    asn1::{AnyRef, ObjectIdentifier, OctetStringRef},
};
use spki::AlgorithmIdentifierRef;

use crate::error::{Error, Result};

/// PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
#[derive(Sequence)]
pub(super) struct Pfx<'a> {
    pub(super) version: u32,
    pub(super) auth_safe: ContentInfo<'a>,
    pub(super) mac_data: Option<MacData<'a>>,
}

/// ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY OPTIONAL }
#[derive(Sequence)]
pub(super) struct ContentInfo<'a> {
    pub(super) content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(super) content: Option<AnyRef<'a>>,
}

/// MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
///
/// `iterations` is optional rather than DEFAULT: some tools write the
/// default 1, which strict DER would refuse.
#[derive(Sequence)]
pub(super) struct MacData<'a> {
    pub(super) mac: DigestInfo<'a>,
    pub(super) mac_salt: &'a OctetStringRef,
    pub(super) iterations: Option<u32>,
}

/// DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
#[derive(Sequence)]
pub(super) struct DigestInfo<'a> {
    pub(super) algorithm: AlgorithmIdentifierRef<'a>,
    pub(super) digest: &'a OctetStringRef,
}

/// EncryptedData ::= SEQUENCE { version INTEGER, encryptedContentInfo EncryptedContentInfo }
#[derive(Sequence)]
pub(super) struct EncryptedData<'a> {
    pub(super) version: u32,
    pub(super) encrypted_content_info: EncryptedContentInfo<'a>,
}

/// EncryptedContentInfo ::= SEQUENCE { contentType OID,
///   contentEncryptionAlgorithm AlgorithmIdentifier,
///   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
///
/// `encryptedContent` stays ANY: BER writers chunk it into a constructed
/// `[0]`, joined by [`implicit_octets`].
#[derive(Sequence)]
pub(super) struct EncryptedContentInfo<'a> {
    pub(super) content_type: ObjectIdentifier,
    pub(super) content_encryption_algorithm: AlgorithmIdentifierRef<'a>,
    pub(super) encrypted_content: Option<AnyRef<'a>>,
}

/// SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OF ... OPTIONAL }
///
/// The attributes are not read (friendly names mean nothing to a device),
/// so their SETs need not be in DER order, as Windows leaves them.
#[derive(Sequence)]
pub(super) struct SafeBag<'a> {
    pub(super) bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(super) bag_value: AnyRef<'a>,
    pub(super) bag_attributes: Option<AnyRef<'a>>,
}

/// CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT ANY }
#[derive(Sequence)]
pub(super) struct CertBag<'a> {
    pub(super) cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(super) cert_value: AnyRef<'a>,
}

/// EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier,
///   encryptedData OCTET STRING }
///
/// Ours rather than `pkcs8`'s, whose algorithm field is a
/// `pkcs5::EncryptionScheme` and so cannot hold the PKCS#12 schemes
/// (pbeWithSHAAnd3-KeyTripleDES-CBC) legacy files and OpenSSL 1.0 use.
#[derive(Sequence)]
pub(crate) struct EncryptedPrivateKeyInfo<'a> {
    pub(crate) encryption_algorithm: AlgorithmIdentifierRef<'a>,
    pub(crate) encrypted_data: &'a OctetStringRef,
}

/// pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
#[derive(Sequence)]
pub(super) struct Pkcs12PbeParams<'a> {
    pub(super) salt: &'a OctetStringRef,
    pub(super) iterations: u32,
}

/// Turns `der`'s error into ours, naming what was being read.
pub(crate) fn der_error(what: &str) -> impl Fn(der::Error) -> Error + '_ {
    move |e| match e.kind() {
        der::ErrorKind::Incomplete { .. } => {
            Error::TruncatedDer(format!("{what}: the data ends early"))
        }
        _ => Error::MalformedPkcs12(format!("{what}: {e}")),
    }
}

/// Decodes `value` (an ANY) as `T`.
pub(super) fn decode_as<'a, T>(value: AnyRef<'a>, what: &str) -> Result<T>
where
    T: der::Choice<'a> + der::DecodeValue<'a, Error = der::Error>,
{
    value.decode_as::<T>().map_err(der_error(what))
}

/// Decodes each element of a SEQUENCE OF `T` in turn, so that a limit can
/// stop the walk before the rest is decoded.
pub(super) fn each<'a, T>(
    sequence: AnyRef<'a>,
    what: &str,
    visit: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()>
where
    T: Decode<'a, Error = der::Error>,
{
    if sequence.tag() != Tag::Sequence {
        return Err(Error::MalformedPkcs12(format!(
            "{what}: expected a SEQUENCE, found {}",
            sequence.tag()
        )));
    }
    let mut reader = SliceReader::new(sequence.value()).map_err(der_error(what))?;
    while !reader.is_finished() {
        visit(T::decode(&mut reader).map_err(der_error(what))?)?;
    }
    Ok(())
}

/// A ContentInfo's `[0] EXPLICIT OCTET STRING` (content type `data`).
pub(super) fn data_octets<'a>(info: &ContentInfo<'a>, what: &str) -> Result<&'a [u8]> {
    let content = info
        .content
        .ok_or_else(|| Error::MalformedPkcs12(format!("{what} is empty")))?;
    Ok(decode_as::<&OctetStringRef>(content, what)?.as_bytes())
}

/// A `[0] IMPLICIT OCTET STRING`, primitive or (BER) chunked into pieces.
pub(super) fn implicit_octets<'a>(value: AnyRef<'a>, what: &str) -> Result<Cow<'a, [u8]>> {
    match value.tag() {
        Tag::ContextSpecific {
            constructed: false,
            number: TagNumber(0),
        } => Ok(Cow::Borrowed(value.value())),
        Tag::ContextSpecific {
            constructed: true,
            number: TagNumber(0),
        } => {
            let mut joined = Vec::with_capacity(value.value().len());
            let mut reader = SliceReader::new(value.value()).map_err(der_error(what))?;
            while !reader.is_finished() {
                let piece = <&OctetStringRef>::decode(&mut reader).map_err(der_error(what))?;
                joined.extend_from_slice(piece.as_bytes());
            }
            Ok(Cow::Owned(joined))
        }
        other => Err(Error::MalformedPkcs12(format!(
            "{what}: expected [0] IMPLICIT OCTET STRING, found {other}"
        ))),
    }
}
