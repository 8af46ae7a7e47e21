//! Spotting private key material in text the API receives, so it can be
//! refused before anything else happens: PEM key labels, JSON Web Keys, and
//! PEM, hex or base64 (however split, escaped, glued or nested) that holds
//! PKCS#8, SEC1, PKCS#1, encrypted PKCS#8 or PKCS#12.
//!
//! Defence in depth: the API's certificate field is also strict PEM
//! ([`crate::Certificate::all_from_strict_pem`]). Decoding is lenient on
//! purpose and matching is structural, so junk around a key does not hide
//! it while certificates, whose DER holds no key structure, are not flagged.

mod embedded;
mod encodings;
mod jwk;
#[cfg(test)]
mod tests;

use crate::pem;

/// Text found in decoded bytes is scanned again, to this depth: base64 of
/// base64 of base64 of a key is caught. Each level can cost at most three
/// times the one above (four decodings of three quarters the size), so the
/// depth also bounds the work.
const MAX_NESTING: usize = 2;

/// Why a text was judged to carry key material (never the material itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// A `-----BEGIN ... PRIVATE KEY-----` label (any kind).
    PemPrivateKeyLabel,
    /// A PEM block whose contents are a private key or PKCS#12, whatever its label says.
    PemBodyIsKey,
    /// Base64 that decodes to a private key or PKCS#12.
    Base64Key,
    /// Hex digits that decode to a private key or PKCS#12.
    HexKey,
    /// A JSON Web Key with its private part (`"kty"` and `"d"`).
    JwkPrivateKey,
}

impl KeyMaterial {
    /// Plain words for an error message.
    pub fn describe(self) -> &'static str {
        match self {
            KeyMaterial::PemPrivateKeyLabel => "a PEM private key",
            KeyMaterial::PemBodyIsKey => "a PEM block holding a private key or PKCS#12 file",
            KeyMaterial::Base64Key => "base64 of a private key or PKCS#12 file",
            KeyMaterial::HexKey => "hex of a private key or PKCS#12 file",
            KeyMaterial::JwkPrivateKey => "a JSON Web Key with its private part",
        }
    }
}

/// Whether `text` carries private key material.
///
/// Linear in the text's length (a few passes over it, each decoding at
/// most four ways); the API runs it on bodies of up to 1 MiB (about 20 ms
/// natively for a 1 MiB certificate bundle: `cargo bench --bench credentials`).
pub fn find_key_material(text: &str) -> Option<KeyMaterial> {
    scan(text, 0)
}

fn scan(text: &str, depth: usize) -> Option<KeyMaterial> {
    if text.contains("PRIVATE KEY") {
        return Some(KeyMaterial::PemPrivateKeyLabel);
    }
    if jwk::holds_private_jwk(text) {
        return Some(KeyMaterial::JwkPrivateKey);
    }
    // Lenient: one broken block must not hide a relabelled key next to it.
    if pem::looks_like_pem(text.as_bytes())
        && pem::parse_blocks_leniently(text)
            .iter()
            .any(|block| carries_key(&block.der, depth))
    {
        return Some(KeyMaterial::PemBodyIsKey);
    }
    if encodings::hex_runs(text)
        .iter()
        .any(|run| encodings::hex_decodings(run).any(|bytes| carries_key(&bytes, depth)))
    {
        return Some(KeyMaterial::HexKey);
    }
    if encodings::base64_decodings(&encodings::base64_run(text))
        .any(|bytes| carries_key(&bytes, depth))
    {
        return Some(KeyMaterial::Base64Key);
    }
    None
}

/// Whether decoded bytes hold a key, directly or as text that does
/// (base64 of base64, base64 of a PEM key or of a JWK, ...).
fn carries_key(bytes: &[u8], depth: usize) -> bool {
    embedded::holds_key(bytes)
        || (depth < MAX_NESTING
            && encodings::text_stretches(bytes).any(|text| scan(text, depth + 1).is_some()))
}
