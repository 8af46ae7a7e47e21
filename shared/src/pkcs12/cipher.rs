//! Password-based encryption inside PKCS#12: the legacy PKCS#12 schemes
//! (SHA-1 KDF with 3DES or RC2) to read old files, PBES2 to read and write.

use const_oid::ObjectIdentifier;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::{
    asn1::{Pkcs12PbeParams, der_error},
    kdf::{self, Hash, Purpose},
};
use crate::{
    error::{Error, Result},
    pbes2,
};

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

/// A password-based encryption scheme and its parameters, read from an
/// AlgorithmIdentifier before any key is derived.
pub(super) enum Scheme {
    Pbes2(pbes2::Pbes2),
    /// PKCS#12's own: the appendix B KDF with SHA-1, then 3DES or RC2.
    Legacy {
        cipher: LegacyCipher,
        salt: Vec<u8>,
        iterations: u32,
    },
}

impl Scheme {
    pub(super) fn read(algorithm: AlgorithmIdentifierRef<'_>) -> Result<Scheme> {
        if algorithm.oid == pbes2::PBES2 {
            return Ok(Scheme::Pbes2(pbes2::Pbes2::from_parameters(
                algorithm.parameters,
                "PKCS#12 file",
            )?));
        }
        let cipher = match algorithm.oid {
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
        let what = "pkcs-12PbeParams";
        let params: Pkcs12PbeParams<'_> = algorithm
            .parameters
            .ok_or_else(|| Error::MalformedPkcs12(format!("{what} are missing")))?
            .decode_as()
            .map_err(der_error(what))?;
        pbes2::check_iterations(params.iterations)?;
        Ok(Scheme::Legacy {
            cipher,
            salt: params.salt.as_bytes().to_vec(),
            iterations: params.iterations,
        })
    }

    /// The key derivation's work, as iterations times hash blocks: the
    /// legacy KDF runs once for the key and once for the IV.
    pub(super) fn kdf_rounds(&self) -> u64 {
        match self {
            Scheme::Pbes2(params) => params.kdf_rounds(),
            Scheme::Legacy {
                cipher, iterations, ..
            } => {
                kdf::rounds(Hash::Sha1, *iterations, cipher.key_len())
                    + kdf::rounds(Hash::Sha1, *iterations, IV_LEN)
            }
        }
    }

    pub(super) fn decrypt(
        &self,
        password: &Password<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let plain = match self {
            Scheme::Pbes2(params) => params.decrypt(password.text.as_bytes(), ciphertext),
            Scheme::Legacy {
                cipher,
                salt,
                iterations,
            } => {
                let derive = |purpose, len| {
                    kdf::derive(Hash::Sha1, password.bmp, salt, *iterations, purpose, len)
                };
                let key = derive(Purpose::Key, cipher.key_len());
                let iv = derive(Purpose::Iv, IV_LEN);
                cipher.decrypt(&key, &iv, ciphertext).map(Zeroizing::new)
            }
        };
        plain.ok_or(Error::WrongPassword("the PKCS#12 file"))
    }
}

/// The legacy ciphers' block, and so IV, length.
const IV_LEN: usize = 8;

/// The ciphers of PKCS#12's own (pre-PBES2) password-based encryption.
#[derive(Debug, Clone, Copy)]
pub(super) enum LegacyCipher {
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
        use cbc::cipher::{BlockModeDecrypt, InnerIvInit, block_padding::Pkcs7};
        match self {
            LegacyCipher::TripleDes3Key => pbes2::cbc_decrypt::<des::TdesEde3>(key, iv, ciphertext),
            LegacyCipher::TripleDes2Key => pbes2::cbc_decrypt::<des::TdesEde2>(key, iv, ciphertext),
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
