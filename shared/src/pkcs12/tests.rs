//! The work limits of one import (security review 2026-12, L2), on files
//! assembled here: hostile ones are refused by what they announce, before
//! a single key derivation runs.

use super::{
    budget::Limits,
    kdf::{self, Hash},
    oids,
    read::{read, read_within},
};
use crate::{
    CertificateRequest, Error, KeyType, OffsetDateTime,
    ber::{self, explicit0, octets, oid, seq, tlv, uint},
    generate, pbes2,
};

fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    seq(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

/// A PFX around `safes`, with a HMAC-SHA-256 MAC under `mac_password` if given.
fn pfx(safes: &[Vec<u8>], mac_password: Option<&str>) -> Vec<u8> {
    let auth_safe = der_seq(safes);
    let mut parts = vec![
        uint(3),
        seq(&[&oid(oids::DATA), &explicit0(&octets(&auth_safe))]),
    ];
    if let Some(password) = mac_password {
        let salt = [7u8; 8];
        let bmp = kdf::bmp_password(Some(password));
        let mac = kdf::mac(Hash::Sha256, &bmp, &salt, 2048, &auth_safe);
        parts.push(seq(&[
            &seq(&[&seq(&[&oid(oids::SHA_256), &[0x05, 0x00]]), &octets(&mac)]),
            &octets(&salt),
            &uint(2048),
        ]));
    }
    der_seq(&parts)
}

fn plain_safe(bags: &[Vec<u8>]) -> Vec<u8> {
    seq(&[&oid(oids::DATA), &explicit0(&octets(&der_seq(bags)))])
}

/// An encryptedData safe (PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC).
fn encrypted_safe(bags: &[Vec<u8>], password: &str, iterations: u32) -> Vec<u8> {
    let (algorithm, ciphertext) =
        pbes2::encrypt(password.as_bytes(), iterations, &der_seq(bags)).unwrap();
    let info = seq(&[
        &oid(oids::DATA),
        &algorithm,
        &tlv(ber::CONTEXT_0_PRIMITIVE, &ciphertext),
    ]);
    seq(&[
        &oid(oids::ENCRYPTED_DATA),
        &explicit0(&seq(&[&uint(0), &info])),
    ])
}

fn shrouded_bag(algorithm: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    seq(&[
        &oid(oids::SHROUDED_KEY_BAG),
        &explicit0(&seq(&[algorithm, &octets(ciphertext)])),
    ])
}

/// `pbeWithSHAAnd3-KeyTripleDES-CBC` at `iterations`: three SHA-1 KDF
/// blocks (two for the key, one for the IV). Never derived here.
fn legacy_3des(iterations: u32) -> Vec<u8> {
    let oid_3des = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
    seq(&[&oid(oid_3des), &seq(&[&octets(&[1; 8]), &uint(iterations)])])
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
    let oid = |dotted| oid(const_oid::ObjectIdentifier::new_unwrap(dotted));
    let algorithm = seq(&[
        &oid("1.2.840.113549.1.5.13"),
        &seq(&[
            &seq(&[
                &oid("1.2.840.113549.1.5.12"),
                &seq(&[
                    &octets(&[1; 16]),
                    &uint(iterations),
                    &seq(&[&oid("1.2.840.113549.2.9"), &[0x05, 0x00]]),
                ]),
            ]),
            &seq(&[&oid("2.16.840.1.101.3.4.1.42"), &octets(&[2; 16])]),
        ]),
    ]);
    let info = seq(&[
        &oid("1.2.840.113549.1.7.1"),
        &algorithm,
        &tlv(ber::CONTEXT_0_PRIMITIVE, &[0; 16]),
    ]);
    seq(&[
        &oid("1.2.840.113549.1.7.6"),
        &explicit0(&seq(&[&uint(0), &info])),
    ])
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
