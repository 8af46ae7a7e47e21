//! PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-1/SHA-2 and AES-CBC or 3DES-CBC,
//! the password encryption of modern PKCS#12 files and encrypted PKCS#8 keys.
//!
//! The parameters are `pkcs5`'s types (`Pbkdf2Params`, `Pbkdf2Prf`,
//! `pbes2::EncryptionScheme`), decoded with `der`. Deriving and decrypting
//! stay here, on ring's PBKDF2 and RustCrypto's block ciphers: `pkcs5`'s
//! own `pbes2` feature also carries scrypt, AES-GCM and a second SHA-2,
//! which cost a probe of the page 25 KB gzipped, for keys nobody makes that
//! way; without it `pkcs5` cannot name 3DES, so that OID is matched here.
//! scrypt and hmacWithSHA224 (which ring lacks) are refused by name.

use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
    block_padding::Pkcs7,
};
use const_oid::ObjectIdentifier as Oid;
use der::{
    Encode, Sequence,
    asn1::{AnyRef, OctetStringRef},
};
use pkcs8::pkcs5::{
    self,
    pbes2::{Kdf, Pbkdf2Params, Pbkdf2Prf},
};
use ring::pbkdf2;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use crate::{
    error::{Error, Result},
    pkcs12::der_error,
};

/// More iterations than this in one key derivation are refused: a hostile
/// file could otherwise keep the page busy for hours. Real files use 2,048
/// to 600,000. A PKCS#12 import also has a total (`pkcs12::budget`).
pub(crate) const MAX_ITERATIONS: u32 = 5_000_000;

pub(crate) const PBES2: Oid = pkcs5::pbes2::PBES2_OID;
const PBKDF2: Oid = pkcs5::pbes2::PBKDF2_OID;
/// des-ede3-cbc: `pkcs5` names it only with its `3des` feature.
const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
const AES128_CBC: Oid = pkcs5::pbes2::AES_128_CBC_OID;
const AES192_CBC: Oid = pkcs5::pbes2::AES_192_CBC_OID;
const AES256_CBC: Oid = pkcs5::pbes2::AES_256_CBC_OID;

/// Iteration counts outside 1..=MAX_ITERATIONS are refused.
pub(crate) fn check_iterations(iterations: u32) -> Result<()> {
    if iterations > MAX_ITERATIONS {
        return Err(Error::MalformedPkcs12(format!(
            "{iterations} iterations, more than the {MAX_ITERATIONS} this tool accepts"
        )));
    }
    if iterations == 0 {
        return Err(Error::MalformedPkcs12("an iteration count of 0".into()));
    }
    Ok(())
}

/// PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier,
///   encryptionScheme AlgorithmIdentifier }
///
/// Read as two AlgorithmIdentifiers rather than `pkcs5::pbes2::Parameters`,
/// which refuses 3DES without the `3des` feature (and so scrypt and AES-GCM).
#[derive(Sequence)]
struct Pbes2Params<'a> {
    key_derivation_func: AlgorithmIdentifierRef<'a>,
    encryption_scheme: AlgorithmIdentifierRef<'a>,
}

/// PBES2 parameters (RFC 8018), read before any key is derived, so that
/// a PKCS#12 import can add up the work a file asks for first.
pub(crate) struct Pbes2 {
    pbkdf2: Pbkdf2Params,
    prf: Prf,
    cipher: Cipher,
    iv: Vec<u8>,
}

impl Pbes2 {
    /// Reads PBES2 `params` (the AlgorithmIdentifier's parameters).
    pub(crate) fn from_parameters(
        params: Option<AnyRef<'_>>,
        context: &'static str,
    ) -> Result<Pbes2> {
        let unsupported = |algorithm: Oid| Error::UnsupportedEncryption {
            context,
            algorithm: crate::pkcs12::algorithm_name(algorithm),
        };
        let what = "PBES2 parameters";
        let params = params
            .ok_or_else(|| Error::MalformedPkcs12(format!("{what} are missing")))?
            .decode_as::<Pbes2Params<'_>>()
            .map_err(der_error(what))?;

        let kdf = params.key_derivation_func;
        if kdf.oid != PBKDF2 {
            return Err(unsupported(kdf.oid));
        }
        let pbkdf2 = match Kdf::try_from(kdf).map_err(der_error("PBKDF2 parameters"))? {
            Kdf::Pbkdf2(pbkdf2) => pbkdf2,
            _ => return Err(unsupported(kdf.oid)),
        };
        check_iterations(pbkdf2.iteration_count)?;
        let prf = Prf::from_pkcs5(pbkdf2.prf).ok_or_else(|| unsupported(pbkdf2.prf.oid()))?;

        let scheme = params.encryption_scheme;
        // The OID first: `pkcs5` reads the parameters as an IV before it
        // looks at the OID, and RC2-CBC's are not one.
        let (cipher, iv) = match scheme.oid {
            DES_EDE3_CBC => {
                let iv = scheme
                    .parameters
                    .ok_or_else(|| Error::MalformedPkcs12("the IV is missing".into()))?
                    .decode_as::<&OctetStringRef>()
                    .map_err(der_error("the IV"))?;
                (Cipher::TripleDes, iv.as_bytes().to_vec())
            }
            AES128_CBC | AES192_CBC | AES256_CBC => {
                use pkcs5::pbes2::EncryptionScheme as S;
                match S::try_from(scheme).map_err(der_error("the encryption scheme"))? {
                    S::Aes128Cbc { iv } => (Cipher::Aes128, iv.to_vec()),
                    S::Aes192Cbc { iv } => (Cipher::Aes192, iv.to_vec()),
                    S::Aes256Cbc { iv } => (Cipher::Aes256, iv.to_vec()),
                    other => return Err(unsupported(other.oid())),
                }
            }
            other => return Err(unsupported(other)),
        };
        if iv.len() != cipher.block_len() {
            return Err(Error::MalformedPkcs12(format!(
                "an IV of {} bytes for a {}-byte block cipher",
                iv.len(),
                cipher.block_len()
            )));
        }
        if pbkdf2
            .key_length
            .is_some_and(|n| usize::from(n) != cipher.key_len())
        {
            return Err(Error::MalformedPkcs12(
                "a PBKDF2 key length that does not fit the cipher".into(),
            ));
        }
        Ok(Pbes2 {
            pbkdf2,
            prf,
            cipher,
            iv,
        })
    }

    /// The key derivation's work: the iterations, once per PRF output
    /// block the key needs (AES-256 with HMAC-SHA-1 takes two).
    pub(crate) fn kdf_rounds(&self) -> u64 {
        let blocks = self.cipher.key_len().div_ceil(self.prf.output_len());
        u64::from(self.pbkdf2.iteration_count) * blocks as u64 // at most 2
    }

    /// Derives the key and decrypts. `None` is a bad padding: almost
    /// always a wrong password.
    pub(crate) fn decrypt(&self, password: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut key = Zeroizing::new(vec![0u8; self.cipher.key_len()]);
        self.prf.pbkdf2(
            password,
            self.pbkdf2.salt.as_bytes(),
            self.pbkdf2.iteration_count,
            &mut key,
        );
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
    let params = pkcs5::pbes2::Parameters {
        kdf: Pbkdf2Params::hmac_sha256(iterations, &salt)
            .map_err(|e| Error::crypto("PBES2", e))?
            .into(),
        encryption: pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv },
    };
    let algorithm = pkcs5::EncryptionScheme::from(params)
        .to_der()
        .map_err(|e| Error::crypto("PBES2", e))?;
    Ok((algorithm, ciphertext))
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

    /// ring's PBKDF2 has no HMAC-SHA-224: `None` for it.
    fn from_pkcs5(prf: Pbkdf2Prf) -> Option<Prf> {
        Some(match prf {
            Pbkdf2Prf::HmacWithSha1 => Prf::Sha1,
            Pbkdf2Prf::HmacWithSha256 => Prf::Sha256,
            Pbkdf2Prf::HmacWithSha384 => Prf::Sha384,
            Pbkdf2Prf::HmacWithSha512 => Prf::Sha512,
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

    /// Schemes we do not implement are refused by name, before anything is
    /// derived, whatever their parameters look like.
    #[test]
    fn unsupported_schemes_are_named() {
        use der::{Decode, asn1::AnyRef};
        let pbkdf2 = |prf| {
            Kdf::Pbkdf2(Pbkdf2Params {
                prf,
                ..Pbkdf2Params::hmac_sha256(2048, &[1; 8]).unwrap()
            })
            .to_der()
            .unwrap()
        };
        let sha256 = pbkdf2(Pbkdf2Prf::HmacWithSha256);
        let scrypt = Kdf::Scrypt(pkcs5::pbes2::ScryptParams {
            salt: pkcs5::pbes2::Salt::new([1; 8]).unwrap(),
            cost_parameter: 16384,
            block_size: 8,
            parallelization: 1,
            key_length: None,
        });
        // RC2-CBC-Parameter ::= SEQUENCE { version INTEGER, iv OCTET STRING }: not an IV.
        let rc2 = [
            0x30, 0x15, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x02, 0x30, 0x09,
            0x02, 0x01, 0x3a, 0x04, 0x04, 0, 0, 0, 0,
        ];
        let aes = |oid: Oid, iv_len| {
            spki::AlgorithmIdentifierRef {
                oid,
                parameters: Some(OctetStringRef::new(&[2; 16][..iv_len]).unwrap().into()),
            }
            .to_der()
            .unwrap()
        };
        let gcm = aes(Oid::new_unwrap("2.16.840.1.101.3.4.1.46"), 12);
        let cbc = aes(AES256_CBC, 16);
        let cases: [(Vec<u8>, &[u8], &str); 4] = [
            (pbkdf2(Pbkdf2Prf::HmacWithSha224), &cbc, "hmacWithSHA224"),
            (scrypt.to_der().unwrap(), &cbc, "scrypt"),
            (sha256.clone(), &rc2, "RC2-CBC"),
            (sha256.clone(), &gcm, "algorithm 2.16.840.1.101.3.4.1.46"),
        ];
        for (kdf, scheme, name) in cases {
            let params = Pbes2Params {
                key_derivation_func: spki::AlgorithmIdentifierRef::from_der(&kdf).unwrap(),
                encryption_scheme: spki::AlgorithmIdentifierRef::from_der(scheme).unwrap(),
            }
            .to_der()
            .unwrap();
            let params = AnyRef::from_der(&params).unwrap();
            match Pbes2::from_parameters(Some(params), "test") {
                Err(Error::UnsupportedEncryption { algorithm, .. }) => assert_eq!(algorithm, name),
                Err(other) => panic!("{name}: {other}"),
                Ok(_) => panic!("{name}: accepted"),
            }
        }
    }

    #[test]
    fn encrypt_then_decrypt() {
        let (algorithm, ciphertext) = encrypt(b"pw", 1000, b"the plaintext").unwrap();
        let algorithm = <AlgorithmIdentifierRef<'_> as der::Decode>::from_der(&algorithm).unwrap();
        assert_eq!(algorithm.oid, PBES2);
        let params = Pbes2::from_parameters(algorithm.parameters, "test").unwrap();
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
