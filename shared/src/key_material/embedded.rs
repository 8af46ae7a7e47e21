//! A private key's DER anywhere inside decoded bytes: junk before or after
//! a key (or a misaligned decoding that yields some) must not hide it.
//!
//! Each offset where a SEQUENCE begins is checked against the first bytes
//! of each key format, and only those that match are parsed; a match is
//! the whole structure parsed, not a prefix, except for PKCS#12 whose
//! first twenty bytes are distinctive enough. Certificates hold none of
//! these structures, so their DER is not flagged.

use crate::key;

/// The tags looked for, by their DER identifier octets.
const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;

/// The smallest key we look for: an Ed25519 PKCS#8 key is 48 bytes.
pub(super) const MIN_KEY_DER: usize = 48;

/// The largest: an RSA-16384 PKCS#8 key is about 9.4 KB.
const MAX_KEY_DER: usize = 16 * 1024;

/// `1.2.840.113549.1.7.1` (data) and `.2` (signedData) without their last byte.
const PKCS7_CONTENT_TYPE: [u8; 10] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
/// The arcs of every password-based encryption scheme: PKCS#5 (`1.2.840.113549.1.5`,
/// PBES1 and PBES2) and PKCS#12 (`1.2.840.113549.1.12.1`).
const PKCS5_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
const PKCS12_PBE_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];

/// Whether a private key, encrypted private key or PKCS#12 file starts at any offset of `bytes`.
pub(super) fn holds_key(bytes: &[u8]) -> bool {
    if bytes.len() < MIN_KEY_DER {
        return false;
    }
    (0..=bytes.len() - MIN_KEY_DER).any(|at| bytes[at] == SEQUENCE && key_at(&bytes[at..]))
}

/// Whether `bytes` start with a key (what follows it does not matter).
fn key_at(bytes: &[u8]) -> bool {
    let Some((header, length)) = header(bytes) else {
        return false;
    };
    let content = &bytes[header..];
    if is_pfx_start(content) {
        return true;
    }
    // Keys are DER: a definite length, whole within the bytes.
    let Some(length) = length.filter(|&n| n <= MAX_KEY_DER && n <= content.len()) else {
        return false;
    };
    let element = &bytes[..header + length];
    match content {
        // PKCS#8 v1/v2, PKCS#1, SEC1: a SEQUENCE that starts with INTEGER 0 or 1.
        [0x02, 0x01, 0x00 | 0x01, ..] => key::looks_like_private_key(element),
        [0x30, ..] => is_encrypted_pkcs8(element, &content[..length]),
        _ => false,
    }
}

/// PFX: `SEQUENCE { INTEGER 3, ContentInfo { data | signedData, ... } }`.
fn is_pfx_start(content: &[u8]) -> bool {
    let Some(auth_safe) = content.strip_prefix(&[0x02, 0x01, 0x03, SEQUENCE]) else {
        return false;
    };
    // Past the ContentInfo's length (BER: maybe indefinite), its type.
    let Some(&first) = auth_safe.first() else {
        return false;
    };
    let content_type = auth_safe
        .get(length_size(first)..)
        .and_then(|rest| rest.strip_prefix(&PKCS7_CONTENT_TYPE));
    matches!(content_type, Some([0x01 | 0x02, ..]))
}

/// EncryptedPrivateKeyInfo under a password-based scheme (an algorithm
/// from the PKCS#5 or PKCS#12 arcs: a DigestInfo has the same shape).
fn is_encrypted_pkcs8(element: &[u8], content: &[u8]) -> bool {
    let Some((header, Some(_))) = header(content) else {
        return false;
    };
    let Some([OID, oid_len, oid @ ..]) = content.get(header..) else {
        return false;
    };
    let oid = &oid[..usize::from(*oid_len).min(oid.len())];
    (oid.starts_with(PKCS5_ARC) || oid.starts_with(PKCS12_PBE_ARC))
        && key::looks_like_encrypted_pkcs8(element)
}

/// The header of the element `bytes` start with: its length and the
/// content's (`None` when indefinite). Lengths over 4 bytes are refused.
fn header(bytes: &[u8]) -> Option<(usize, Option<usize>)> {
    let first = *bytes.get(1)?;
    let size = length_size(first);
    match first {
        0x80 => Some((2, None)),
        0..=0x7f => Some((2, Some(usize::from(first)))),
        _ if size > 5 => None,
        _ => {
            let digits = bytes.get(2..1 + size)?;
            let length = digits
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            Some((1 + size, Some(length)))
        }
    }
}

/// How many bytes a length field takes, from its first byte.
fn length_size(first: u8) -> usize {
    if first > 0x80 {
        1 + usize::from(first & 0x7f)
    } else {
        1
    }
}
