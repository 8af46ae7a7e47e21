//! The key that signs a device certificate or CSR for rcgen: ring's ECDSA
//! (P-256, P-384) or RSA PKCS#1 v1.5 with SHA-256, from the key's PKCS#8.
//!
//! rcgen's own `KeyPair` does the same with ring but keeps an unwiped copy of
//! the PKCS#8 and links ring's Ed25519 signer, which a device certificate
//! never uses; this adapter holds only ring's key pair.

use ring::{
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair},
};

use crate::{
    KeyAlgorithm,
    algorithm::Curve,
    error::{Error, Result},
    key::PrivateKey,
};

/// A private key that can sign a device certificate, as rcgen's
/// [`rcgen::SigningKey`].
pub(super) struct Signer {
    pair: Pair,
    algorithm: &'static rcgen::SignatureAlgorithm,
    rng: SystemRandom,
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// ring's signing algorithm and rcgen's name for it, for the curves a
/// device key may use.
pub(super) fn ec_algorithms(
    curve: &Curve,
) -> Option<(
    &'static signature::EcdsaSigningAlgorithm,
    &'static rcgen::SignatureAlgorithm,
)> {
    match curve {
        Curve::P256 => Some((
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )),
        Curve::P384 => Some((
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &rcgen::PKCS_ECDSA_P384_SHA384,
        )),
        _ => None,
    }
}

impl Signer {
    /// ECDSA P-256/P-384 or RSA of at least 2048 bits; any other key is
    /// refused (AWS IoT takes no other device keys).
    pub(super) fn new(key: &PrivateKey) -> Result<Signer> {
        let rng = SystemRandom::new();
        let pkcs8 = key.pkcs8_der();
        let rejected = |e: ring::error::KeyRejected| Error::crypto("signature", e);
        let ec = match key.algorithm() {
            KeyAlgorithm::Ec { curve } => ec_algorithms(curve),
            _ => None,
        };
        let (pair, algorithm) = match (key.algorithm(), ec) {
            (_, Some((ring_algorithm, algorithm))) => (
                Pair::Ec(EcdsaKeyPair::from_pkcs8(ring_algorithm, pkcs8, &rng).map_err(rejected)?),
                algorithm,
            ),
            (KeyAlgorithm::Rsa { bits }, None) if *bits >= 2048 => (
                Pair::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?),
                &rcgen::PKCS_RSA_SHA256,
            ),
            (other, None) => {
                return Err(Error::UnsupportedKeyType(format!(
                    "{other} cannot sign a device certificate (use ECDSA P-256/P-384 or RSA ≥ 2048)"
                )));
            }
        };
        Ok(Signer {
            pair,
            algorithm,
            rng,
        })
    }

    /// A signer over an ECDSA key pair ring has already loaded.
    pub(super) fn ec(pair: EcdsaKeyPair, algorithm: &'static rcgen::SignatureAlgorithm) -> Signer {
        Signer {
            pair: Pair::Ec(pair),
            algorithm,
            rng: SystemRandom::new(),
        }
    }

    /// Whether the key is RSA (whose certificate also gets keyEncipherment).
    pub(super) fn is_rsa(&self) -> bool {
        matches!(self.pair, Pair::Rsa(_))
    }
}

impl rcgen::PublicKeyData for Signer {
    /// The SubjectPublicKeyInfo BIT STRING: the uncompressed EC point, or the
    /// DER `RSAPublicKey`, as ring derived it from the private key.
    fn der_bytes(&self) -> &[u8] {
        match &self.pair {
            Pair::Ec(pair) => pair.public_key().as_ref(),
            Pair::Rsa(pair) => pair.public_key().as_ref(),
        }
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

impl rcgen::SigningKey for Signer {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match &self.pair {
            Pair::Ec(pair) => pair
                .sign(&self.rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| rcgen::Error::RingUnspecified),
            Pair::Rsa(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut out)
                    .map_err(|_| rcgen::Error::RingUnspecified)?;
                Ok(out)
            }
        }
    }
}
