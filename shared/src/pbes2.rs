//! PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-1/SHA-2 and AES-CBC or 3DES-CBC,
//! the password encryption of modern PKCS#12 files and encrypted PKCS#8 keys.
//!
//! Our own, with ring's PBKDF2: the `pkcs5` crate also carries scrypt and
//! AES-GCM, which cost the page ~15 KB gzipped for keys nobody makes that
//! way. scrypt and hmacWithSHA224 (which ring lacks) are refused by name.

use std::borrow::Cow;

use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
    block_padding::Pkcs7,
};
use const_oid::ObjectIdentifier as Oid;
use ring::pbkdf2;
use zeroize::Zeroizing;

use crate::{
    ber::{self, Element, Reader, octets, oid, seq, uint},
    error::{Error, Result},
};

/// More iterations than this in one key derivation are refused: a hostile
/// file could otherwise keep the page busy for hours. Real files use 2,048
/// to 600,000. A PKCS#12 import also has a total (`pkcs12::budget`).
pub(crate) const MAX_ITERATIONS: u32 = 5_000_000;

pub(crate) const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
const HMAC_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
const HMAC_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");

/// Iteration counts outside 1..=MAX_ITERATIONS are refused.
pub(crate) fn check_iterations(iterations: u32) -> Result<()> {
    if iterations > MAX_ITERATIONS {
        return Err(ber::malformed(format!(
            "{iterations} iterations, more than the {MAX_ITERATIONS} this tool accepts"
        )));
    }
    if iterations == 0 {
        return Err(ber::malformed("an iteration count of 0"));
    }
    Ok(())
}

/// PBES2 parameters (RFC 8018), read before any key is derived, so that
/// a PKCS#12 import can add up the work a file asks for first.
pub(crate) struct Pbes2<'a> {
    salt: Cow<'a, [u8]>,
    iterations: u32,
    prf: Prf,
    cipher: Cipher,
    iv: Cow<'a, [u8]>,
}

impl<'a> Pbes2<'a> {
    /// Reads PBES2 `params` (the AlgorithmIdentifier's parameters).
    pub(crate) fn read(params: &mut Reader<'a>, context: &'static str) -> Result<Pbes2<'a>> {
        let unsupported = |algorithm: Oid| Error::UnsupportedEncryption {
            context,
            algorithm: crate::pkcs12::algorithm_name(algorithm),
        };
        let mut pbes2 = params.expect(ber::SEQUENCE, "PBES2 parameters")?.reader();

        // keyDerivationFunc: PBKDF2 { salt, iterationCount, keyLength?, prf? }
        let mut kdf = pbes2.expect(ber::SEQUENCE, "the key derivation")?.reader();
        let kdf_oid = read_oid(&mut kdf, "the key derivation")?;
        if kdf_oid != PBKDF2 {
            return Err(unsupported(kdf_oid));
        }
        let mut pbkdf2 = kdf.expect(ber::SEQUENCE, "PBKDF2 parameters")?.reader();
        let salt = pbkdf2
            .expect(ber::OCTET_STRING, "the PBKDF2 salt")?
            .octets()?;
        let iterations = pbkdf2
            .expect(ber::INTEGER, "the PBKDF2 iteration count")?
            .small_uint()?;
        check_iterations(iterations)?;
        let key_length = pbkdf2
            .optional(ber::INTEGER)?
            .map(|n| n.small_uint())
            .transpose()?;
        let prf = match pbkdf2.optional(ber::SEQUENCE)? {
            Some(alg) => {
                let prf = read_oid(&mut alg.reader(), "the PBKDF2 PRF")?;
                Prf::from_oid(prf).ok_or_else(|| unsupported(prf))?
            }
            None => Prf::Sha1,
        };

        // encryptionScheme: { cipher, IV }
        let mut scheme = pbes2
            .expect(ber::SEQUENCE, "the encryption scheme")?
            .reader();
        let cipher_oid = read_oid(&mut scheme, "the encryption scheme")?;
        let cipher = Cipher::from_oid(cipher_oid).ok_or_else(|| unsupported(cipher_oid))?;
        let iv = scheme.expect(ber::OCTET_STRING, "the IV")?.octets()?;
        if iv.len() != cipher.block_len() {
            return Err(ber::malformed(format!(
                "an IV of {} bytes for a {}-byte block cipher",
                iv.len(),
                cipher.block_len()
            )));
        }
        if key_length.is_some_and(|n| n as usize != cipher.key_len()) {
            return Err(ber::malformed(
                "a PBKDF2 key length that does not fit the cipher",
            ));
        }
        Ok(Pbes2 {
            salt,
            iterations,
            prf,
            cipher,
            iv,
        })
    }

    /// The key derivation's work: the iterations, once per PRF output
    /// block the key needs (AES-256 with HMAC-SHA-1 takes two).
    pub(crate) fn kdf_rounds(&self) -> u64 {
        let blocks = self.cipher.key_len().div_ceil(self.prf.output_len());
        u64::from(self.iterations) * blocks as u64 // at most 2
    }

    /// Derives the key and decrypts. `None` is a bad padding: almost
    /// always a wrong password.
    pub(crate) fn decrypt(&self, password: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut key = Zeroizing::new(vec![0u8; self.cipher.key_len()]);
        self.prf
            .pbkdf2(password, &self.salt, self.iterations, &mut key);
        self.cipher
            .decrypt(&key, &self.iv, ciphertext)
            .map(Zeroizing::new)
    }
}

/// Encrypts with PBKDF2-HMAC-SHA-256 and AES-256-CBC, fresh salt and IV.
/// Returns the whole AlgorithmIdentifier (DER) and the ciphertext.
pub(crate) fn encrypt(
    password: &[u8],
    iterations: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    check_iterations(iterations)?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| Error::Random)?;
    getrandom::fill(&mut iv).map_err(|_| Error::Random)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Prf::Sha256.pbkdf2(password, &salt, iterations, &mut *key);
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new_from_slices(&*key, &iv)
        .map_err(|e| Error::crypto("PBES2", e))?
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    let null = [0x05, 0x00];
    let algorithm = seq(&[
        &oid(PBES2),
        &seq(&[
            &seq(&[
                &oid(PBKDF2),
                &seq(&[
                    &octets(&salt),
                    &uint(iterations),
                    &seq(&[&oid(HMAC_SHA256), &null]),
                ]),
            ]),
            &seq(&[&oid(AES256_CBC), &octets(&iv)]),
        ]),
    ]);
    Ok((algorithm, ciphertext))
}

pub(crate) fn read_oid(fields: &mut Reader<'_>, name: &str) -> Result<Oid> {
    let element: Element<'_> = fields.expect(ber::OID, name)?;
    Oid::from_bytes(element.content)
        .map_err(|e| ber::malformed(format!("{name}: a bad object identifier ({e})")))
}

/// PBKDF2's pseudo-random function.
#[derive(Debug, Clone, Copy)]
enum Prf {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Prf {
    fn output_len(self) -> usize {
        match self {
            Prf::Sha1 => 20,
            Prf::Sha256 => 32,
            Prf::Sha384 => 48,
            Prf::Sha512 => 64,
        }
    }

    fn from_oid(oid: Oid) -> Option<Prf> {
        Some(match oid {
            HMAC_SHA1 => Prf::Sha1,
            HMAC_SHA256 => Prf::Sha256,
            HMAC_SHA384 => Prf::Sha384,
            HMAC_SHA512 => Prf::Sha512,
            _ => return None,
        })
    }

    /// PBKDF2 (RFC 8018, 5.2). `iterations` is checked non-zero first.
    fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        let algorithm = match self {
            Prf::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Prf::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Prf::Sha384 => pbkdf2::PBKDF2_HMAC_SHA384,
            Prf::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        };
        let iterations = std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN);
        pbkdf2::derive(algorithm, iterations, salt, password, out);
    }
}

/// The block ciphers PBES2 files use, all in CBC mode with PKCS#7 padding.
#[derive(Debug, Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
}

impl Cipher {
    fn from_oid(oid: Oid) -> Option<Cipher> {
        Some(match oid {
            AES128_CBC => Cipher::Aes128,
            AES192_CBC => Cipher::Aes192,
            AES256_CBC => Cipher::Aes256,
            DES_EDE3_CBC => Cipher::TripleDes,
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 | Cipher::TripleDes => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn block_len(self) -> usize {
        match self {
            Cipher::TripleDes => 8,
            _ => 16,
        }
    }

    fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        match self {
            Cipher::Aes128 => cbc_decrypt::<aes::Aes128>(key, iv, ciphertext),
            Cipher::Aes192 => cbc_decrypt::<aes::Aes192>(key, iv, ciphertext),
            Cipher::Aes256 => cbc_decrypt::<aes::Aes256>(key, iv, ciphertext),
            Cipher::TripleDes => cbc_decrypt::<des::TdesEde3>(key, iv, ciphertext),
        }
    }
}

/// CBC with PKCS#7 padding; `None` when the padding is wrong.
pub(crate) fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>>
where
    C: BlockCipherDecrypt + BlockCipherEncrypt + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Known answers from `openssl kdf -keylen LEN -kdfopt digest:DIGEST
    /// -kdfopt pass:PASS -kdfopt salt:SALT -kdfopt iter:N PBKDF2`.
    #[test]
    fn pbkdf2_known_answers_from_openssl() {
        for (prf, password, salt, iterations, want) in KNOWN_ANSWERS {
            let mut out = vec![0u8; want.len() / 2];
            prf.pbkdf2(password.as_bytes(), salt.as_bytes(), *iterations, &mut out);
            assert_eq!(hex::encode_upper(&out), *want, "{prf:?} {iterations}");
        }
    }

    #[test]
    fn encrypt_then_decrypt() {
        let (algorithm, ciphertext) = encrypt(b"pw", 1000, b"the plaintext").unwrap();
        let mut outer = Reader::new(&algorithm, "test");
        let mut fields = outer.expect(ber::SEQUENCE, "alg").unwrap().reader();
        assert_eq!(read_oid(&mut fields, "oid").unwrap(), PBES2);
        let params = Pbes2::read(&mut fields, "test").unwrap();
        assert_eq!(params.kdf_rounds(), 1000);
        let plain = params.decrypt(b"pw", &ciphertext);
        assert_eq!(
            plain.as_deref().map(Vec::as_slice),
            Some(&b"the plaintext"[..])
        );
        // A wrong password shows as a bad padding (here; 1 in 256 would pass).
        let wrong = params.decrypt(b"wrong", &ciphertext);
        assert!(wrong.is_none() || wrong.as_deref().map(Vec::as_slice) != Some(b"the plaintext"));
    }

    const KNOWN_ANSWERS: &[(Prf, &str, &str, u32, &str)] = &[
        (
            Prf::Sha1,
            "password",
            "salt",
            1,
            "0C60C80F961F0E71F3A9B524AF6012062FE037A6",
        ),
        (
            Prf::Sha256,
            "marshal-test",
            "saltsaltsalt",
            2048,
            "2F5BCDA6C71C1AB4319EF738249B01E9EF5C4B02947C013FE63CE2AC2F970A43",
        ),
        (
            Prf::Sha384,
            "pw",
            "NaCl",
            5,
            "4D10A2E537891A3F9D13D40B566CC939D1161D3D35E8ADA01EA81FB5D4B84D8D2DDF3D2722027C7E0EF8DBEA2FC4CA5F",
        ),
        (
            Prf::Sha512,
            "marshal",
            "mysalt",
            10,
            "0C653D0EA9F2DAC9C26F5A05F14934B674DC2F2A0ABEC95127080A95D71E8EA731E58C4C92401267D10461327AF4235141B0BAD97E339950AF35B4CE1339E48369991CE19DD2",
        ),
        (
            Prf::Sha1,
            "passwordPASSWORDpassword",
            "saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            "3D2EEC4FE41C849B80C8D83662C0E44A8B291A964CF2F07038B6B89A48612C5A25284E6605E12329",
        ),
    ];
}
