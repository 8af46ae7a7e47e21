//! Writing a modern PKCS#12 file, laid out as OpenSSL 3 writes it: an
//! encrypted certificate bag and a shrouded key bag (both PBES2 with
//! PBKDF2-HMAC-SHA-256 and AES-256-CBC), then an HMAC-SHA-256 MAC.
//! Encoded with `der` from the types in `asn1`.

use der::{
    Decode, Encode, Tag, TagNumber,
    asn1::{Any, AnyRef, OctetStringRef, SetOfVec},
};
use spki::AlgorithmIdentifierRef;
use x509_cert::attr::Attribute;
use zeroize::Zeroizing;

use super::{
    asn1::{
        CertBag, ContentInfo, DigestInfo, EncryptedContentInfo, EncryptedData,
        EncryptedPrivateKeyInfo, MacData, Pfx, SafeBag,
    },
    kdf::{self, Hash},
    oids,
};
use crate::{
    error::{Error, Result},
    pbes2,
};

/// What an encoding failure (a length past 256 MiB, say) is reported as.
fn encoding(e: der::Error) -> Error {
    Error::crypto("PKCS#12 file", e)
}

/// `bagAttributes`: friendlyName and localKeyId, a DER SET OF (sorted by `der`).
fn attributes(friendly_name: &str, local_key_id: &[u8]) -> der::Result<Vec<u8>> {
    let bmp: Vec<u8> = friendly_name
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let attribute = |oid, value: Any| -> der::Result<Attribute> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value])?,
        })
    };
    let attributes = SetOfVec::try_from(vec![
        attribute(oids::FRIENDLY_NAME, Any::new(Tag::BmpString, bmp)?)?,
        attribute(
            oids::LOCAL_KEY_ID,
            Any::new(Tag::OctetString, local_key_id)?,
        )?,
    ])?;
    attributes.to_der()
}

/// A SafeContents of one bag.
fn safe_contents(
    bag_id: der::asn1::ObjectIdentifier,
    value: &[u8],
    attrs: &[u8],
) -> Result<Vec<u8>> {
    let bag = SafeBag {
        bag_id,
        bag_value: AnyRef::from_der(value).map_err(encoding)?,
        bag_attributes: Some(AnyRef::from_der(attrs).map_err(encoding)?),
    };
    vec![bag].to_der().map_err(encoding)
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
    let attrs = attributes(friendly_name, local_key_id.as_ref()).map_err(encoding)?;
    let octets = |bytes| OctetStringRef::new(bytes).map_err(encoding);

    // The certificate, in an encrypted SafeContents.
    let cert_bag = CertBag {
        cert_id: oids::X509_CERTIFICATE,
        cert_value: octets(certificate_der)?.into(),
    }
    .to_der()
    .map_err(encoding)?;
    let cert_safe = safe_contents(oids::CERT_BAG, &cert_bag, &attrs)?;
    let (cert_alg, cert_ct) = pbes2::encrypt(password.as_bytes(), iterations, &cert_safe)?;
    let encrypted_data = EncryptedData {
        version: 0,
        encrypted_content_info: EncryptedContentInfo {
            content_type: oids::DATA,
            content_encryption_algorithm: AlgorithmIdentifierRef::from_der(&cert_alg)
                .map_err(encoding)?,
            encrypted_content: Some(
                AnyRef::new(
                    Tag::ContextSpecific {
                        constructed: false,
                        number: TagNumber(0),
                    },
                    &cert_ct,
                )
                .map_err(encoding)?,
            ),
        },
    }
    .to_der()
    .map_err(encoding)?;
    let cert_info = ContentInfo {
        content_type: oids::ENCRYPTED_DATA,
        content: Some(AnyRef::from_der(&encrypted_data).map_err(encoding)?),
    };

    // The key, shrouded (EncryptedPrivateKeyInfo) in a plain SafeContents.
    let (key_alg, key_ct) = pbes2::encrypt(password.as_bytes(), iterations, pkcs8_der)?;
    let shrouded = EncryptedPrivateKeyInfo {
        encryption_algorithm: AlgorithmIdentifierRef::from_der(&key_alg).map_err(encoding)?,
        encrypted_data: octets(&key_ct)?,
    }
    .to_der()
    .map_err(encoding)?;
    let key_safe = safe_contents(oids::SHROUDED_KEY_BAG, &shrouded, &attrs)?;
    let key_info = ContentInfo {
        content_type: oids::DATA,
        content: Some(octets(&key_safe)?.into()),
    };

    let auth_safe = vec![cert_info, key_info].to_der().map_err(encoding)?;
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
    Pfx {
        version: 3,
        auth_safe: ContentInfo {
            content_type: oids::DATA,
            content: Some(octets(&auth_safe)?.into()),
        },
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierRef {
                    oid: oids::SHA_256,
                    parameters: Some(AnyRef::NULL),
                },
                digest: octets(&mac)?,
            },
            mac_salt: octets(&mac_salt)?,
            iterations: Some(iterations),
        }),
    }
    .to_der()
    .map_err(encoding)
}
