//! Reading a PKCS#12 file (RFC 7292): check the MAC, decrypt each safe,
//! collect the certificate and key bags.

use zeroize::Zeroizing;

use super::{
    Pkcs12Contents, algorithm_name,
    cipher::{self, Password},
    kdf::{self, Hash},
    oids,
};
use crate::{
    ber::{self, Element, Reader},
    certificate::Certificate,
    error::{Error, Result},
    key::PrivateKey,
    pbes2::{check_iterations, read_oid},
};

/// Safes inside safes (safeContentsBag) deeper than this are refused.
const MAX_NESTED_SAFES: usize = 4;

pub(super) fn read(der: &[u8], password: &str) -> Result<Pkcs12Contents> {
    let mut file = Reader::new(der, "the PKCS#12 file");
    let pfx = file.expect(ber::SEQUENCE, "the PFX")?;
    if !file.is_empty() {
        return Err(ber::malformed("bytes after the end of the PFX"));
    }
    let mut fields = Reader::new(pfx.content, "the PFX");
    let version = fields.expect(ber::INTEGER, "the version")?.small_uint()?;
    if version != 3 {
        return Err(ber::malformed(format!("version {version}, expected 3")));
    }
    let auth_safe = fields.expect(ber::SEQUENCE, "the authenticated safe")?;
    let mut content_info = Reader::new(auth_safe.content, "the authenticated safe");
    let content_type = read_oid(&mut content_info, "the content type")?;
    if content_type != oids::DATA {
        return Err(Error::UnsupportedEncryption {
            context: "PKCS#12 file",
            algorithm: format!(
                "integrity by {} (public-key signatures) instead of a password MAC",
                algorithm_name(content_type)
            ),
        });
    }
    let auth_safe = explicit_octets(&mut content_info, "the authenticated safe")?;
    let mac_data = fields.optional(ber::SEQUENCE)?;

    // The empty password is `00 00` in BMP, but some tools wrote no bytes at all.
    let both = [kdf::bmp_password(Some(password)), kdf::bmp_password(None)];
    let candidates = if password.is_empty() {
        &both[..]
    } else {
        &both[..1]
    };
    let mac_checked = mac_data.is_some();
    let candidates = match mac_data {
        Some(mac_data) => {
            let mac = Mac::parse(&mac_data)?;
            let right = candidates
                .iter()
                .find(|bmp| mac.verifies(bmp, &auth_safe))
                .ok_or(Error::WrongPassword("the PKCS#12 file"))?;
            std::slice::from_ref(right)
        }
        None => candidates,
    };
    let mut last = Error::WrongPassword("the PKCS#12 file");
    for bmp in candidates {
        let password = Password {
            text: password,
            bmp,
            mac_checked,
        };
        match read_safes(&auth_safe, &password) {
            Err(e @ Error::WrongPassword(_)) => last = e,
            other => return other,
        }
    }
    Err(last)
}

/// MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
struct Mac {
    hash: Hash,
    digest: Vec<u8>,
    salt: Vec<u8>,
    iterations: u32,
}

impl Mac {
    fn parse(mac_data: &Element<'_>) -> Result<Mac> {
        let mut fields = Reader::new(mac_data.content, "the MAC");
        let mut digest_info = fields.expect(ber::SEQUENCE, "the digest")?.reader();
        let mut algorithm = digest_info
            .expect(ber::SEQUENCE, "the MAC algorithm")?
            .reader();
        let oid = read_oid(&mut algorithm, "the MAC algorithm")?;
        let hash = Hash::from_oid(oid).ok_or_else(|| Error::UnsupportedEncryption {
            context: "PKCS#12 file",
            algorithm: algorithm_name(oid),
        })?;
        let digest = digest_info.expect(ber::OCTET_STRING, "the MAC")?.octets()?;
        let salt = fields.expect(ber::OCTET_STRING, "the MAC salt")?.octets()?;
        let iterations = match fields.optional(ber::INTEGER)? {
            Some(n) => n.small_uint()?,
            None => 1,
        };
        check_iterations(iterations)?;
        Ok(Mac {
            hash,
            digest: digest.into_owned(),
            salt: salt.into_owned(),
            iterations,
        })
    }

    fn verifies(&self, bmp: &[u8], data: &[u8]) -> bool {
        kdf::verify_mac(
            self.hash,
            bmp,
            &self.salt,
            self.iterations,
            data,
            &self.digest,
        )
    }
}

/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo (plain or password-encrypted).
fn read_safes(auth_safe: &[u8], password: &Password<'_>) -> Result<Pkcs12Contents> {
    let mut found = Found::default();
    let mut outer = Reader::new(auth_safe, "the authenticated safe");
    let mut infos = outer.expect(ber::SEQUENCE, "the list of safes")?.reader();
    while let Some(info) = infos.next_element()? {
        let mut fields = Reader::new(info.content, "a safe");
        let content_type = read_oid(&mut fields, "a safe's content type")?;
        if content_type == oids::DATA {
            let safe = explicit_octets(&mut fields, "a safe")?;
            read_bags(&safe, password, 0, &mut found)?;
        } else if content_type == oids::ENCRYPTED_DATA {
            let safe = decrypt_safe(&mut fields, password)?;
            read_bags(&safe, password, 0, &mut found).map_err(|e| password.blame(e))?;
        } else {
            return Err(Error::UnsupportedEncryption {
                context: "PKCS#12 file",
                algorithm: format!("a safe of type {}", algorithm_name(content_type)),
            });
        }
    }
    let private_key = match found.keys.len() {
        0 => None,
        1 => found.keys.pop(),
        n => return Err(Error::SeveralPrivateKeys(n)),
    };
    Ok(Pkcs12Contents {
        certificates: found.certificates,
        private_key,
    })
}

#[derive(Default)]
struct Found {
    certificates: Vec<Certificate>,
    keys: Vec<PrivateKey>,
}

/// `[0] EXPLICIT EncryptedData`: version, then EncryptedContentInfo.
fn decrypt_safe(fields: &mut Reader<'_>, password: &Password<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let wrapper = fields.expect(ber::CONTEXT_0, "an encrypted safe")?;
    let mut encrypted_data = wrapper
        .reader()
        .expect(ber::SEQUENCE, "EncryptedData")?
        .reader();
    encrypted_data.expect(ber::INTEGER, "EncryptedData's version")?;
    let mut info = encrypted_data
        .expect(ber::SEQUENCE, "EncryptedContentInfo")?
        .reader();
    read_oid(&mut info, "EncryptedContentInfo's content type")?;
    let algorithm = info.expect(ber::SEQUENCE, "the encryption algorithm")?;
    let ciphertext = match info.next_element()? {
        Some(e) => e.octets()?,
        None => return Ok(Zeroizing::new(Vec::new())),
    };
    cipher::decrypt(&algorithm, password, &ciphertext)
}

/// SafeContents ::= SEQUENCE OF SafeBag { bagId, [0] bagValue, bagAttributes OPTIONAL }
fn read_bags(safe: &[u8], password: &Password<'_>, depth: usize, found: &mut Found) -> Result<()> {
    if depth > MAX_NESTED_SAFES {
        return Err(ber::malformed("safes nested too deeply"));
    }
    let mut outer = Reader::new(safe, "a safe");
    let mut bags = outer.expect(ber::SEQUENCE, "the bags of a safe")?.reader();
    while let Some(bag) = bags.next_element()? {
        let mut fields = Reader::new(bag.content, "a bag");
        let bag_id = read_oid(&mut fields, "a bag's type")?;
        let value = fields.expect(ber::CONTEXT_0, "a bag's value")?;
        let Some(value) = value.reader().next_element()? else {
            return Err(ber::malformed("an empty bag"));
        };
        match bag_id {
            id if id == oids::KEY_BAG => {
                found
                    .keys
                    .push(PrivateKey::from_pkcs8_der(&Zeroizing::new(value.to_tlv()))?);
            }
            id if id == oids::SHROUDED_KEY_BAG => {
                let mut info = value.reader();
                let algorithm = info.expect(ber::SEQUENCE, "the key's encryption algorithm")?;
                let ciphertext = info
                    .expect(ber::OCTET_STRING, "the encrypted key")?
                    .octets()?;
                let plain = cipher::decrypt(&algorithm, password, &ciphertext)?;
                let key = PrivateKey::from_pkcs8_der(&plain).map_err(|e| password.blame(e))?;
                found.keys.push(key);
            }
            id if id == oids::CERT_BAG => {
                let mut cert_bag = value.reader();
                let cert_type = read_oid(&mut cert_bag, "a certificate's type")?;
                // SDSI certificates (the other type RFC 7292 names) are not X.509: skipped.
                if cert_type == oids::X509_CERTIFICATE {
                    let der = explicit_octets(&mut cert_bag, "a certificate")?;
                    found.certificates.push(Certificate::from_der(&der)?);
                }
            }
            id if id == oids::SAFE_CONTENTS_BAG => {
                read_bags(&value.to_tlv(), password, depth + 1, found)?;
            }
            // CRLs and secrets carry nothing a device needs.
            _ => {}
        }
    }
    Ok(())
}

/// `[0] EXPLICIT OCTET STRING`, the bytes joined when the string is constructed.
fn explicit_octets<'a>(fields: &mut Reader<'a>, name: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
    let wrapper = fields.expect(ber::CONTEXT_0, name)?;
    match wrapper.reader().next_element()? {
        Some(octets) => octets.octets(),
        None => Err(ber::malformed(format!("{name} is empty"))),
    }
}
