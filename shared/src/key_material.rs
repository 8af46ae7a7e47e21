//! Spotting private key material in text the API receives, so it can be
//! refused before anything else happens: PEM key labels, and base64 or PEM
//! bodies that decode to PKCS#8, SEC1, PKCS#1, encrypted PKCS#8 or PKCS#12.

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};

use crate::{key::PrivateKey, pem, pkcs12};

/// Shortest base64 run worth decoding: the smallest private key (P-256 PKCS#8, 138 bytes) is 184 characters.
const MIN_BASE64_CHARS: usize = 120;

/// Why a text was judged to carry key material (never the material itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMaterial {
    /// A `-----BEGIN ... PRIVATE KEY-----` label (any kind).
    PemPrivateKeyLabel,
    /// A PEM block whose contents are a private key or PKCS#12, whatever its label says.
    PemBodyIsKey,
    /// Base64 that decodes to a private key or PKCS#12.
    Base64Key,
}

impl KeyMaterial {
    /// Plain words for an error message.
    pub fn describe(self) -> &'static str {
        match self {
            KeyMaterial::PemPrivateKeyLabel => "a PEM private key",
            KeyMaterial::PemBodyIsKey => "a PEM block holding a private key or PKCS#12 file",
            KeyMaterial::Base64Key => "base64 of a private key or PKCS#12 file",
        }
    }
}

/// Whether `text` carries private key material.
pub fn find_key_material(text: &str) -> Option<KeyMaterial> {
    if text.contains("PRIVATE KEY") {
        return Some(KeyMaterial::PemPrivateKeyLabel);
    }
    if pem::looks_like_pem(text.as_bytes())
        && let Ok(blocks) = pem::parse_blocks(text)
        && blocks.iter().any(|b| is_key_der(&b.der))
    {
        return Some(KeyMaterial::PemBodyIsKey);
    }
    if base64_runs(text).any(|run| decodes_to_key(&run)) {
        return Some(KeyMaterial::Base64Key);
    }
    None
}

fn is_key_der(der: &[u8]) -> bool {
    pkcs12::looks_like_pkcs12(der)
        || PrivateKey::from_der_any(der).is_ok()
        || crate::key::looks_like_encrypted_pkcs8(der)
}

fn decodes_to_key(run: &str) -> bool {
    [
        Base64::decode_vec(run).ok(),
        Base64Unpadded::decode_vec(run).ok(),
        Base64Url::decode_vec(run).ok(),
        Base64UrlUnpadded::decode_vec(run).ok(),
    ]
    .into_iter()
    .flatten()
    .any(|der| is_key_der(&der))
}

/// Maximal runs of base64 characters (whitespace inside a run is dropped),
/// long enough to hold a key. Give it decoded text, not JSON with escapes.
fn base64_runs(text: &str) -> impl Iterator<Item = String> + '_ {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_b64(c) {
            current.push(c);
        } else if !c.is_whitespace() && !current.is_empty() {
            // Whitespace (PEM-style line breaks) continues a run; anything else ends it.
            runs.push(std::mem::take(&mut current));
        }
    }
    runs.push(current);
    runs.into_iter().filter(|r| r.len() >= MIN_BASE64_CHARS)
}

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Encoding};

    use super::*;
    use crate::{CertificateRequest, KeyType, OffsetDateTime, generate, pem};

    fn creds() -> crate::Credentials {
        let now = OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap();
        generate(KeyType::EcP256, &CertificateRequest::new("k"), now).unwrap()
    }

    #[test]
    fn finds_every_disguise() {
        let c = creds();
        let der = c.private_key.pkcs8_der();
        let b64 = Base64::encode_string(der);
        let cases = [
            (
                c.private_key.to_pkcs8_pem().to_string(),
                KeyMaterial::PemPrivateKeyLabel,
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----".to_owned(),
                KeyMaterial::PemPrivateKeyLabel,
            ),
            (pem::encode("CERTIFICATE", der), KeyMaterial::PemBodyIsKey),
            (format!("{{\"key\": \"{b64}\"}}"), KeyMaterial::Base64Key),
            (
                b64.replace('+', "-")
                    .replace('/', "_")
                    .trim_end_matches('=')
                    .to_owned(),
                KeyMaterial::Base64Key,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(find_key_material(&text), Some(expected), "{text}");
        }
        let p12 = crate::pkcs12::export(&c.certificate, &c.private_key, "", "k").unwrap();
        assert_eq!(
            find_key_material(&Base64::encode_string(&p12)),
            Some(KeyMaterial::Base64Key)
        );
    }

    #[test]
    fn certificates_are_not_key_material() {
        let c = creds();
        let pem = c.certificate.to_pem();
        assert_eq!(find_key_material(&pem), None);
        assert_eq!(
            find_key_material(&Base64::encode_string(c.certificate.der())),
            None
        );
        assert_eq!(find_key_material("hello world"), None);
    }
}
