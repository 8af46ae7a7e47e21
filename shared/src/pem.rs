//! PEM text: finding `-----BEGIN X-----` blocks in any surrounding text, and writing them.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// One decoded PEM block.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `BEGIN ` and the closing dashes, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded contents; wiped on drop because it may be a private key.
    pub der: Zeroizing<Vec<u8>>,
    /// Whether RFC 1421 headers (`Proc-Type`, `DEK-Info`) preceded the base64.
    pub has_headers: bool,
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the contents: a block may be a private key.
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("len", &self.der.len())
            .finish()
    }
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// True when the bytes contain a PEM BEGIN line (text around it is allowed).
pub fn looks_like_pem(input: &[u8]) -> bool {
    input.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

/// Finds and decodes every PEM block in `text`, in order.
///
/// Text outside blocks is ignored (as `openssl` prints `Bag Attributes`
/// before each block); LF and CRLF line ends both work. A BEGIN without its
/// END, an END with another label, or invalid base64 is an error.
pub fn parse_blocks(text: &str) -> Result<Vec<PemBlock>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(DASHES))
        else {
            continue;
        };
        let mut body = Zeroizing::new(String::new());
        let mut has_headers = false;
        let mut closed = false;
        for inner in lines.by_ref() {
            if let Some(end) = inner.strip_prefix(END) {
                let end_label = end.strip_suffix(DASHES).unwrap_or(end);
                if end_label != label {
                    return Err(Error::MalformedPem(format!(
                        "block \"{label}\" ends with \"END {end_label}\""
                    )));
                }
                closed = true;
                break;
            }
            if inner.contains(':') {
                has_headers = true;
                continue;
            }
            body.push_str(inner);
        }
        if !closed {
            return Err(Error::MalformedPem(format!(
                "block \"{label}\" has no END line"
            )));
        }
        let der = Base64::decode_vec(&body)
            .map_err(|_| Error::MalformedPem(format!("block \"{label}\" is not valid base64")))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der: Zeroizing::new(der),
            has_headers,
        });
    }
    Ok(blocks)
}

/// Encodes DER as a PEM block with 64-character lines and LF line ends.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(Base64::encode_string(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str(BEGIN);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every 64-byte chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_surrounding_text() {
        let pem = encode("CERTIFICATE", &[1, 2, 3, 4, 5]);
        let text = format!(
            "Bag Attributes\r\n    localKeyID: 01\r\n{}\r\ntrailer",
            pem.replace('\n', "\r\n")
        );
        let blocks = parse_blocks(&text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(&blocks[0].der[..], &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn errors_are_specific() {
        let missing_end = "-----BEGIN CERTIFICATE-----\nAQID\n";
        assert!(
            matches!(parse_blocks(missing_end), Err(Error::MalformedPem(m)) if m.contains("no END"))
        );
        let wrong_end = "-----BEGIN CERTIFICATE-----\nAQID\n-----END PRIVATE KEY-----\n";
        assert!(
            matches!(parse_blocks(wrong_end), Err(Error::MalformedPem(m)) if m.contains("ends with"))
        );
        let bad_b64 = "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n";
        assert!(
            matches!(parse_blocks(bad_b64), Err(Error::MalformedPem(m)) if m.contains("base64"))
        );
    }
}
