//! Password-based encryption inside PKCS#12: the legacy PKCS#12 schemes
//! (SHA-1 KDF with 3DES or RC2) to read old files, PBES2 to read and write.

use cbc::cipher::{BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use zeroize::Zeroizing;

use super::{
    ber::{self, Element, Reader},
    kdf::{self, Hash, Purpose},
};
use crate::error::{Error, Result};

/// More iterations than this are refused: a hostile file could otherwise
/// keep the page busy for hours. Real files use 2,048 to 600,000.
pub(crate) const MAX_ITERATIONS: u32 = 5_000_000;
/// scrypt's N above 2^17 (128 MiB with r = 8) is refused for the same reason.
const MAX_SCRYPT_LOG_N: u32 = 17;

const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const SHA_3DES_3KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const SHA_3DES_2KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.4");
const SHA_RC2_128: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const SHA_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

/// The password in both forms a file may need.
pub(super) struct Password<'a> {
    /// As typed (UTF-8): PBES2 uses it so.
    pub(super) text: &'a str,
    /// UTF-16BE with a final zero (or nothing): the legacy KDF and the MAC.
    pub(super) bmp: &'a [u8],
    /// The file's MAC held with this password. Without a MAC, a wrong
    /// password shows only as garbage after decryption.
    pub(super) mac_checked: bool,
}

impl Password<'_> {
    /// What a parse failure of decrypted bytes means: with no MAC to check
    /// first, most likely a wrong password.
    pub(super) fn blame(&self, err: Error) -> Error {
        match err {
            Error::MalformedPkcs12(_)
            | Error::MalformedKey(_)
            | Error::TruncatedDer(_)
            | Error::NotACertificate(_)
                if !self.mac_checked =>
            {
                Error::WrongPassword("the PKCS#12 file")
            }
            other => other,
        }
    }
}

/// Decrypts `ciphertext` under the AlgorithmIdentifier `algorithm`.
pub(super) fn decrypt(
    algorithm: &Element<'_>,
    password: &Password<'_>,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let mut fields = algorithm.reader();
    let oid = read_oid(&mut fields, "the encryption algorithm")?;
    if oid == PBES2 {
        let scheme = pkcs5::EncryptionScheme::from_der(&algorithm.to_tlv())
            .map_err(|e| ber::malformed(format!("PBES2 parameters: {e}")))?;
        check_work(&scheme)?;
        return scheme
            .decrypt(password.text.as_bytes(), ciphertext)
            .map(Zeroizing::new)
            .map_err(|e| pbes2_error(e, "PKCS#12 file"));
    }
    let legacy = match oid {
        o if o == SHA_3DES_3KEY => LegacyCipher::TripleDes3Key,
        o if o == SHA_3DES_2KEY => LegacyCipher::TripleDes2Key,
        o if o == SHA_RC2_128 => LegacyCipher::Rc2 { key_len: 16 },
        o if o == SHA_RC2_40 => LegacyCipher::Rc2 { key_len: 5 },
        other => {
            return Err(Error::UnsupportedEncryption {
                context: "PKCS#12 file",
                algorithm: super::algorithm_name(other),
            });
        }
    };
    // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
    let mut params = fields.expect(ber::SEQUENCE, "pkcs-12PbeParams")?.reader();
    let salt = params.expect(ber::OCTET_STRING, "the salt")?.octets()?;
    let iterations = params
        .expect(ber::INTEGER, "the iteration count")?
        .small_uint()?;
    check_iterations(iterations)?;
    let key = kdf::derive(
        Hash::Sha1,
        password.bmp,
        &salt,
        iterations,
        Purpose::Key,
        legacy.key_len(),
    );
    let iv = kdf::derive(Hash::Sha1, password.bmp, &salt, iterations, Purpose::Iv, 8);
    legacy
        .decrypt(&key, &iv, ciphertext)
        .map(Zeroizing::new)
        .ok_or(Error::WrongPassword("the PKCS#12 file"))
}

/// Encrypts with PBES2: PBKDF2-HMAC-SHA-256 and AES-256-CBC, fresh salt and IV.
/// Returns the AlgorithmIdentifier (DER) and the ciphertext.
pub(super) fn encrypt_pbes2(
    password: &str,
    iterations: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| Error::Random)?;
    getrandom::fill(&mut iv).map_err(|_| Error::Random)?;
    let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv)
        .map_err(|e| Error::crypto("PKCS#12 file", e))?;
    let scheme = pkcs5::EncryptionScheme::from(params);
    let ciphertext = scheme
        .encrypt(password.as_bytes(), plaintext)
        .map_err(|e| Error::crypto("PKCS#12 file", e))?;
    let algorithm = scheme
        .to_der()
        .map_err(|e| Error::crypto("PKCS#12 file", e))?;
    Ok((algorithm, ciphertext))
}

/// Refuses PBES2 parameters that would cost more work than any real file asks.
pub(crate) fn check_work(scheme: &pkcs5::EncryptionScheme) -> Result<()> {
    let Some(pbes2) = scheme.pbes2() else {
        return Ok(());
    };
    if let Some(pbkdf2) = pbes2.kdf.pbkdf2() {
        check_iterations(pbkdf2.iteration_count)?;
    }
    if let Some(scrypt) = pbes2.kdf.scrypt() {
        let n = scrypt.cost_parameter;
        if n > 1 << MAX_SCRYPT_LOG_N || scrypt.block_size > 32 || scrypt.parallelization > 16 {
            return Err(Error::UnsupportedEncryption {
                context: "encrypted data",
                algorithm: format!(
                    "scrypt with N = {n}, r = {}, p = {} (more memory or time than this tool spends)",
                    scrypt.block_size, scrypt.parallelization
                ),
            });
        }
    }
    Ok(())
}

pub(super) fn check_iterations(iterations: u32) -> Result<()> {
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

/// Maps a PBES2 failure to our error: a bad padding is a wrong password.
pub(crate) fn pbes2_error(err: pkcs5::Error, context: &'static str) -> Error {
    match err {
        pkcs5::Error::DecryptFailed => Error::WrongPassword(if context == "PKCS#12 file" {
            "the PKCS#12 file"
        } else {
            "the encrypted private key"
        }),
        pkcs5::Error::UnsupportedAlgorithm { oid }
        | pkcs5::Error::AlgorithmParametersInvalid { oid } => Error::UnsupportedEncryption {
            context,
            algorithm: super::algorithm_name(oid),
        },
        other => Error::UnsupportedEncryption {
            context,
            algorithm: other.to_string(),
        },
    }
}

pub(super) fn read_oid(fields: &mut Reader<'_>, name: &str) -> Result<ObjectIdentifier> {
    let element = fields.expect(ber::OID, name)?;
    ObjectIdentifier::from_bytes(element.content)
        .map_err(|e| ber::malformed(format!("{name}: a bad object identifier ({e})")))
}

/// The ciphers of PKCS#12's own (pre-PBES2) password-based encryption.
#[derive(Debug, Clone, Copy)]
enum LegacyCipher {
    TripleDes3Key,
    TripleDes2Key,
    /// RC2 with the effective key length equal to the key's (40 or 128 bits).
    Rc2 {
        key_len: usize,
    },
}

impl LegacyCipher {
    fn key_len(self) -> usize {
        match self {
            LegacyCipher::TripleDes3Key => 24,
            LegacyCipher::TripleDes2Key => 16,
            LegacyCipher::Rc2 { key_len } => key_len,
        }
    }

    /// CBC with PKCS#7 padding; `None` when the padding is wrong.
    fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        use cbc::cipher::InnerIvInit;
        match self {
            LegacyCipher::TripleDes3Key => cbc_decrypt::<des::TdesEde3>(key, iv, ciphertext),
            LegacyCipher::TripleDes2Key => cbc_decrypt::<des::TdesEde2>(key, iv, ciphertext),
            LegacyCipher::Rc2 { key_len } => {
                let cipher = rc2::Rc2::new_with_eff_key_len(key, key_len * 8);
                cbc::Decryptor::inner_iv_slice_init(cipher, iv)
                    .ok()?
                    .decrypt_padded_vec::<Pkcs7>(ciphertext)
                    .ok()
            }
        }
    }
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>>
where
    C: cbc::cipher::BlockCipherDecrypt + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .ok()
}
