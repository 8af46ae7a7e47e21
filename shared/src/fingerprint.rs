//! Certificate fingerprints; the SHA-256 one is exactly the AWS IoT certificate ID.

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use serde::Serialize;

/// The fingerprints of one certificate's DER encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprints {
    /// SHA-256 of the DER as 64 lowercase hex digits: the AWS IoT certificate ID.
    pub sha256: String,
    /// SHA-1 of the DER as 40 lowercase hex digits (what older tools show).
    pub sha1: String,
    /// SHA-256 in the colon-separated uppercase form `openssl` and browsers show.
    pub sha256_colon: String,
}

impl Fingerprints {
    /// Computes every fingerprint of `der`.
    pub fn of(der: &[u8]) -> Fingerprints {
        let sha256 = hex::encode(sha256(der));
        Fingerprints {
            sha256_colon: colon_form(&sha256),
            sha1: hex::encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, der)),
            sha256,
        }
    }
}

/// The AWS IoT certificate ID of a certificate: SHA-256 of its DER, lowercase hex.
pub fn certificate_id(der: &[u8]) -> String {
    hex::encode(sha256(der))
}

/// SHA-256 of `data` (ring's, which signing links anyway: one SHA-256 in the page).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// `abcd...` → `AB:CD:...`.
pub fn colon_form(hex: &str) -> String {
    let mut out = String::with_capacity(hex.len() * 3 / 2);
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        for &c in pair {
            out.push(c.to_ascii_uppercase() as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // SHA-256 and SHA-1 of the empty string.
        let f = Fingerprints::of(b"");
        assert_eq!(
            f.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(f.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert!(f.sha256_colon.starts_with("E3:B0:C4:42:"));
        assert_eq!(f.sha256_colon.len(), 64 + 31);
        assert_eq!(certificate_id(b""), f.sha256);
    }
}
