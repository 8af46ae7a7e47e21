//! Decoding an X.509 certificate (RFC 5280) on `ber`: the fields Marshal
//! shows and checks, kept as the bytes they were read from.
//!
//! Our own: RustCrypto's `x509-cert` and `der` (with `spki`, `pkcs8`,
//! `sec1`, `pkcs1` for the keys) were ~33 KB gzipped of the page for
//! structures this small. The framing must be DER.

use std::ops::Range;

use const_oid::ObjectIdentifier;
use time::{Date, Month, OffsetDateTime, Time};

use crate::{
    ber::{self, Element, Reader},
    error::{Error, Result},
};

const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` EXPLICIT version, `[1]`/`[2]` IMPLICIT unique IDs, `[3]` EXPLICIT extensions.
const VERSION: u8 = 0xa0;
const ISSUER_UNIQUE_ID: u8 = 0x81;
const SUBJECT_UNIQUE_ID: u8 = 0x82;
const EXTENSIONS: u8 = 0xa3;

/// One extension: its OID and its value's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Extension {
    pub(crate) id: ObjectIdentifier,
    pub(crate) value: Vec<u8>,
}

/// What a certificate holds, as ranges into (or copies of) its DER.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// The TBSCertificate TLV: what the signature covers.
    pub(crate) tbs: Range<usize>,
    pub(crate) serial: Vec<u8>,
    /// The Name SEQUENCEs' contents.
    pub(crate) issuer: Vec<u8>,
    pub(crate) subject: Vec<u8>,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    /// The SubjectPublicKeyInfo: algorithm OID, its parameters (a whole
    /// TLV, when present) and the key's BIT STRING bytes.
    pub(crate) key_algorithm: ObjectIdentifier,
    pub(crate) key_parameters: Option<Vec<u8>>,
    pub(crate) public_key: Vec<u8>,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) signature_algorithm: ObjectIdentifier,
    pub(crate) signature: Vec<u8>,
}

impl Parsed {
    pub(crate) fn extension(&self, id: ObjectIdentifier) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.value.as_slice())
    }
}

/// Decodes one certificate; errors are `TruncatedDer` or `NotACertificate`.
pub(crate) fn parse(der: &[u8]) -> Result<Parsed> {
    let as_certificate_error = |e: Error| match e {
        Error::MalformedPkcs12(detail) => Error::NotACertificate(detail),
        other => other,
    };
    // The tag first, as a DER decoder reads it: text that is not DER at all
    // is "not a certificate", not "truncated".
    if der.first() != Some(&ber::SEQUENCE) {
        return Err(Error::NotACertificate("not an ASN.1 SEQUENCE".into()));
    }
    ber::check_der(der).map_err(as_certificate_error)?;
    read(der).map_err(as_certificate_error)
}

fn read(der: &[u8]) -> Result<Parsed> {
    let mut outer = Reader::new(der, "the certificate");
    let certificate = outer.expect(ber::SEQUENCE, "the certificate")?;
    let mut fields = certificate.reader();
    let tbs = fields.expect(ber::SEQUENCE, "tbsCertificate")?;
    let signature_algorithm = algorithm(&fields.expect(ber::SEQUENCE, "signatureAlgorithm")?)?.0;
    let signature = fields
        .expect(ber::BIT_STRING, "signatureValue")?
        .bit_string()?
        .to_vec();
    end(&fields, "the certificate")?;

    let mut tbs_fields = tbs.reader();
    if let Some(version) = tbs_fields.optional(VERSION)? {
        let v = version
            .reader()
            .expect(ber::INTEGER, "the version")?
            .small_uint()?;
        if v > 2 {
            return Err(ber::malformed(format!("version {}", v + 1)));
        }
    }
    let serial = tbs_fields.expect(ber::INTEGER, "serialNumber")?;
    if serial.content.is_empty() {
        return Err(ber::malformed("an empty serialNumber"));
    }
    let inner_algorithm = algorithm(&tbs_fields.expect(ber::SEQUENCE, "signature")?)?.0;
    if inner_algorithm != signature_algorithm {
        return Err(ber::malformed(
            "the signature algorithm inside differs from the one outside",
        ));
    }
    let issuer = tbs_fields.expect(ber::SEQUENCE, "issuer")?;
    let mut validity = tbs_fields.expect(ber::SEQUENCE, "validity")?.reader();
    let not_before = time(&next(&mut validity, "notBefore")?)?;
    let not_after = time(&next(&mut validity, "notAfter")?)?;
    end(&validity, "validity")?;
    let subject = tbs_fields.expect(ber::SEQUENCE, "subject")?;
    let mut spki = tbs_fields
        .expect(ber::SEQUENCE, "subjectPublicKeyInfo")?
        .reader();
    let (key_algorithm, key_parameters) =
        algorithm(&spki.expect(ber::SEQUENCE, "the key algorithm")?)?;
    let public_key = spki
        .expect(ber::BIT_STRING, "subjectPublicKey")?
        .bit_string()?
        .to_vec();
    end(&spki, "subjectPublicKeyInfo")?;
    tbs_fields.optional(ISSUER_UNIQUE_ID)?;
    tbs_fields.optional(SUBJECT_UNIQUE_ID)?;
    let extensions = match tbs_fields.optional(EXTENSIONS)? {
        Some(wrapper) => extensions(&wrapper)?,
        None => Vec::new(),
    };
    end(&tbs_fields, "tbsCertificate")?;

    // The TBS's place in `der`: both are slices of the same buffer.
    let start = tbs.content.as_ptr() as usize - der.as_ptr() as usize;
    let header = tlv_header_len(tbs.content.len());
    Ok(Parsed {
        tbs: start - header..start + tbs.content.len(),
        serial: serial.content.to_vec(),
        issuer: issuer.content.to_vec(),
        subject: subject.content.to_vec(),
        not_before,
        not_after,
        key_algorithm,
        key_parameters,
        public_key,
        extensions,
        signature_algorithm,
        signature,
    })
}

/// AlgorithmIdentifier: the OID and its parameters as a whole TLV.
pub(crate) fn algorithm(element: &Element<'_>) -> Result<(ObjectIdentifier, Option<Vec<u8>>)> {
    let mut fields = element.reader();
    let oid = next(&mut fields, "an algorithm")?.oid()?;
    let parameters = fields.next_element()?.map(|p| p.to_tlv());
    end(&fields, "an AlgorithmIdentifier")?;
    Ok((oid, parameters))
}

fn extensions(wrapper: &Element<'_>) -> Result<Vec<Extension>> {
    let mut list = wrapper
        .reader()
        .expect(ber::SEQUENCE, "the extensions")?
        .reader();
    let mut out = Vec::new();
    while let Some(extension) = list.next_element()? {
        let mut fields = extension.reader();
        let id = next(&mut fields, "an extension")?.oid()?;
        fields.optional(ber::BOOLEAN)?;
        let value = fields.expect(ber::OCTET_STRING, "an extension's value")?;
        end(&fields, "an extension")?;
        if out.iter().any(|e: &Extension| e.id == id) {
            return Err(ber::malformed(format!("extension {id} appears twice")));
        }
        out.push(Extension {
            id,
            value: value.content.to_vec(),
        });
    }
    Ok(out)
}

/// UTCTime (`YYMMDDHHMMSSZ`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(element: &Element<'_>) -> Result<OffsetDateTime> {
    let text = std::str::from_utf8(element.content)
        .ok()
        .filter(|t| t.is_ascii())
        .unwrap_or_default();
    let digits = text.strip_suffix('Z').unwrap_or_default();
    let (year, rest) = match (element.tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = number(&digits[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (number(&digits[..4])?, &digits[4..]),
        _ => return Err(ber::malformed(format!("a time that is not DER: {text:?}"))),
    };
    let field = |i: usize| number(&rest[i..i + 2]);
    let month = Month::try_from(field(0)? as u8).map_err(|_| bad_time(text))?;
    let date = Date::from_calendar_date(year as i32, month, field(2)? as u8)
        .map_err(|_| bad_time(text))?;
    let clock = Time::from_hms(field(4)? as u8, field(6)? as u8, field(8)? as u8)
        .map_err(|_| bad_time(text))?;
    Ok(date.with_time(clock).assume_utc())
}

fn number(digits: &str) -> Result<u32> {
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().map_err(|_| bad_time(digits))
    } else {
        Err(bad_time(digits))
    }
}

fn bad_time(text: &str) -> Error {
    ber::malformed(format!("an impossible time {text:?}"))
}

fn next<'a>(reader: &mut Reader<'a>, name: &str) -> Result<Element<'a>> {
    reader
        .next_element()?
        .ok_or_else(|| ber::malformed(format!("{name} is missing")))
}

fn end(reader: &Reader<'_>, name: &str) -> Result<()> {
    if reader.is_empty() {
        Ok(())
    } else {
        Err(ber::malformed(format!(
            "unexpected fields at the end of {name}"
        )))
    }
}

/// The length of a DER tag + length header for `len` content bytes.
fn tlv_header_len(len: usize) -> usize {
    match len {
        0..=0x7f => 2,
        0x80..=0xff => 3,
        0x100..=0xffff => 4,
        0x1_0000..=0xff_ffff => 5,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn times() {
        let at = |tag, text: &str| {
            time(&Element {
                tag,
                content: text.as_bytes(),
            })
        };
        assert_eq!(
            at(UTC_TIME, "261129113414Z").unwrap().unix_timestamp(),
            1_795_952_054
        );
        assert_eq!(at(UTC_TIME, "500101000000Z").unwrap().year(), 1950);
        assert_eq!(
            at(GENERALIZED_TIME, "20500101000000Z").unwrap().year(),
            2050
        );
        for (tag, bad) in [
            (UTC_TIME, "2611291134Z"),
            (UTC_TIME, "261129113414+0900"),
            (UTC_TIME, "261329113414Z"),
            (UTC_TIME, "26112911341aZ"),
            (GENERALIZED_TIME, "261129113414Z"),
            (GENERALIZED_TIME, "20261129113414.5Z"),
        ] {
            assert!(at(tag, bad).is_err(), "{bad}");
        }
    }
}
