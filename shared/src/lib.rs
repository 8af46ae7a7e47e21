//! Marshal's pure core: device keys and self-signed certificates, import and
//! export (PEM, DER, PKCS#8, SEC1, PKCS#1, PKCS#12), fingerprints (the AWS IoT
//! certificate ID), AWS IoT preflight checks, name validation and
//! least-privilege policy templates.
//!
//! This crate does no I/O and reads no clock: callers pass bytes and `now`
//! in and get values out. It builds for native targets and for
//! `wasm32-unknown-unknown`, where the page runs it.

mod algorithm;
mod amazon_root_ca;
pub mod api;
// Less of it is used as each module moves onto `der` (issue 13), which
// removes the file at its end.
#[allow(dead_code)]
mod certificate;
pub mod debug_text;
mod error;
mod fingerprint;
mod generate;
mod import;
mod key;
mod key_material;
mod name;
mod pbes2;
pub mod pem;
pub mod pkcs12;
pub mod policy;
pub mod preflight;
pub mod validate;

pub use algorithm::{Curve, Digest, KeyAlgorithm, SignatureAlgorithm};
pub use amazon_root_ca::AMAZON_ROOT_CA_1_PEM;
pub use certificate::{Certificate, CertificateInfo};
pub use error::{Error, Result};
pub use fingerprint::{Fingerprints, certificate_id, colon_form, sha256};
pub use generate::{
    CertificateRequest, Credentials, DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, SERIAL_BYTES, csr,
    generate, generate_ec, generate_rsa_pkcs8, self_signed,
};
pub use import::{Imported, InputFormat, import};
pub use key::{KeyType, PrivateKey};
pub use key_material::{KeyMaterial, find_key_material};
pub use time::OffsetDateTime;
