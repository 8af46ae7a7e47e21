//! The work limits of one import (security review 2026-12, L2), on files
//! assembled here: hostile ones are refused by what they announce, before
//! a single key derivation runs.

use der::{
    Decode, Encode, Tag, TagNumber,
    asn1::{AnyRef, OctetStringRef},
};
use spki::AlgorithmIdentifierRef;

use super::{
    asn1::{
        ContentInfo, DigestInfo, EncryptedContentInfo, EncryptedData, EncryptedPrivateKeyInfo,
        MacData, Pfx, Pkcs12PbeParams, SafeBag,
    },
    budget::Limits,
    kdf::{self, Hash},
    oids,
    read::{read, read_within},
};
use crate::{CertificateRequest, Error, KeyType, OffsetDateTime, generate, pbes2};

fn any(der: &[u8]) -> AnyRef<'_> {
    AnyRef::from_der(der).unwrap()
}

fn octets(bytes: &[u8]) -> &OctetStringRef {
    OctetStringRef::new(bytes).unwrap()
}

/// SEQUENCE OF the DER elements `parts`.
fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    parts
        .iter()
        .map(|p| any(p))
        .collect::<Vec<_>>()
        .to_der()
        .unwrap()
}

/// A PFX around `safes`, with a HMAC-SHA-256 MAC under `mac_password` if given.
fn pfx(safes: &[Vec<u8>], mac_password: Option<&str>) -> Vec<u8> {
    pfx_around(&der_seq(safes), mac_password)
}

/// A PFX around the AuthenticatedSafe `auth_safe` (DER or BER).
fn pfx_around(auth_safe: &[u8], mac_password: Option<&str>) -> Vec<u8> {
    let salt = [7u8; 8];
    let mac = mac_password.map(|password| {
        let bmp = kdf::bmp_password(Some(password));
        kdf::mac(Hash::Sha256, &bmp, &salt, 2048, auth_safe)
    });
    Pfx {
        version: 3,
        auth_safe: ContentInfo {
            content_type: oids::DATA,
            content: Some(octets(auth_safe).into()),
        },
        mac_data: mac.as_ref().map(|mac| MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierRef {
                    oid: oids::SHA_256,
                    parameters: Some(AnyRef::NULL),
                },
                digest: octets(mac),
            },
            mac_salt: octets(&salt),
            iterations: Some(2048),
        }),
    }
    .to_der()
    .unwrap()
}

fn plain_safe(bags: &[Vec<u8>]) -> Vec<u8> {
    let contents = der_seq(bags);
    ContentInfo {
        content_type: oids::DATA,
        content: Some(octets(&contents).into()),
    }
    .to_der()
    .unwrap()
}

/// An encryptedData safe under the AlgorithmIdentifier `algorithm`.
fn encrypted_data(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let implicit_0 = Tag::ContextSpecific {
        constructed: false,
        number: TagNumber(0),
    };
    let data = EncryptedData {
        version: 0,
        encrypted_content_info: EncryptedContentInfo {
            content_type: oids::DATA,
            content_encryption_algorithm: AlgorithmIdentifierRef::from_der(algorithm).unwrap(),
            encrypted_content: Some(AnyRef::new(implicit_0, ciphertext).unwrap()),
        },
    }
    .to_der()
    .unwrap();
    ContentInfo {
        content_type: oids::ENCRYPTED_DATA,
        content: Some(any(&data)),
    }
    .to_der()
    .unwrap()
}

/// An encryptedData safe (PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC).
fn encrypted_safe(bags: &[Vec<u8>], password: &str, iterations: u32) -> Vec<u8> {
    let (algorithm, ciphertext) =
        pbes2::encrypt(password.as_bytes(), iterations, &der_seq(bags)).unwrap();
    encrypted_data(&algorithm, &ciphertext)
}

fn shrouded_bag(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: AlgorithmIdentifierRef::from_der(algorithm).unwrap(),
        encrypted_data: octets(ciphertext),
    }
    .to_der()
    .unwrap();
    SafeBag {
        bag_id: oids::SHROUDED_KEY_BAG,
        bag_value: any(&info),
        bag_attributes: None,
    }
    .to_der()
    .unwrap()
}

/// `pbeWithSHAAnd3-KeyTripleDES-CBC` at `iterations`: three SHA-1 KDF
/// blocks (two for the key, one for the IV). Never derived here.
fn legacy_3des(iterations: u32) -> Vec<u8> {
    let params = Pkcs12PbeParams {
        salt: octets(&[1; 8]),
        iterations,
    }
    .to_der()
    .unwrap();
    AlgorithmIdentifierRef {
        oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3"),
        parameters: Some(any(&params)),
    }
    .to_der()
    .unwrap()
}

/// A real P-256 key, shrouded with PBES2 at `iterations`.
fn real_shrouded_key(password: &str, iterations: u32) -> Vec<u8> {
    let now = OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap();
    let c = generate(KeyType::EcP256, &CertificateRequest::new("k"), now).unwrap();
    let (algorithm, ciphertext) =
        pbes2::encrypt(password.as_bytes(), iterations, c.private_key.pkcs8_der()).unwrap();
    shrouded_bag(&algorithm, &ciphertext)
}

fn assert_refused(result: crate::Result<super::Pkcs12Contents>, words: &str, what: &str) {
    match result {
        Err(Error::MalformedPkcs12(message)) => {
            assert!(message.contains(words), "{what}: {message}")
        }
        other => panic!("{what}: expected malformed_pkcs12 with {words:?}, got {other:?}"),
    }
}

/// The review's file: 200 shrouded keys at the per-derivation cap with the
/// empty password. Running them would take minutes; the count refuses it
/// first. The MAC is made with another password, so reaching the MAC
/// check would say "wrong password": the refusal comes before it.
#[test]
fn many_shrouded_bags_are_refused_by_their_count() {
    let bags = vec![shrouded_bag(&legacy_3des(pbes2::MAX_ITERATIONS), &[0; 16]); 200];
    let safes = [plain_safe(&bags)];
    assert_refused(read(&pfx(&safes, None), ""), "more than 16 bags", "no MAC");
    assert_refused(
        read(&pfx(&safes, Some("other")), ""),
        "more than 16 bags",
        "MAC under another password",
    );
}

#[test]
fn many_safes_are_refused_by_their_count() {
    let safes = vec![plain_safe(&[]); 17];
    assert_refused(
        read(&pfx(&safes, None), ""),
        "more than 16 safes",
        "17 safes",
    );
}

/// Few bags, each under the per-derivation cap, that together ask for
/// more than the budget: refused by what they announce.
#[test]
fn announced_work_over_the_budget_is_refused() {
    let cases = [
        (
            "4 legacy 3DES keys at 3 M iterations (9 M each)",
            vec![plain_safe(&vec![
                shrouded_bag(
                    &legacy_3des(3_000_000),
                    &[0; 16]
                );
                4
            ])],
        ),
        (
            "16 encrypted safes at 1 M iterations",
            vec![encrypted_safe_announcing(1_000_000); 16],
        ),
    ];
    for (what, safes) in cases {
        assert_refused(
            read(&pfx(&safes, Some("other")), "pw"),
            "key derivations of more than 10000000 iterations",
            what,
        );
    }
}

/// An encrypted safe whose scheme asks for `iterations` (PBES2 with
/// PBKDF2-HMAC-SHA-256 and AES-256-CBC), with a ciphertext never decrypted.
fn encrypted_safe_announcing(iterations: u32) -> Vec<u8> {
    use pkcs8::pkcs5::{self, pbes2};
    let params = pbes2::Parameters {
        kdf: pbes2::Pbkdf2Params::hmac_sha256(iterations, &[1; 16])
            .unwrap()
            .into(),
        encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [2; 16] },
    };
    let algorithm = pkcs5::EncryptionScheme::from(params).to_der().unwrap();
    encrypted_data(&algorithm, &[0; 16])
}

/// Work inside an encrypted safe is hidden until it is decrypted: it is
/// checked then, before anything inside is derived.
#[test]
fn work_inside_an_encrypted_safe_counts_too() {
    let safe = encrypted_safe(&[real_shrouded_key("pw", 1_000)], "pw", 1_000);
    let file = pfx(&[safe], None);
    let limits = |kdf_rounds, bags| Limits {
        kdf_rounds,
        safes: 16,
        bags,
    };
    let contents = read_within(&file, "pw", &limits(2_000, 16)).unwrap();
    assert!(contents.private_key.is_some(), "the file is sound");
    assert_refused(
        read_within(&file, "pw", &limits(1_500, 16)),
        "key derivations of more than 1500 iterations",
        "the key inside the safe is over the budget",
    );
    let two = encrypted_safe(
        &[
            real_shrouded_key("pw", 1_000),
            real_shrouded_key("pw", 1_000),
        ],
        "pw",
        1_000,
    );
    assert_refused(
        read_within(&pfx(&[two], None), "pw", &limits(10_000, 1)),
        "more than 1 bags",
        "two bags inside the safe, one allowed",
    );
}

/// Re-frames DER as Java and Windows write BER (what `to-ber.py` does to
/// the fixture): indefinite lengths on every constructed element, OCTET
/// STRINGs (and `[0] IMPLICIT` ones) over 64 bytes in 64-byte pieces.
fn to_ber(der: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut reader = der::SliceReader::new(der).unwrap();
    while !der::Reader::is_finished(&reader) {
        let element = AnyRef::decode(&mut reader).unwrap();
        let tag = element.to_der().unwrap()[0];
        let content = element.value();
        if matches!(tag, 0x04 | 0x80) && content.len() > 64 {
            out.extend_from_slice(&[tag | 0x20, 0x80]);
            for piece in content.chunks(64) {
                out.extend(octets(piece).to_der().unwrap());
            }
            out.extend_from_slice(&[0, 0]);
        } else if tag & 0x20 != 0 {
            out.extend_from_slice(&[tag, 0x80]);
            out.extend(to_ber(content));
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend(element.to_der().unwrap());
        }
    }
    out
}

/// BER in every layer, not only the outer one the fixture has: the
/// AuthenticatedSafe, both SafeContents (one inside the encryption) and a
/// chunked `[0] IMPLICIT` ciphertext. Under a MAC and without one.
#[test]
fn ber_in_every_layer_is_read() {
    let now = OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap();
    let made = generate(KeyType::EcP256, &CertificateRequest::new("ber"), now).unwrap();
    let cert_bag = super::asn1::CertBag {
        cert_id: oids::X509_CERTIFICATE,
        cert_value: octets(made.certificate.der()).into(),
    }
    .to_der()
    .unwrap();
    let cert_bag = SafeBag {
        bag_id: oids::CERT_BAG,
        bag_value: any(&cert_bag),
        bag_attributes: None,
    }
    .to_der()
    .unwrap();
    let cert_contents = to_ber(&der_seq(&[cert_bag]));
    let (algorithm, ciphertext) = pbes2::encrypt(b"pw", 1_000, &cert_contents).unwrap();
    let cert_safe = encrypted_data(&algorithm, &ciphertext);
    let (algorithm, ciphertext) =
        pbes2::encrypt(b"pw", 1_000, made.private_key.pkcs8_der()).unwrap();
    let key_contents = to_ber(&der_seq(&[shrouded_bag(&algorithm, &ciphertext)]));
    let key_safe = ContentInfo {
        content_type: oids::DATA,
        content: Some(octets(&key_contents).into()),
    }
    .to_der()
    .unwrap();
    let auth_safe = to_ber(&der_seq(&[cert_safe, key_safe]));
    assert!(
        AnyRef::from_der(&auth_safe).is_err(),
        "the test's BER is not DER"
    );
    for mac in [Some("pw"), None] {
        let file = to_ber(&pfx_around(&auth_safe, mac));
        let contents = read(&file, "pw").unwrap();
        assert_eq!(contents.certificates.len(), 1, "MAC {mac:?}");
        assert_eq!(contents.certificates[0].der(), made.certificate.der());
        let key = contents.private_key.expect("the key");
        assert_eq!(key.pkcs8_der(), made.private_key.pkcs8_der());
    }
}
