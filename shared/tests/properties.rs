//! Property tests: no input, however mangled, makes a parser panic.
//! Failing cases are kept in `properties.proptest-regressions` beside this file.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use marshal_shared::{Certificate, PrivateKey, import, pem, pkcs12};
use proptest::prelude::*;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("examples/p256.cert.der"),
    include_bytes!("examples/p256.cert.pem"),
    include_bytes!("examples/p256.key.der"),
    include_bytes!("examples/p256.sec1.pem"),
    include_bytes!("examples/p256.key.enc.pem"),
    include_bytes!("examples/p256.legacy.p12"),
    include_bytes!("examples/p256.modern.p12"),
    // No MAC and no encryption: mangled bytes reach every bag parser.
    include_bytes!("examples/p256.plain.p12"),
    include_bytes!("examples/p256.ber.pw.p12"),
    include_bytes!("examples/rsa2048.pkcs1.pem"),
    include_bytes!("examples/bundle.crlf.pem"),
];

/// Every entry point that takes untrusted bytes.
fn parse_everything(bytes: &[u8]) {
    let _ = import(bytes, "");
    let _ = import(bytes, "marshal-test");
    let _ = Certificate::from_der(bytes);
    let _ = PrivateKey::from_der_any(bytes);
    let _ = PrivateKey::from_encrypted_pkcs8_der(bytes, "x");
    let _ = pkcs12::import(bytes, "");
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = pem::parse_blocks(text);
        let _ = Certificate::all_from_pem(text);
        let _ = PrivateKey::from_pem(text, "");
    }
    if let Ok(imported) = import(bytes, "") {
        for cert in &imported.certificates {
            let _ = cert.info();
        }
        let _ = imported.key_matches();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        parse_everything(&bytes);
    }

    #[test]
    fn arbitrary_pem_text(body in "[A-Za-z0-9+/=\r\n -]{0,600}", label in "[A-Z ]{0,24}") {
        let text = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        parse_everything(text.as_bytes());
    }

    /// Truncated and bit-flipped real files: the inputs most likely to reach deep code.
    #[test]
    fn mangled_fixtures(
        which in 0..FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = FIXTURES[which].to_vec();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        parse_everything(&bytes);
        let end = cut.index(bytes.len() + 1);
        parse_everything(&bytes[..end]);
    }
}
