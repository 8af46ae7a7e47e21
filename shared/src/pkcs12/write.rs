//! Writing a modern PKCS#12 file, laid out as OpenSSL 3 writes it: an
//! encrypted certificate bag and a shrouded key bag (both PBES2 with
//! PBKDF2-HMAC-SHA-256 and AES-256-CBC), then an HMAC-SHA-256 MAC.

use const_oid::ObjectIdentifier;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::{
    ber, cipher,
    kdf::{self, Hash},
    oids,
};
use crate::error::{Error, Result};

/// One DER element: tag, definite length, content.
pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8); // < 0x80: fits
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8); // at most 8
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(ber::SEQUENCE, &parts.concat())
}

fn oid(oid: ObjectIdentifier) -> Vec<u8> {
    tlv(ber::OID, oid.as_bytes())
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(ber::OCTET_STRING, bytes)
}

fn explicit0(inner: &[u8]) -> Vec<u8> {
    tlv(ber::CONTEXT_0, inner)
}

fn uint(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(ber::INTEGER, &content)
}

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
    cipher::check_iterations(iterations)?;
    let local_key_id = Sha1::digest(certificate_der);
    let attrs = attributes(friendly_name, &local_key_id);

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
    let (cert_alg, cert_ct) = cipher::encrypt_pbes2(password, iterations, &cert_safe)?;
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
    let (key_alg, key_ct) = cipher::encrypt_pbes2(password, iterations, pkcs8_der)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn lengths_and_integers_are_der() {
        assert_eq!(tlv(0x04, &[7; 3])[..2], [0x04, 0x03]);
        assert_eq!(tlv(0x04, &[7; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[7; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
        assert_eq!(uint(0), [0x02, 0x01, 0x00]);
        assert_eq!(uint(3), [0x02, 0x01, 0x03]);
        assert_eq!(uint(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(10_000), [0x02, 0x02, 0x27, 0x10]);
        // What the der crate makes of the same values.
        for v in [0u32, 3, 127, 128, 255, 10_000, 2_000_000, u32::MAX] {
            assert_eq!(uint(v), der::Encode::to_der(&v).unwrap(), "{v}");
        }
    }
}
