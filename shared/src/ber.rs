//! A small BER reader and DER writer for the password-protected envelopes
//! (PKCS#12, PBES2, encrypted PKCS#8).
//!
//! PKCS#12 files are BER, not always DER: Windows and Java write
//! indefinite lengths and constructed OCTET STRINGs. What sits inside the
//! envelope (certificates, PKCS#8 keys) is DER and goes to the DER parsers.
//! Depth is bounded so hostile nesting cannot exhaust the stack.

use std::borrow::Cow;

use const_oid::ObjectIdentifier;

use crate::error::{Error, Result};

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
/// `[0]` constructed: EXPLICIT content of ContentInfo and SafeBag.
pub(crate) const CONTEXT_0: u8 = 0xa0;
/// `[0]` IMPLICIT OCTET STRING, primitive: EncryptedContentInfo's content.
pub(crate) const CONTEXT_0_PRIMITIVE: u8 = 0x80;
const CONSTRUCTED: u8 = 0x20;

/// Nesting deeper than this is refused; real files stay under ten.
const MAX_DEPTH: usize = 32;

/// One element: its tag and its content bytes (still BER).
#[derive(Debug, Clone)]
pub(crate) struct Element<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
}

impl<'a> Element<'a> {
    /// The children of a constructed element.
    pub(crate) fn reader(&self) -> Reader<'a> {
        Reader {
            rest: self.content,
            what: "",
        }
    }

    /// An OCTET STRING's bytes, joining the pieces of a constructed one.
    pub(crate) fn octets(&self) -> Result<Cow<'a, [u8]>> {
        match self.tag {
            OCTET_STRING | CONTEXT_0_PRIMITIVE => Ok(Cow::Borrowed(self.content)),
            t if t == OCTET_STRING | CONSTRUCTED || t == CONTEXT_0_PRIMITIVE | CONSTRUCTED => {
                let mut joined = Vec::with_capacity(self.content.len());
                join_octets(self.content, 0, &mut joined)?;
                Ok(Cow::Owned(joined))
            }
            t => Err(wrong_tag("an OCTET STRING", t)),
        }
    }

    /// A non-negative INTEGER that fits in a `u32` (versions, iteration counts).
    pub(crate) fn small_uint(&self) -> Result<u32> {
        if self.tag != INTEGER {
            return Err(wrong_tag("an INTEGER", self.tag));
        }
        let digits = match self.content {
            [] => return Err(malformed("an empty INTEGER")),
            [first, ..] if first & 0x80 != 0 => return Err(malformed("a negative INTEGER")),
            [0, rest @ ..] => rest,
            all => all,
        };
        if digits.len() > 4 {
            return Err(malformed("an INTEGER too large"));
        }
        Ok(digits
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
    }

    /// A BIT STRING's bytes; only whole bytes (no unused bits) are accepted.
    pub(crate) fn bit_string(&self) -> Result<&'a [u8]> {
        match (self.tag, self.content) {
            (BIT_STRING, [0, bits @ ..]) => Ok(bits),
            (BIT_STRING, _) => Err(malformed("a BIT STRING with unused bits")),
            (t, _) => Err(wrong_tag("a BIT STRING", t)),
        }
    }

    /// An OBJECT IDENTIFIER's value.
    pub(crate) fn oid(&self) -> Result<ObjectIdentifier> {
        if self.tag != OID {
            return Err(wrong_tag("an OBJECT IDENTIFIER", self.tag));
        }
        ObjectIdentifier::from_bytes(self.content)
            .map_err(|e| malformed(format!("a bad object identifier ({e})")))
    }

    /// The whole element re-encoded as one DER-framed TLV (for a DER parser).
    pub(crate) fn to_tlv(&self) -> Vec<u8> {
        tlv(self.tag, self.content)
    }
}

/// Reads elements one after another from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    /// What these bytes are, for error messages.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { rest: bytes, what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element, or `None` at the end.
    pub(crate) fn next_element(&mut self) -> Result<Option<Element<'a>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (element, rest) = split(self.rest, 0)?;
        self.rest = rest;
        Ok(Some(element))
    }

    /// The next element, which must be there and carry `tag`.
    pub(crate) fn expect(&mut self, tag: u8, name: &str) -> Result<Element<'a>> {
        match self.next_element()? {
            Some(e) if e.tag == tag => Ok(e),
            Some(e) => Err(malformed(format!(
                "{name}{}: expected tag 0x{tag:02x}, found 0x{:02x}",
                self.context(),
                e.tag
            ))),
            None => Err(malformed(format!("{name}{} is missing", self.context()))),
        }
    }

    /// The next element when it carries `tag`; otherwise nothing is consumed.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Element<'a>>> {
        match self.rest.first() {
            Some(&t) if t == tag => self.next_element(),
            _ => Ok(None),
        }
    }

    fn context(&self) -> String {
        if self.what.is_empty() {
            String::new()
        } else {
            format!(" in {}", self.what)
        }
    }
}

/// The first element of `input` and what follows it.
fn split(input: &[u8], depth: usize) -> Result<(Element<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let (&tag, after_tag) = input.split_first().ok_or_else(|| truncated("a tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("a multi-byte tag, which PKCS#12 does not use"));
    }
    let (&first, after_len) = after_tag
        .split_first()
        .ok_or_else(|| truncated("a length"))?;
    if first == 0x80 {
        // Indefinite length: the content runs to the matching end-of-contents.
        if tag & CONSTRUCTED == 0 {
            return Err(malformed("an indefinite length on a primitive element"));
        }
        let mut rest = after_len;
        loop {
            if let [0, 0, tail @ ..] = rest {
                let content = &after_len[..after_len.len() - rest.len()];
                return Ok((Element { tag, content }, tail));
            }
            if rest.is_empty() {
                return Err(truncated("an end-of-contents marker"));
            }
            rest = split(rest, depth + 1)?.1;
        }
    }
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(malformed("a length longer than 4 bytes"));
        }
        if after_len.len() < n {
            return Err(truncated("a length"));
        }
        let len = after_len[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &after_len[n..])
    };
    if body.len() < len {
        return Err(truncated("the content of an element"));
    }
    let (content, rest) = body.split_at(len);
    Ok((Element { tag, content }, rest))
}

/// Appends the pieces of a constructed OCTET STRING's content to `out`.
fn join_octets(mut content: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<()> {
    while !content.is_empty() {
        let (piece, rest) = split(content, depth + 1)?;
        match piece.tag {
            OCTET_STRING => out.extend_from_slice(piece.content),
            t if t == OCTET_STRING | CONSTRUCTED => join_octets(piece.content, depth + 1, out)?,
            t => {
                return Err(malformed(format!(
                    "a constructed OCTET STRING holding tag 0x{t:02x}"
                )));
            }
        }
        content = rest;
    }
    Ok(())
}

// --- DER writing ---------------------------------------------------------

/// One DER element: tag, definite length, content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8); // < 0x80: fits
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8); // at most 8
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

pub(crate) fn oid(oid: ObjectIdentifier) -> Vec<u8> {
    tlv(OID, oid.as_bytes())
}

pub(crate) fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

pub(crate) fn explicit0(inner: &[u8]) -> Vec<u8> {
    tlv(CONTEXT_0, inner)
}

// Unused since pkcs12 moved onto `der` (issue 13); ber.rs goes at the end of it.
#[allow(dead_code)]
pub(crate) fn uint(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(INTEGER, &content)
}

/// The fields of the one SEQUENCE that `bytes` must be, nothing after it.
pub(crate) fn sole_sequence<'a>(bytes: &'a [u8], name: &'static str) -> Result<Reader<'a>> {
    let mut outer = Reader::new(bytes, name);
    let sequence = outer.expect(SEQUENCE, name)?;
    if !outer.is_empty() {
        return Err(malformed(format!("bytes after the end of {name}")));
    }
    Ok(sequence.reader())
}

fn wrong_tag(expected: &str, found: u8) -> Error {
    malformed(format!("expected {expected}, found tag 0x{found:02x}"))
}

pub(crate) fn malformed(detail: impl Into<String>) -> Error {
    Error::MalformedPkcs12(detail.into())
}

fn truncated(what: &str) -> Error {
    Error::TruncatedDer(format!("the data ends before {what}"))
}

/// Checks that `bytes` are exactly one DER element whose framing, and that
/// of every constructed element inside, is DER: definite lengths in their
/// shortest form. What sits inside primitive elements is the parser's to
/// check. Certificates and keys must be DER (AWS IoT hashes the exact bytes).
pub(crate) fn check_der(bytes: &[u8]) -> Result<()> {
    fn walk(mut input: &[u8], depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(malformed("nested too deeply"));
        }
        while !input.is_empty() {
            let (&tag, rest) = input.split_first().ok_or_else(|| truncated("a tag"))?;
            let (&first, rest) = rest.split_first().ok_or_else(|| truncated("a length"))?;
            let long_form_padded = match first {
                0x81 => rest.first().is_some_and(|&len| len < 0x80),
                0x82..=0x84 => rest.first() == Some(&0),
                _ => false,
            };
            if first == 0x80 {
                return Err(malformed("an indefinite length, which DER forbids"));
            }
            if long_form_padded {
                return Err(malformed("a length not in its shortest form"));
            }
            let (element, rest) = split(input, depth)?;
            if tag & CONSTRUCTED != 0 {
                walk(element.content, depth + 1)?;
            }
            input = rest;
        }
        Ok(())
    }
    let (_, rest) = split(bytes, 0)?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the end", rest.len())));
    }
    walk(bytes, 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn reads_definite_and_indefinite_lengths_alike() {
        // SEQUENCE { INTEGER 3, [0] { OCTET STRING "ab" } } in DER and in BER
        // with indefinite lengths and a constructed OCTET STRING "a" + "b".
        let der = [
            0x30, 0x09, 0x02, 0x01, 0x03, 0xa0, 0x04, 0x04, 0x02, b'a', b'b',
        ];
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x03, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x01,
            b'b', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        for input in [&der[..], &ber[..]] {
            let mut outer = Reader::new(input, "test");
            let seq = outer.expect(SEQUENCE, "outer").unwrap();
            assert!(outer.is_empty(), "{input:02x?}");
            let mut inner = seq.reader();
            assert_eq!(inner.expect(INTEGER, "v").unwrap().small_uint().unwrap(), 3);
            let wrapped = inner.expect(CONTEXT_0, "c").unwrap();
            let octets = wrapped.reader().next_element().unwrap().unwrap();
            assert_eq!(&*octets.octets().unwrap(), b"ab");
        }
    }

    #[test]
    fn refuses_what_would_hurt() {
        let mut deep = Vec::new();
        for _ in 0..200 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        let cases: [(&[u8], &str); 6] = [
            (&deep, "malformed_pkcs12"),
            (&[0x30, 0x05, 0x02], "truncated_der"),
            (&[0x30, 0x85, 1, 0, 0, 0, 0], "malformed_pkcs12"),
            (&[0x04, 0x80, 0x00, 0x00], "malformed_pkcs12"),
            (&[0x30, 0x80, 0x02, 0x01, 0x03], "truncated_der"),
            (&[0x1f, 0x81, 0x01, 0x00], "malformed_pkcs12"),
        ];
        for (input, code) in cases {
            let err = Reader::new(input, "test").next_element().unwrap_err();
            assert_eq!(err.code(), code, "{input:02x?}: {err}");
        }
    }

    #[test]
    fn integers() {
        let int = |content: &'static [u8]| Element {
            tag: INTEGER,
            content,
        };
        assert_eq!(int(&[0x00, 0x80]).small_uint().unwrap(), 128);
        assert_eq!(int(&[0x08, 0x00]).small_uint().unwrap(), 2048);
        assert!(int(&[0xff]).small_uint().is_err());
        assert!(int(&[1, 2, 3, 4, 5]).small_uint().is_err());
        assert!(int(&[]).small_uint().is_err());
    }

    #[test]
    fn lengths_and_integers_are_der() {
        assert_eq!(tlv(0x04, &[7; 3])[..2], [0x04, 0x03]);
        assert_eq!(tlv(0x04, &[7; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[7; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
        assert_eq!(uint(0), [0x02, 0x01, 0x00]);
        assert_eq!(uint(3), [0x02, 0x01, 0x03]);
        assert_eq!(uint(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(10_000), [0x02, 0x02, 0x27, 0x10]);
        // What the der crate makes of the same values.
        for v in [0u32, 3, 127, 128, 255, 10_000, 2_000_000, u32::MAX] {
            assert_eq!(uint(v), der::Encode::to_der(&v).unwrap(), "{v}");
        }
    }

    #[test]
    fn der_framing_is_checked() {
        let der = [0x30, 0x06, 0x04, 0x01, 0xaa, 0x30, 0x01, 0x05];
        // The inner SEQUENCE claims one byte it has: fine framing, and the
        // check does not look inside primitives.
        assert!(check_der(&[0x30, 0x03, 0x04, 0x01, 0xaa]).is_ok());
        assert!(
            check_der(&der).is_err(),
            "a SEQUENCE inside holds a broken element"
        );
        let cases: [(&[u8], &str); 4] = [
            (&[0x30, 0x80, 0x04, 0x00, 0x00, 0x00], "indefinite"),
            (&[0x30, 0x81, 0x02, 0x04, 0x00], "shortest"),
            (&[0x30, 0x82, 0x00, 0x02, 0x04, 0x00], "shortest"),
            (&[0x30, 0x02, 0x04, 0x00, 0x00], "after the end"),
        ];
        for (input, words) in cases {
            let err = check_der(input).unwrap_err().to_string();
            assert!(err.contains(words), "{input:02x?}: {err}");
        }
    }
}
