//! Writing a modern PKCS#12 file, laid out as OpenSSL 3 writes it: an
//! encrypted certificate bag and a shrouded key bag (both PBES2 with
//! PBKDF2-HMAC-SHA-256 and AES-256-CBC), then an HMAC-SHA-256 MAC.

use zeroize::Zeroizing;

use super::{
    kdf::{self, Hash},
    oids,
};
use crate::{
    ber::{self, explicit0, octets, oid, seq, tlv, uint},
    error::{Error, Result},
    pbes2,
};

/// `bagAttributes`: friendlyName and localKeyId, a DER SET OF sorted by encoding.
fn attributes(friendly_name: &str, local_key_id: &[u8]) -> Vec<u8> {
    let bmp: Vec<u8> = friendly_name
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    const BMP_STRING: u8 = 0x1e;
    let mut attrs = [
        seq(&[
            &oid(oids::FRIENDLY_NAME),
            &tlv(ber::SET, &tlv(BMP_STRING, &bmp)),
        ]),
        seq(&[
            &oid(oids::LOCAL_KEY_ID),
            &tlv(ber::SET, &octets(local_key_id)),
        ]),
    ];
    attrs.sort();
    tlv(ber::SET, &attrs.concat())
}

/// The whole file for one key and its certificate.
pub(super) fn pfx(
    certificate_der: &[u8],
    pkcs8_der: &[u8],
    password: &str,
    friendly_name: &str,
    iterations: u32,
) -> Result<Vec<u8>> {
    // As OpenSSL does: the SHA-1 of the certificate.
    let local_key_id =
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, certificate_der);
    let attrs = attributes(friendly_name, local_key_id.as_ref());

    // The certificate, in an encrypted SafeContents.
    let cert_bag = seq(&[
        &oid(oids::CERT_BAG),
        &explicit0(&seq(&[
            &oid(oids::X509_CERTIFICATE),
            &explicit0(&octets(certificate_der)),
        ])),
        &attrs,
    ]);
    let cert_safe = seq(&[&cert_bag]);
    let (cert_alg, cert_ct) = pbes2::encrypt(password.as_bytes(), iterations, &cert_safe)?;
    let encrypted_data = seq(&[
        &uint(0),
        &seq(&[
            &oid(oids::DATA),
            &cert_alg,
            &tlv(ber::CONTEXT_0_PRIMITIVE, &cert_ct),
        ]),
    ]);
    let cert_info = seq(&[&oid(oids::ENCRYPTED_DATA), &explicit0(&encrypted_data)]);

    // The key, shrouded (EncryptedPrivateKeyInfo) in a plain SafeContents.
    let (key_alg, key_ct) = pbes2::encrypt(password.as_bytes(), iterations, pkcs8_der)?;
    let key_bag = seq(&[
        &oid(oids::SHROUDED_KEY_BAG),
        &explicit0(&seq(&[&key_alg, &octets(&key_ct)])),
        &attrs,
    ]);
    let key_info = seq(&[&oid(oids::DATA), &explicit0(&octets(&seq(&[&key_bag])))]);

    let auth_safe = seq(&[&cert_info, &key_info]);
    let mut mac_salt = [0u8; 16];
    getrandom::fill(&mut mac_salt).map_err(|_| Error::Random)?;
    let bmp = kdf::bmp_password(Some(password));
    let mac = Zeroizing::new(kdf::mac(
        Hash::Sha256,
        &bmp,
        &mac_salt,
        iterations,
        &auth_safe,
    ));
    let mac_data = seq(&[
        &seq(&[&seq(&[&oid(oids::SHA_256), &[0x05, 0x00]]), &octets(&mac)]),
        &octets(&mac_salt),
        &uint(iterations),
    ]);
    Ok(seq(&[
        &uint(3),
        &seq(&[&oid(oids::DATA), &explicit0(&octets(&auth_safe))]),
        &mac_data,
    ]))
}
