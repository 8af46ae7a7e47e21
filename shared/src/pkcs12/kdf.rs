//! The PKCS#12 key derivation (RFC 7292, appendix B) and the file's MAC.

use const_oid::ObjectIdentifier;
use ring::{digest, hmac};
use zeroize::Zeroizing;

/// What the derived bytes are for (the "ID" byte of appendix B.3).
#[derive(Debug, Clone, Copy)]
pub(super) enum Purpose {
    Key = 1,
    Iv = 2,
    Mac = 3,
}

/// A digest the KDF and the MAC can use (ring's: the page links them for
/// signing anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn from_oid(oid: ObjectIdentifier) -> Option<Hash> {
        match oid {
            o if o == const_oid::db::rfc5912::ID_SHA_1 => Some(Hash::Sha1),
            o if o == const_oid::db::rfc5912::ID_SHA_256 => Some(Hash::Sha256),
            o if o == const_oid::db::rfc5912::ID_SHA_384 => Some(Hash::Sha384),
            o if o == const_oid::db::rfc5912::ID_SHA_512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
            Hash::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// The password as PKCS#12's legacy KDF wants it: UTF-16BE with a
/// terminating zero. `None` is the "no password" some tools write, which
/// differs from the empty one (`00 00`).
pub(super) fn bmp_password(password: Option<&str>) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    if let Some(password) = password {
        for unit in password.encode_utf16() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// The work of deriving `len` bytes: the iterations, once per hash output block.
pub(super) fn rounds(hash: Hash, iterations: u32, len: usize) -> u64 {
    let blocks = len.div_ceil(hash.digest().output_len());
    u64::from(iterations) * blocks as u64 // a handful
}

/// Derives `len` bytes for `purpose` from the BMP password (appendix B.2).
pub(super) fn derive(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    purpose: Purpose,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let algorithm = hash.digest();
    let v = algorithm.block_len();
    // I = S || P, each repeated to a whole number of v-byte blocks.
    let mut input = Zeroizing::new(Vec::new());
    for part in [salt, password] {
        if !part.is_empty() {
            let padded = part.len().div_ceil(v) * v;
            input.extend(part.iter().cycle().take(padded));
        }
    }
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    loop {
        let mut context = digest::Context::new(algorithm);
        context.update(&vec![purpose as u8; v]);
        context.update(&input);
        let mut block = context.finish();
        for _ in 1..iterations {
            block = digest::digest(algorithm, block.as_ref());
        }
        let block = block.as_ref();
        let take = (len - out.len()).min(block.len());
        out.extend_from_slice(&block[..take]);
        if out.len() == len {
            return out;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), with B = the block repeated to v bytes.
        let b: Vec<u8> = block.iter().copied().cycle().take(v).collect();
        for chunk in input.chunks_exact_mut(v) {
            let mut carry = 1u16;
            for (x, y) in chunk.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8; // the low byte; the high one carries on
                carry = sum >> 8;
            }
        }
    }
}

/// The key of the file's MAC, derived from the password.
fn mac_key(hash: Hash, password: &[u8], salt: &[u8], iterations: u32) -> hmac::Key {
    let len = hash.digest().output_len();
    let key = derive(hash, password, salt, iterations, Purpose::Mac, len);
    hmac::Key::new(hash.hmac(), &key)
}

/// The HMAC of `data` keyed from the password, as the file's MacData holds it.
pub(super) fn mac(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
) -> Vec<u8> {
    hmac::sign(&mac_key(hash, password, salt, iterations), data)
        .as_ref()
        .to_vec()
}

/// Checks a MacData value in constant time.
pub(super) fn verify_mac(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
    expected: &[u8],
) -> bool {
    hmac::verify(&mac_key(hash, password, salt, iterations), data, expected).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn passwords_in_bmp() {
        assert_eq!(*bmp_password(Some("")), vec![0, 0]);
        assert_eq!(*bmp_password(None), Vec::<u8>::new());
        assert_eq!(*bmp_password(Some("Aé")), vec![0, 0x41, 0, 0xe9, 0, 0]);
    }

    /// Known answers from OpenSSL's own PKCS12KDF, e.g. for the first row:
    /// `openssl kdf -keylen 24 -kdfopt digest:SHA1 -kdfopt hexpass:0073006D006500670000
    /// -kdfopt hexsalt:0A58CF64530D823F -kdfopt id:1 -kdfopt iter:1 PKCS12KDF`.
    #[test]
    fn known_answers_from_openssl() {
        let marshal = Some("marshal");
        let cases = [
            (
                Hash::Sha1,
                Some("smeg"),
                "0A58CF64530D823F",
                Purpose::Key,
                1,
                24,
                "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3",
            ),
            (
                Hash::Sha1,
                Some("smeg"),
                "0A58CF64530D823F",
                Purpose::Iv,
                1,
                8,
                "79993DFE048D3B76",
            ),
            (
                Hash::Sha256,
                marshal,
                "0102030405060708",
                Purpose::Mac,
                2048,
                32,
                "B43D73F4CFA4C08E373A71106651336708A4AA7475C5A68A256C119842AF3D63",
            ),
            (
                Hash::Sha512,
                marshal,
                "0102030405060708",
                Purpose::Key,
                3,
                70,
                "42D94A7C1EE822DAB4E67E581104C7D06ACA8AE55727BB6328C4A22BEEE4BFFD2462F93276AC0715CC7068BD297E4F4DDFC62714E1F7153BB8714C8FAC9B85AB586472639193",
            ),
            (
                Hash::Sha1,
                None,
                "0102030405060708",
                Purpose::Mac,
                5,
                20,
                "CAAB4E3B7DEFDE3E4D2BDABF5B50FAB1AA0EF076",
            ),
        ];
        for (hash, password, salt, purpose, iterations, len, want) in cases {
            let got = derive(
                hash,
                &bmp_password(password),
                &hex::decode(salt).unwrap(),
                iterations,
                purpose,
                len,
            );
            assert_eq!(
                hex::encode_upper(&*got),
                want,
                "{hash:?} {password:?} {purpose:?}"
            );
        }
    }
}
