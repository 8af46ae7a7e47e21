//! Reading a PKCS#12 file (RFC 7292): check the MAC, decrypt each safe,
//! collect the certificate and key bags.
//!
//! Safes and bags are walked twice: first to count them and add up the key
//! derivations they announce, then to decrypt and decode. A file that asks
//! for too much is refused before the first derivation runs (see `budget`).

use std::borrow::Cow;

use zeroize::Zeroizing;

use super::{
    Pkcs12Contents, algorithm_name,
    budget::{Budget, Limits},
    cipher::{Password, Scheme},
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
    read_within(der, password, &Limits::IMPORT)
}

pub(super) fn read_within(der: &[u8], password: &str, limits: &Limits) -> Result<Pkcs12Contents> {
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
    let mac = fields
        .optional(ber::SEQUENCE)?
        .map(|mac_data| Mac::parse(&mac_data))
        .transpose()?;

    // The empty password is `00 00` in BMP, but some tools wrote no bytes at all.
    let both = [kdf::bmp_password(Some(password)), kdf::bmp_password(None)];
    let candidates = if password.is_empty() {
        &both[..]
    } else {
        &both[..1]
    };

    // Before any key derivation: the worst case of what the file asks for.
    let one_pass = survey(&auth_safe, limits)?;
    let tries = candidates.len() as u64; // one or two
    let announced = match &mac {
        Some(mac) => mac
            .kdf_rounds()
            .saturating_mul(tries)
            .saturating_add(one_pass),
        None => one_pass.saturating_mul(tries),
    };
    let mut budget = Budget::new(limits);
    budget.afford(announced)?;

    let candidates = match &mac {
        Some(mac) => {
            let mut right = None;
            for bmp in candidates {
                budget.spend(mac.kdf_rounds())?;
                if mac.verifies(bmp, &auth_safe) {
                    right = Some(bmp);
                    break;
                }
            }
            std::slice::from_ref(right.ok_or(Error::WrongPassword("the PKCS#12 file"))?)
        }
        None => candidates,
    };
    let mut last = Error::WrongPassword("the PKCS#12 file");
    for bmp in candidates {
        let password = Password {
            text: password,
            bmp,
            mac_checked: mac.is_some(),
        };
        match read_safes(&auth_safe, &password, limits, &mut budget) {
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

    /// One derivation of a key as long as the hash's output: one block.
    fn kdf_rounds(&self) -> u64 {
        u64::from(self.iterations)
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

/// Counts the safes and the bags of the plain ones, and adds up the key
/// derivations they announce (the encrypted safes' and the shrouded
/// keys'): one pass's worth, without deriving anything.
fn survey(auth_safe: &[u8], limits: &Limits) -> Result<u64> {
    let mut safes = 0;
    let mut bags = 0;
    let mut rounds = 0u64;
    walk_safes(auth_safe, &mut |safe| {
        safes += 1;
        limits.check_safes(safes)?;
        match safe {
            Safe::Plain(contents) => {
                let inside = survey_bags(&contents)?;
                bags += inside.bags;
                rounds = rounds.saturating_add(inside.kdf_rounds);
                limits.check_bags(bags)
            }
            Safe::Encrypted { scheme, .. } => {
                rounds = rounds.saturating_add(scheme.kdf_rounds());
                Ok(())
            }
        }
    })?;
    Ok(rounds)
}

/// What a SafeContents holds, before anything in it is decrypted.
struct Survey {
    bags: usize,
    kdf_rounds: u64,
}

fn survey_bags(contents: &[u8]) -> Result<Survey> {
    let mut survey = Survey {
        bags: 0,
        kdf_rounds: 0,
    };
    walk_bags(contents, &mut |bag| {
        survey.bags += 1;
        if let Bag::Shrouded { scheme, .. } = bag {
            survey.kdf_rounds = survey.kdf_rounds.saturating_add(scheme.kdf_rounds());
        }
        Ok(())
    })?;
    Ok(survey)
}

/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo (plain or password-encrypted).
fn read_safes(
    auth_safe: &[u8],
    password: &Password<'_>,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Pkcs12Contents> {
    let mut found = Found::default();
    walk_safes(auth_safe, &mut |safe| match safe {
        Safe::Plain(contents) => found.take_bags(&contents, password, None, limits, budget),
        Safe::Encrypted { scheme, ciphertext } => {
            budget.spend(scheme.kdf_rounds())?;
            let contents = scheme.decrypt(password, &ciphertext)?;
            // What the safe holds was hidden from `survey`: check it before
            // deriving anything inside. Garbage here means a wrong password
            // (when no MAC said otherwise); going over a limit does not.
            let inside = survey_bags(&contents).map_err(|e| password.blame(e))?;
            limits.check_bags(found.bags + inside.bags)?;
            budget.afford(inside.kdf_rounds)?;
            found.take_bags(&contents, password, Some(password), limits, budget)
        }
    })?;
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
    /// Bags seen so far, for the limit.
    bags: usize,
}

impl Found {
    /// Decrypts and decodes the bags of one SafeContents. `decrypted_with`
    /// is the password that decrypted it: a bag that does not decode is
    /// then blamed on the password.
    fn take_bags(
        &mut self,
        contents: &[u8],
        password: &Password<'_>,
        decrypted_with: Option<&Password<'_>>,
        limits: &Limits,
        budget: &mut Budget,
    ) -> Result<()> {
        let blame = |e| match decrypted_with {
            Some(password) => password.blame(e),
            None => e,
        };
        walk_bags(contents, &mut |bag| {
            self.bags += 1;
            limits.check_bags(self.bags)?;
            match bag {
                Bag::Key(info) => {
                    let der = Zeroizing::new(info.to_tlv());
                    self.keys
                        .push(PrivateKey::from_pkcs8_der(&der).map_err(blame)?);
                }
                Bag::Shrouded { scheme, ciphertext } => {
                    budget.spend(scheme.kdf_rounds())?;
                    let plain = scheme.decrypt(password, &ciphertext)?;
                    let key = PrivateKey::from_pkcs8_der(&plain).map_err(|e| password.blame(e))?;
                    self.keys.push(key);
                }
                Bag::Certificate(der) => self
                    .certificates
                    .push(Certificate::from_der(&der).map_err(blame)?),
                Bag::Contents | Bag::Other => {}
            }
            Ok(())
        })
    }
}

/// One ContentInfo of the authenticated safe, read but not decrypted.
enum Safe<'a> {
    /// `data`: the SafeContents' bytes.
    Plain(Cow<'a, [u8]>),
    /// `encryptedData`: the scheme and the encrypted SafeContents.
    Encrypted {
        scheme: Scheme<'a>,
        ciphertext: Cow<'a, [u8]>,
    },
}

fn walk_safes<'a>(
    auth_safe: &'a [u8],
    visit: &mut dyn FnMut(Safe<'a>) -> Result<()>,
) -> Result<()> {
    let mut outer = Reader::new(auth_safe, "the authenticated safe");
    let mut infos = outer.expect(ber::SEQUENCE, "the list of safes")?.reader();
    while let Some(info) = infos.next_element()? {
        let mut fields = Reader::new(info.content, "a safe");
        let content_type = read_oid(&mut fields, "a safe's content type")?;
        let safe = if content_type == oids::DATA {
            Safe::Plain(explicit_octets(&mut fields, "a safe")?)
        } else if content_type == oids::ENCRYPTED_DATA {
            encrypted_safe(&mut fields)?
        } else {
            return Err(Error::UnsupportedEncryption {
                context: "PKCS#12 file",
                algorithm: format!("a safe of type {}", algorithm_name(content_type)),
            });
        };
        visit(safe)?;
    }
    Ok(())
}

/// `[0] EXPLICIT EncryptedData`: version, then EncryptedContentInfo.
fn encrypted_safe<'a>(fields: &mut Reader<'a>) -> Result<Safe<'a>> {
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
        None => return Err(ber::malformed("an encrypted safe without its content")),
    };
    Ok(Safe::Encrypted {
        scheme: Scheme::read(&algorithm)?,
        ciphertext,
    })
}

/// One SafeBag, read but not decrypted or decoded.
enum Bag<'a> {
    /// keyBag: a PKCS#8 PrivateKeyInfo.
    Key(Element<'a>),
    /// pkcs8ShroudedKeyBag: an EncryptedPrivateKeyInfo's parts.
    Shrouded {
        scheme: Scheme<'a>,
        ciphertext: Cow<'a, [u8]>,
    },
    /// certBag holding an X.509 certificate: its DER.
    Certificate(Cow<'a, [u8]>),
    /// safeContentsBag: the bags inside are walked too.
    Contents,
    /// CRLs, secrets, SDSI certificates: nothing a device needs.
    Other,
}

/// SafeContents ::= SEQUENCE OF SafeBag { bagId, [0] bagValue, bagAttributes OPTIONAL }
fn walk_bags<'a>(contents: &'a [u8], visit: &mut dyn FnMut(Bag<'a>) -> Result<()>) -> Result<()> {
    let mut outer = Reader::new(contents, "a safe");
    let bags = outer.expect(ber::SEQUENCE, "the bags of a safe")?;
    walk_bag_list(bags.reader(), 0, visit)
}

fn walk_bag_list<'a>(
    mut bags: Reader<'a>,
    depth: usize,
    visit: &mut dyn FnMut(Bag<'a>) -> Result<()>,
) -> Result<()> {
    if depth > MAX_NESTED_SAFES {
        return Err(ber::malformed("safes nested too deeply"));
    }
    while let Some(bag) = bags.next_element()? {
        let mut fields = Reader::new(bag.content, "a bag");
        let bag_id = read_oid(&mut fields, "a bag's type")?;
        let value = fields.expect(ber::CONTEXT_0, "a bag's value")?;
        let Some(value) = value.reader().next_element()? else {
            return Err(ber::malformed("an empty bag"));
        };
        match bag_id {
            id if id == oids::KEY_BAG => visit(Bag::Key(value))?,
            id if id == oids::SHROUDED_KEY_BAG => {
                let mut info = value.reader();
                let algorithm = info.expect(ber::SEQUENCE, "the key's encryption algorithm")?;
                let ciphertext = info
                    .expect(ber::OCTET_STRING, "the encrypted key")?
                    .octets()?;
                visit(Bag::Shrouded {
                    scheme: Scheme::read(&algorithm)?,
                    ciphertext,
                })?;
            }
            id if id == oids::CERT_BAG => {
                let mut cert_bag = value.reader();
                let cert_type = read_oid(&mut cert_bag, "a certificate's type")?;
                // SDSI certificates (the other type RFC 7292 names) are not X.509: skipped.
                if cert_type == oids::X509_CERTIFICATE {
                    visit(Bag::Certificate(explicit_octets(
                        &mut cert_bag,
                        "a certificate",
                    )?))?;
                } else {
                    visit(Bag::Other)?;
                }
            }
            id if id == oids::SAFE_CONTENTS_BAG => {
                if value.tag != ber::SEQUENCE {
                    return Err(ber::malformed("a safeContentsBag that is not a SEQUENCE"));
                }
                visit(Bag::Contents)?;
                walk_bag_list(value.reader(), depth + 1, visit)?;
            }
            _ => visit(Bag::Other)?,
        }
    }
    Ok(())
}

/// `[0] EXPLICIT OCTET STRING`, the bytes joined when the string is constructed.
fn explicit_octets<'a>(fields: &mut Reader<'a>, name: &str) -> Result<Cow<'a, [u8]>> {
    let wrapper = fields.expect(ber::CONTEXT_0, name)?;
    match wrapper.reader().next_element()? {
        Some(octets) => octets.octets(),
        None => Err(ber::malformed(format!("{name} is empty"))),
    }
}
