//! The disguises of security review 2026-12 (L1), each tried on keys this
//! test makes with the library (never a committed key), and what must
//! pass: certificates in the same disguises, bundles, ordinary JSON.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use const_oid::db::rfc5912::SECP_256_R_1;
use der::{Decode, Encode};

use super::{KeyMaterial, find_key_material};
use crate::{
    AMAZON_ROOT_CA_1_PEM, CertificateRequest, Credentials, KeyType, OffsetDateTime, PrivateKey,
    generate, generate_rsa_pkcs8, pbes2, pem, pkcs12, self_signed,
};

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap()
}

fn p256() -> Credentials {
    generate(KeyType::EcP256, &CertificateRequest::new("k"), now()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// `text` with `separator` after every `n` characters.
fn every(text: &str, n: usize, separator: &str) -> String {
    let pieces: Vec<&str> = text
        .as_bytes()
        .chunks(n)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    pieces.join(separator)
}

/// The key inside a PKCS#8 key (ECPrivateKey or RSAPrivateKey DER).
fn inner_key(pkcs8: &[u8]) -> Vec<u8> {
    pkcs8::PrivateKeyInfoRef::from_der(pkcs8)
        .unwrap()
        .private_key
        .as_bytes()
        .to_vec()
}

/// SEC1 (`EC PRIVATE KEY`) as `openssl ec` writes it: the curve in `[0]`
/// (ring writes no `[0]`: the curve is outside).
fn sec1(pkcs8: &[u8]) -> Vec<u8> {
    let inner = inner_key(pkcs8);
    let ec = sec1::EcPrivateKey::from_der(&inner).unwrap();
    let der = sec1::EcPrivateKey {
        parameters: Some(sec1::EcParameters::NamedCurve(SECP_256_R_1)),
        ..ec
    }
    .to_der()
    .unwrap();
    let back = PrivateKey::from_sec1_der(&der).unwrap();
    assert_eq!(back.pkcs8_der(), pkcs8, "the SEC1 form is the same key");
    der
}

/// PKCS#1 (`RSA PRIVATE KEY`): the OCTET STRING inside a PKCS#8 RSA key.
fn pkcs1(pkcs8: &[u8]) -> Vec<u8> {
    let der = inner_key(pkcs8);
    PrivateKey::from_pkcs1_der(&der).unwrap();
    der
}

/// A SEQUENCE around `content`.
fn sequence(content: &[u8]) -> Vec<u8> {
    let length = der::Length::try_from(content.len()).unwrap();
    let mut der = der::Header::new(der::Tag::Sequence, length)
        .to_der()
        .unwrap();
    der.extend_from_slice(content);
    der
}

/// Every kind of key DER the detector must find, made here.
fn keys() -> Vec<(&'static str, Vec<u8>)> {
    let ec = p256();
    let pkcs8 = ec.private_key.pkcs8_der().to_vec();
    let rsa = generate_rsa_pkcs8(2048).unwrap().to_vec();
    let (algorithm, ciphertext) = pbes2::encrypt(b"pw", 1_000, &pkcs8).unwrap();
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef {
        encryption_algorithm: pkcs8::pkcs5::EncryptionScheme::from_der(&algorithm).unwrap(),
        encrypted_data: der::asn1::OctetStringRef::new(&ciphertext).unwrap(),
    }
    .to_der()
    .unwrap();
    assert!(PrivateKey::from_encrypted_pkcs8_der(&encrypted, "pw").is_ok());
    let p12 = pkcs12::export(&ec.certificate, &ec.private_key, "", "k").unwrap();
    let p384 = generate(KeyType::EcP384, &CertificateRequest::new("k"), now()).unwrap();
    vec![
        ("P-256 PKCS#8", pkcs8.clone()),
        ("P-256 SEC1", sec1(&pkcs8)),
        ("P-384 PKCS#8", p384.private_key.pkcs8_der().to_vec()),
        ("RSA-2048 PKCS#8", rsa.clone()),
        ("RSA-2048 PKCS#1", pkcs1(&rsa)),
        ("P-256 encrypted PKCS#8", encrypted),
        ("PKCS#12", p12),
    ]
}

type Form = (&'static str, fn(&[u8]) -> String, KeyMaterial);

/// Each row of the review's table (and a few more), as a way to write DER into text.
const FORMS: &[Form] = &[
    ("control: plain base64", |k| b64(k), KeyMaterial::Base64Key),
    (
        "control: PEM relabelled CERTIFICATE",
        |k| pem::encode("CERTIFICATE", k),
        KeyMaterial::PemBodyIsKey,
    ),
    ("hex", |k| hex::encode(k), KeyMaterial::HexKey),
    (
        "HEX with ':'",
        |k| every(&hex::encode_upper(k), 2, ":"),
        KeyMaterial::HexKey,
    ),
    (
        "hex with spaces, 16 bytes a line",
        |k| {
            let lines: Vec<String> = k
                .chunks(16)
                .map(|l| every(&hex::encode(l), 2, " "))
                .collect();
            lines.join("\n")
        },
        KeyMaterial::HexKey,
    ),
    (
        "hex as a C array",
        |k| {
            let bytes: Vec<String> = k.iter().map(|b| format!("0x{b:02x}")).collect();
            format!("{{{}}}", bytes.join(", "))
        },
        KeyMaterial::HexKey,
    ),
    (
        "hex glued to a word that ends in hex digits",
        |k| format!("bad{}", hex::encode(k)),
        KeyMaterial::HexKey,
    ),
    (
        "base64 split by '.' every 60 characters",
        |k| every(&b64(k), 60, "."),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 split by \", \" every 7 characters",
        |k| every(&b64(k), 7, "\", \""),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 with written-out \\n",
        |k| every(&b64(k), 64, "\\n"),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 with double-escaped \\\\n",
        |k| every(&b64(k), 64, "\\\\n"),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 of the key + 1 trailing byte",
        |k| b64(&[k, &[0]].concat()),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 of 1 junk byte + the key",
        |k| b64(&[&[0x30][..], k].concat()),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 of 2 junk bytes + the key + 5 junk bytes",
        |k| b64(&[&[1, 2][..], k, &[3; 5]].concat()),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 glued to a word",
        |k| format!("key{}", b64(k)),
        KeyMaterial::Base64Key,
    ),
    (
        "base64url without padding",
        |k| Base64UrlUnpadded::encode_string(k),
        KeyMaterial::Base64Key,
    ),
    (
        "relabelled PEM, then a dangling BEGIN line",
        |k| format!("{}-----BEGIN X-----\n", pem::encode("CERTIFICATE", k)),
        KeyMaterial::PemBodyIsKey,
    ),
    (
        "a dangling BEGIN line, then relabelled PEM",
        |k| format!("-----BEGIN X-----\n{}", pem::encode("CERTIFICATE", k)),
        KeyMaterial::PemBodyIsKey,
    ),
    (
        "relabelled PEM with CR-only line ends",
        |k| pem::encode("CERTIFICATE", k).replace('\n', "\r"),
        KeyMaterial::PemBodyIsKey,
    ),
    (
        "base64 of base64",
        |k| b64(b64(k).as_bytes()),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 of base64 of base64",
        |k| b64(b64(b64(k).as_bytes()).as_bytes()),
        KeyMaterial::Base64Key,
    ),
    (
        "base64 of relabelled PEM",
        |k| b64(pem::encode("CERTIFICATE", k).as_bytes()),
        KeyMaterial::Base64Key,
    ),
    (
        "hex of base64",
        |k| hex::encode(b64(k)),
        KeyMaterial::HexKey,
    ),
    (
        "a certificate PEM, then hex of the key",
        |k| format!("{AMAZON_ROOT_CA_1_PEM}\n{}", hex::encode(k)),
        KeyMaterial::HexKey,
    ),
    (
        "base64 in JSON next to a certificate",
        |k| serde_json::json!({"certificatePem": AMAZON_ROOT_CA_1_PEM, "note": b64(k)}).to_string(),
        KeyMaterial::Base64Key,
    ),
];

/// The start of a text, for failure messages (never a whole key).
fn head(text: &str) -> String {
    text.chars().take(120).collect()
}

#[test]
fn finds_every_disguise_of_every_key() {
    let mut missed = Vec::new();
    for (key, der) in keys() {
        for (form, write, expected) in FORMS {
            let text = write(&der);
            let found = find_key_material(&text);
            if found != Some(*expected) {
                missed.push(format!(
                    "{key} as {form}: found {found:?}, expected {expected:?}; text starts {:?}",
                    head(&text)
                ));
            }
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn pem_key_labels_are_found_whatever_the_body() {
    let c = p256();
    for text in [
        c.private_key.to_pkcs8_pem().to_string(),
        // A bare SEC1 marker, assembled so no key marker sits in the source.
        format!(
            "{d}BEGIN EC {}{d}",
            ["PRIVATE", "KEY"].join(" "),
            d = "-".repeat(5)
        ),
        b64(c.private_key.to_pkcs8_pem().as_bytes()),
    ] {
        assert!(find_key_material(&text).is_some(), "{}", head(&text));
    }
}

/// A P-256 key as a JWK (RFC 7518, 6.2): the raw scalar, base64url, as `d`.
fn jwk(c: &Credentials) -> String {
    let inner = inner_key(c.private_key.pkcs8_der());
    let scalar = sec1::EcPrivateKey::from_der(&inner).unwrap().private_key;
    assert_eq!(scalar.len(), 32);
    let point = c.private_key.public_key_bits();
    let [x, y, d] = [&point[1..33], &point[33..], scalar].map(Base64UrlUnpadded::encode_string);
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","d":"{d}"}}"#)
}

#[test]
fn finds_json_web_keys() {
    let jwk = jwk(&p256());
    let pretty: serde_json::Value = serde_json::from_str(&jwk).unwrap();
    let cases = [
        ("JWK", jwk.clone(), KeyMaterial::JwkPrivateKey),
        (
            "JWK, pretty-printed",
            serde_json::to_string_pretty(&pretty).unwrap(),
            KeyMaterial::JwkPrivateKey,
        ),
        (
            "JWK as a JSON string (escaped quotes)",
            serde_json::to_string(&jwk).unwrap(),
            KeyMaterial::JwkPrivateKey,
        ),
        (
            "JWK as a Python dict",
            jwk.replace('"', "'").replace(':', ": "),
            KeyMaterial::JwkPrivateKey,
        ),
        (
            "JWK with d first",
            jwk.replace(r#"{"kty":"EC","#, "{")
                .replace('}', r#","kty":"EC"}"#),
            KeyMaterial::JwkPrivateKey,
        ),
        (
            "JWK in a key set",
            format!(r#"{{"keys":[{jwk}]}}"#),
            KeyMaterial::JwkPrivateKey,
        ),
        (
            "base64 of a JWK",
            b64(jwk.as_bytes()),
            KeyMaterial::Base64Key,
        ),
    ];
    for (what, text, expected) in cases {
        assert_eq!(
            find_key_material(&text),
            Some(expected),
            "{what}: {}",
            head(&text)
        );
    }
}

/// The certificates openssl made for the fixtures.
const FIXTURE_CERTIFICATES: &[(&str, &str)] = &[
    ("ca", include_str!("../../tests/examples/ca.cert.pem")),
    (
        "ed25519",
        include_str!("../../tests/examples/ed25519.cert.pem"),
    ),
    (
        "expired",
        include_str!("../../tests/examples/expired.cert.pem"),
    ),
    (
        "md5-rsa2048",
        include_str!("../../tests/examples/md5-rsa2048.cert.pem"),
    ),
    (
        "not-yet-valid",
        include_str!("../../tests/examples/not-yet-valid.cert.pem"),
    ),
    ("p256", include_str!("../../tests/examples/p256.cert.pem")),
    ("p384", include_str!("../../tests/examples/p384.cert.pem")),
    ("p521", include_str!("../../tests/examples/p521.cert.pem")),
    (
        "rsa1024",
        include_str!("../../tests/examples/rsa1024.cert.pem"),
    ),
    (
        "rsa2048",
        include_str!("../../tests/examples/rsa2048.cert.pem"),
    ),
    (
        "secp256k1",
        include_str!("../../tests/examples/secp256k1.cert.pem"),
    ),
    (
        "sha1-rsa2048",
        include_str!("../../tests/examples/sha1-rsa2048.cert.pem"),
    ),
    (
        "bundle with Bag Attributes, CRLF",
        include_str!("../../tests/examples/bundle.crlf.pem"),
    ),
    ("Amazon Root CA 1", AMAZON_ROOT_CA_1_PEM),
];

/// Fixture certificates and fresh ones (random keys and serials), by name, as DER.
fn certificates() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = FIXTURE_CERTIFICATES
        .iter()
        .flat_map(|(name, text)| {
            pem::parse_blocks(text)
                .unwrap()
                .into_iter()
                .map(move |b| ((*name).to_owned(), b.der.to_vec()))
        })
        .collect();
    for i in 0..12 {
        let key_type = if i % 3 == 0 {
            KeyType::EcP384
        } else {
            KeyType::EcP256
        };
        let c = generate(
            key_type,
            &CertificateRequest::new(format!("thing-{i}")),
            now(),
        )
        .unwrap();
        all.push((
            format!("generated {key_type} #{i}"),
            c.certificate.der().to_vec(),
        ));
    }
    let rsa = PrivateKey::from_pkcs8_der(&generate_rsa_pkcs8(2048).unwrap()).unwrap();
    let c = self_signed(&rsa, &CertificateRequest::new("rsa"), now()).unwrap();
    all.push(("generated rsa-2048".to_owned(), c.der().to_vec()));
    all
}

#[test]
fn certificates_in_every_disguise_are_not_key_material() {
    let mut flagged = Vec::new();
    for (name, der) in certificates() {
        for (form, write, _) in FORMS {
            let text = write(&der);
            if let Some(found) = find_key_material(&text) {
                flagged.push(format!("{name} as {form}: {found:?}"));
            }
        }
    }
    assert!(
        flagged.is_empty(),
        "false positives:\n{}",
        flagged.join("\n")
    );
}

#[test]
fn bundles_requests_and_ordinary_json_are_not_key_material() {
    let bundle: String = FIXTURE_CERTIFICATES.iter().map(|(_, pem)| *pem).collect();
    let c = p256();
    let public_jwk = jwk(&c).replace(r#","d":"#, r#","kid":"#);
    let cases = [
        ("every fixture certificate in one bundle", bundle.clone()),
        (
            "the bundle with CR-only line ends",
            bundle.replace(['\r', '\n'], "\r"),
        ),
        (
            "a registration request",
            serde_json::json!({
                "certificatePem": bundle,
                "thingName": "sensor-0042",
                "policyName": "MarshalDevice",
                "targets": [{"account": "123456789012", "region": "eu-west-1"}],
            })
            .to_string(),
        ),
        (
            "a CSR",
            crate::csr(&c.private_key, &CertificateRequest::new("csr")).unwrap(),
        ),
        ("a public JWK", public_jwk),
        (
            "a \"d\" without \"kty\"",
            serde_json::json!({"d": Base64UrlUnpadded::encode_string(&[7; 32])}).to_string(),
        ),
        (
            "a JWK-like object with a short \"d\"",
            r#"{"kty":"x","d":"1"}"#.to_owned(),
        ),
        (
            "prose",
            "hello world: the key is kept on the device".to_owned(),
        ),
        (
            "the certificate's ID",
            crate::certificate_id(c.certificate.der()),
        ),
    ];
    for (what, text) in cases {
        assert_eq!(find_key_material(&text), None, "{what}: {}", head(&text));
    }
}

/// Inputs made to be slow: a quadratic pass would hang here. None is key
/// material. (At 1 MiB, natively, the slowest took about 50 ms.)
#[test]
fn hostile_texts_are_scanned_in_linear_time() {
    // Nested SEQUENCEs that each start like a key, with siblings to walk.
    let mut tower = vec![0x02, 0x01, 0x00];
    for _ in 0..75 {
        let mut content = vec![0x02, 0x01, 0x00];
        content.extend_from_slice(&[0x04, 0x00].repeat(100));
        content.extend_from_slice(&tower);
        tower = sequence(&content);
    }
    let size = 256 * 1024;
    let cases = [
        (
            "towers of key-like SEQUENCEs",
            b64(&tower.repeat(size / tower.len())),
        ),
        ("SEQUENCE tags everywhere", "MDAw".repeat(size / 4)),
        ("hex SEQUENCE tags", "30".repeat(size / 2)),
        ("backslashes", "\\".repeat(size)),
        ("colons", ":".repeat(size)),
        ("quoted d members", "\"d\": ".repeat(size / 6)),
        (
            "base64 that decodes to printable text at every offset",
            "V".repeat(size),
        ),
        (
            "dangling BEGIN lines",
            "-----BEGIN X-----\n".repeat(size / 18),
        ),
    ];
    for (what, text) in cases {
        assert_eq!(find_key_material(&text), None, "{what}");
    }
}

/// The API scans bodies up to 1 MiB: a body of certificates that size
/// must pass (its time is measured by the `credentials` bench).
#[test]
fn a_mebibyte_of_certificates_is_not_key_material() {
    let text = mebibyte_of_certificates();
    assert!(text.len() >= 1 << 20);
    assert_eq!(find_key_material(&text), None);
}

fn mebibyte_of_certificates() -> String {
    let pems: Vec<String> = (0..8)
        .map(|i| {
            generate(
                KeyType::EcP256,
                &CertificateRequest::new(format!("t{i}")),
                now(),
            )
            .unwrap()
            .certificate
            .to_pem()
        })
        .collect();
    let mut text = String::new();
    while text.len() < 1 << 20 {
        text.push_str(&pems[text.len() % pems.len()]);
    }
    text
}
