//! Proving that a private key is one consistent key pair: the public key
//! is derived from the secret (EC, Ed25519) or the secret numbers are
//! checked against it (RSA), never taken on trust from the field stored
//! beside the secret. A key and a certificate then match when the derived
//! public key is the certificate's.
//!
//! ring does the work for P-256, P-384, Ed25519 and RSA 2048–4096 (it is in
//! the page anyway, to sign). ring has no P-521: RustCrypto's `p521` derives
//! that point, ~17 KB gzipped measured alone in wasm. The RSA checks ring
//! leaves out (`d` itself, keys other than 2048, 3072 and 4096 bits) would need
//! RustCrypto `rsa`'s `from_components` + `validate`: ~42 KB gzipped in
//! wasm, measured alone, so those keys are refused instead.

use pkcs1::RsaPrivateKeyRef;
use ring::signature::{self, KeyPair as _};

use crate::{
    algorithm::{Curve, uint_bits},
    error::{Error, Result},
};

/// The smallest and largest RSA moduli whose key pairs ring can check
/// (with primes of a multiple of 512 bits).
const RSA_BITS: std::ops::RangeInclusive<u32> = 2048..=4096;

/// The uncompressed public point `secret` makes on `curve`, after checking
/// that the point stored beside it (when there is one) is that point.
pub(super) fn ec_public(curve: &Curve, secret: &[u8], stored: Option<&[u8]>) -> Result<Vec<u8>> {
    let (size, ring_algorithm) = match curve {
        Curve::P256 => (32, Some(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)),
        Curve::P384 => (48, Some(&signature::ECDSA_P384_SHA384_ASN1_SIGNING)),
        Curve::P521 => (66, None),
        Curve::Secp256k1 | Curve::Other(_) => {
            return Err(Error::UnsupportedKeyType(format!(
                "ECDSA {curve} keys (Marshal takes P-256, P-384 and P-521 keys)"
            )));
        }
    };
    if secret.len() != size {
        return Err(Error::MalformedKey(format!(
            "EC key: a {}-byte secret on {curve}, which needs exactly {size} bytes",
            secret.len()
        )));
    }
    let derived = match ring_algorithm {
        Some(algorithm) => {
            let Some(stored) = stored else {
                // ring derives a point only for keys it generates; `p256` and
                // `p384` would cost the page ~20 KB gzipped for this alone.
                return Err(Error::UnsupportedKeyType(
                    "EC private key without its public key (re-export it with openssl pkey)".into(),
                ));
            };
            let rng = ring::rand::SystemRandom::new();
            // ring derives the point from the secret and refuses a stored one that differs.
            let pair = signature::EcdsaKeyPair::from_private_key_and_public_key(
                algorithm, secret, stored, &rng,
            )
            .map_err(|e| match e.to_string().as_str() {
                "InconsistentComponents" => mismatch("EC key", "secret"),
                _ => Error::MalformedKey(format!(
                    "EC key: the secret is not a valid {curve} private key (zero or not below the group order)"
                )),
            })?;
            return Ok(pair.public_key().as_ref().to_vec());
        }
        None => p521_public(secret)?,
    };
    match stored {
        Some(stored) if stored != derived.as_slice() => Err(mismatch("EC key", "secret")),
        _ => Ok(derived),
    }
}

fn p521_public(secret: &[u8]) -> Result<Vec<u8>> {
    use p521::elliptic_curve::sec1::ToSec1Point;
    let key = p521::SecretKey::from_slice(secret).map_err(|_| {
        Error::MalformedKey(
            "EC key: the secret is not a valid P-521 private key (zero or not below the group order)"
                .into(),
        )
    })?;
    Ok(key.public_key().to_sec1_point(false).as_bytes().to_vec())
}

/// The Ed25519 public key `seed` makes, after checking that a stored one
/// (PKCS#8 v2's `publicKey`) is that key.
pub(super) fn ed25519_public(seed: &[u8], stored: Option<&[u8]>) -> Result<Vec<u8>> {
    let pair = signature::Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| {
        Error::MalformedKey(format!(
            "Ed25519 key: a seed of {} bytes, which must be 32",
            seed.len()
        ))
    })?;
    let derived = pair.public_key().as_ref();
    match stored {
        Some(stored) if stored != derived => Err(mismatch("Ed25519 key", "seed")),
        _ => Ok(derived.to_vec()),
    }
}

/// Checks that the RSA numbers are one key pair; `pkcs1` is `rsa`'s DER.
///
/// ring checks p·q = n with both primes half the modulus (so no tiny
/// prime), e ≥ 65537, d's size, qInv·q ≡ 1 (mod p), and by signing once
/// (ring verifies its own signatures against n and e) dP and dQ.
pub(super) fn check_rsa(rsa: &RsaPrivateKeyRef<'_>, pkcs1: &[u8]) -> Result<()> {
    if rsa.other_prime_infos.is_some() {
        return Err(Error::UnsupportedKeyType("multi-prime RSA keys".into()));
    }
    let bits = uint_bits(rsa.modulus.as_bytes());
    let half = bits.div_ceil(2);
    let (p, q) = (
        uint_bits(rsa.prime1.as_bytes()),
        uint_bits(rsa.prime2.as_bytes()),
    );
    if p != half || q != half {
        return Err(Error::MalformedKey(format!(
            "RSA key: primes of {p} and {q} bits for a {bits}-bit modulus (each must be half of it)"
        )));
    }
    // ring takes primes of a multiple of 512 bits: RSA 2048, 3072 and 4096.
    if !RSA_BITS.contains(&bits) || !half.is_multiple_of(512) {
        return Err(Error::UnsupportedKeyType(format!(
            "RSA {bits} keys (Marshal takes RSA keys of 2048, 3072 and 4096 bits)"
        )));
    }
    let exponent = rsa.public_exponent.as_bytes();
    if exponent.len() < 3 || (exponent.len() == 3 && exponent < [1, 0, 1].as_slice()) {
        return Err(Error::UnsupportedKeyType(
            "RSA keys with a public exponent below 65537".into(),
        ));
    }
    let inconsistent = || {
        Error::MalformedKey(
            "RSA key: its numbers are not one key pair (p·q ≠ n, or d, dP, dQ or qInv does not fit)"
                .into(),
        )
    };
    let pair = signature::RsaKeyPair::from_der(pkcs1).map_err(|_| inconsistent())?;
    let mut signed = vec![0; pair.public().modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        b"marshal: does this key pair hold together?",
        &mut signed,
    )
    .map_err(|_| inconsistent())
}

fn mismatch(what: &str, secret: &str) -> Error {
    Error::MalformedKey(format!(
        "{what}: the public key stored with it is not the one its {secret} makes"
    ))
}
