//! BER → DER re-framing, the one byte-level ASN.1 step left in PKCS#12.
//!
//! PKCS#12 files are BER, not always DER: Windows and Java write indefinite
//! lengths and constructed (chunked) OCTET STRINGs. `der` reads DER only
//! (its `ber` feature reassembles indefinite-length strings into owned
//! values, one level deep, and refuses definite-length chunked ones), so
//! each envelope layer passes through here first and is then decoded with
//! `der`'s `Decode`. This step only re-frames: indefinite lengths become
//! definite ones in their shortest form, and a constructed OCTET STRING
//! becomes one primitive OCTET STRING of its pieces joined. Contents of
//! primitive elements are copied untouched (a MAC over them still holds;
//! certificates and keys inside OCTET STRINGs stay exactly as written).
//! A constructed `[0] IMPLICIT OCTET STRING` (EncryptedContentInfo) cannot
//! be told from an EXPLICIT `[0]` at this level: `asn1` joins its pieces.
//!
//! Bounded: nesting deeper than `MAX_DEPTH` is refused; each byte is
//! copied once per level it is nested in, and the buffers alive at any
//! time hold disjoint parts of the input, so time and memory stay linear.

use crate::error::{Error, Result};

/// Nesting deeper than this is refused; real files stay under ten.
const MAX_DEPTH: usize = 32;

const CONSTRUCTED: u8 = 0x20;
const OCTET_STRING: u8 = 0x04;

/// The one element in `input` (nothing may follow it), re-framed as DER.
pub(crate) fn to_der(input: &[u8], name: &str) -> Result<Vec<u8>> {
    let (tag, content, rest) = element(input, 0)?;
    if !rest.is_empty() {
        return Err(malformed(format!("bytes after the end of {name}")));
    }
    let mut out = Vec::with_capacity(content.len() + 6);
    write_tlv(&mut out, tag, &content);
    Ok(out)
}

/// The first element of `input`: its tag (a chunked OCTET STRING's becomes
/// primitive), its content re-framed as DER, and what follows it.
fn element(input: &[u8], depth: usize) -> Result<(u8, Vec<u8>, &[u8])> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let (&tag, after_tag) = input.split_first().ok_or_else(|| truncated("a tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("a multi-byte tag, which PKCS#12 does not use"));
    }
    let (length, body) = length(after_tag)?;
    let constructed = tag & CONSTRUCTED != 0;
    let Some(length) = length else {
        if !constructed {
            return Err(malformed("an indefinite length on a primitive element"));
        }
        return indefinite(tag, body, depth);
    };
    if body.len() < length {
        return Err(truncated("the content of an element"));
    }
    let (content, rest) = body.split_at(length);
    if !constructed {
        return Ok((tag, content.to_vec(), rest));
    }
    let mut out = Vec::with_capacity(content.len());
    let mut children = content;
    while !children.is_empty() {
        children = child(tag, children, depth, &mut out)?;
    }
    Ok((tag_after_joining(tag), out, rest))
}

/// The children of an indefinite-length element, up to its end-of-contents.
fn indefinite(tag: u8, mut body: &[u8], depth: usize) -> Result<(u8, Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    loop {
        match body {
            [0, 0, rest @ ..] => return Ok((tag_after_joining(tag), out, rest)),
            [] => return Err(truncated("an end-of-contents marker")),
            _ => body = child(tag, body, depth, &mut out)?,
        }
    }
}

/// Re-frames the first child of a `parent` element into `out`; the pieces
/// of a chunked OCTET STRING are joined there instead.
fn child<'a>(parent: u8, input: &'a [u8], depth: usize, out: &mut Vec<u8>) -> Result<&'a [u8]> {
    let (tag, content, rest) = element(input, depth + 1)?;
    if parent == OCTET_STRING | CONSTRUCTED {
        if tag != OCTET_STRING {
            return Err(malformed(format!(
                "a constructed OCTET STRING holding tag 0x{tag:02x}"
            )));
        }
        out.extend_from_slice(&content);
    } else {
        write_tlv(out, tag, &content);
    }
    Ok(rest)
}

fn tag_after_joining(tag: u8) -> u8 {
    if tag == OCTET_STRING | CONSTRUCTED {
        OCTET_STRING
    } else {
        tag
    }
}

/// A BER length (`None`: indefinite) and the bytes after it.
fn length(input: &[u8]) -> Result<(Option<usize>, &[u8])> {
    let (&first, rest) = input.split_first().ok_or_else(|| truncated("a length"))?;
    if first == 0x80 {
        return Ok((None, rest));
    }
    if first < 0x80 {
        return Ok((Some(usize::from(first)), rest));
    }
    let n = usize::from(first & 0x7f);
    if n > 4 {
        return Err(malformed("a length longer than 4 bytes"));
    }
    if rest.len() < n {
        return Err(truncated("a length"));
    }
    let (digits, rest) = rest.split_at(n);
    let length = digits
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((Some(length), rest))
}

/// One DER element: tag, definite length in its shortest form, content.
fn write_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
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
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::MalformedPkcs12(detail.into())
}

fn truncated(what: &str) -> Error {
    Error::TruncatedDer(format!("the data ends before {what}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn indefinite_lengths_and_chunked_strings_become_der() {
        // SEQUENCE { INTEGER 3, [0] { OCTET STRING "ab" } } in DER, and in BER
        // with indefinite lengths and a constructed OCTET STRING "a" + "b".
        let der = [
            0x30, 0x09, 0x02, 0x01, 0x03, 0xa0, 0x04, 0x04, 0x02, b'a', b'b',
        ];
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x03, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x01,
            b'b', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        // A definite-length chunked string with a nested chunk, and a
        // length in a longer form than needed.
        let chunked = [
            0x30, 0x81, 0x11, 0x02, 0x01, 0x03, 0xa0, 0x0c, 0x24, 0x0a, 0x24, 0x80, 0x04, 0x01,
            b'a', 0x00, 0x00, 0x04, 0x01, b'b',
        ];
        assert_eq!(to_der(&der, "t").unwrap(), der);
        assert_eq!(to_der(&ber, "t").unwrap(), der);
        assert_eq!(to_der(&chunked, "t").unwrap(), der);
    }

    #[test]
    fn long_contents_get_long_form_lengths() {
        let mut ber = vec![0x30, 0x80, 0x04, 0x81, 0xc8];
        ber.extend_from_slice(&[7; 200]);
        ber.extend_from_slice(&[0, 0]);
        let der = to_der(&ber, "t").unwrap();
        assert_eq!(der[..5], [0x30, 0x81, 0xcb, 0x04, 0x81]);
        assert_eq!(der.len(), 3 + 3 + 200);
    }

    #[test]
    fn refuses_what_would_hurt() {
        let mut deep = Vec::new();
        for _ in 0..200 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        let cases: [(&[u8], &str); 8] = [
            (&deep, "malformed_pkcs12"),
            (&[0x30, 0x05, 0x02], "truncated_der"),
            (&[0x30, 0x85, 1, 0, 0, 0, 0], "malformed_pkcs12"),
            (&[0x04, 0x80, 0x00, 0x00], "malformed_pkcs12"),
            (&[0x30, 0x80, 0x02, 0x01, 0x03], "truncated_der"),
            (&[0x1f, 0x81, 0x01, 0x00], "malformed_pkcs12"),
            (&[0x24, 0x03, 0x02, 0x01, 0x00], "malformed_pkcs12"),
            (&[0x30, 0x00, 0x00], "malformed_pkcs12"),
        ];
        for (input, code) in cases {
            let err = to_der(input, "test").unwrap_err();
            assert_eq!(err.code(), code, "{input:02x?}: {err}");
        }
    }
}
