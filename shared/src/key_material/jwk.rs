//! JSON Web Keys (RFC 7517) with their private part: an object with a
//! `kty` member and a `d` member (the EC or OKP private scalar, the RSA
//! private exponent). Found by their member names, in JSON as written,
//! JSON inside JSON (`\"d\"`), JavaScript or Python literals (`'d'`, `d:`),
//! without parsing: the text around them may be anything.

/// A `d` shorter than this (base64url characters) is not a key: the
/// smallest, a P-256 scalar, is 43.
const MIN_PRIVATE_CHARS: usize = 22;

/// Whether `text` has a `kty` member and a `d` member whose value is long
/// enough to be a private key.
pub(super) fn holds_private_jwk(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut kty = false;
    let mut d = false;
    for (colon, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b':') {
        match name_before(bytes, colon) {
            b"kty" => kty = true,
            b"d" => d |= value_chars_after(bytes, colon + 1) >= MIN_PRIVATE_CHARS,
            _ => {}
        }
        if kty && d {
            return true;
        }
    }
    false
}

/// The member name that ends just before `colon` (quoted or not, the
/// quote maybe escaped), if it is a short word of its own.
fn name_before(bytes: &[u8], colon: usize) -> &[u8] {
    let mut end = colon;
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    if end > 0 && matches!(bytes[end - 1], b'"' | b'\'') {
        end -= 1;
        while end > 0 && bytes[end - 1] == b'\\' {
            end -= 1;
        }
    }
    let mut start = end;
    while start > 0 && end - start < 4 && bytes[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    let part_of_longer_word =
        start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
    if part_of_longer_word {
        return &[];
    }
    &bytes[start..end]
}

/// How many base64url characters the value after a colon has (after
/// whitespace, backslashes and an opening quote).
fn value_chars_after(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let value = rest
        .iter()
        .position(|b| !(b.is_ascii_whitespace() || matches!(b, b'\\' | b'"' | b'\'')))
        .map_or(&[][..], |start| &rest[start..]);
    value
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        .take(MIN_PRIVATE_CHARS)
        .count()
}
