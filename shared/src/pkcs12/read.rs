//! Reading a PKCS#12 file (RFC 7292): check the MAC, decrypt each safe,
//! collect the certificate and key bags.
//!
//! Each layer (the PFX, the authenticated safe, each SafeContents) is
//! re-framed as DER by `ber_to_der` and decoded with `der` (`asn1`).
//! Safes and bags are read before anything is derived: first to count
//! them and add up the key derivations they announce, then to decrypt and
//! decode. A file that asks for too much is refused before the first
//! derivation runs (see `budget`).

use std::borrow::Cow;

use der::{Decode, Encode, asn1::AnyRef};
use zeroize::Zeroizing;

use super::{
    Pkcs12Contents, algorithm_name,
    asn1::{
        self, CertBag, ContentInfo, EncryptedData, EncryptedPrivateKeyInfo, MacData, Pfx, SafeBag,
        der_error,
    },
    ber_to_der::to_der,
    budget::{Budget, Limits},
    cipher::{Password, Scheme},
    kdf::{self, Hash},
    oids,
};
use crate::{
    certificate::Certificate,
    error::{Error, Result},
    key::PrivateKey,
    pbes2::check_iterations,
};

/// Safes inside safes (safeContentsBag) deeper than this are refused.
const MAX_NESTED_SAFES: usize = 4;

pub(super) fn read(der: &[u8], password: &str) -> Result<Pkcs12Contents> {
    read_within(der, password, &Limits::IMPORT)
}

pub(super) fn read_within(der: &[u8], password: &str, limits: &Limits) -> Result<Pkcs12Contents> {
    let pfx = to_der(der, "the PFX")?;
    let pfx = Pfx::from_der(&pfx).map_err(der_error("the PFX"))?;
    if pfx.version != 3 {
        return Err(Error::MalformedPkcs12(format!(
            "version {}, expected 3",
            pfx.version
        )));
    }
    if pfx.auth_safe.content_type != oids::DATA {
        return Err(Error::UnsupportedEncryption {
            context: "PKCS#12 file",
            algorithm: format!(
                "integrity by {} (public-key signatures) instead of a password MAC",
                algorithm_name(pfx.auth_safe.content_type)
            ),
        });
    }
    // The MAC is over these bytes as written; what they hold is re-framed.
    let auth_safe = asn1::data_octets(&pfx.auth_safe, "the authenticated safe")?;
    let mac = pfx.mac_data.map(Mac::new).transpose()?;
    let auth_safe_der = to_der(auth_safe, "the authenticated safe")?;
    let safes = read_safe_list(&auth_safe_der, limits)?;

    // The empty password is `00 00` in BMP, but some tools wrote no bytes at all.
    let both = [kdf::bmp_password(Some(password)), kdf::bmp_password(None)];
    let candidates = if password.is_empty() {
        &both[..]
    } else {
        &both[..1]
    };

    // Before any key derivation: the worst case of what the file asks for.
    let one_pass = survey(&safes, limits)?;
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
                if mac.verifies(bmp, auth_safe) {
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
        match read_safes(&safes, &password, limits, &mut budget) {
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
    fn new(mac_data: MacData<'_>) -> Result<Mac> {
        let oid = mac_data.mac.algorithm.oid;
        let hash = Hash::from_oid(oid).ok_or_else(|| Error::UnsupportedEncryption {
            context: "PKCS#12 file",
            algorithm: algorithm_name(oid),
        })?;
        let iterations = mac_data.iterations.unwrap_or(1);
        check_iterations(iterations)?;
        Ok(Mac {
            hash,
            digest: mac_data.mac.digest.as_bytes().to_vec(),
            salt: mac_data.mac_salt.as_bytes().to_vec(),
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

/// Adds up the key derivations the safes announce (the encrypted safes'
/// and the shrouded keys in plain ones) and counts the bags of the plain
/// ones: one pass's worth, without deriving anything.
fn survey(safes: &[Safe<'_>], limits: &Limits) -> Result<u64> {
    let mut bags = 0;
    let mut rounds = 0u64;
    for safe in safes {
        match safe {
            Safe::Plain(contents) => {
                let inside = survey_bags(contents)?;
                bags += inside.bags;
                rounds = rounds.saturating_add(inside.kdf_rounds);
                limits.check_bags(bags)?;
            }
            Safe::Encrypted { scheme, .. } => rounds = rounds.saturating_add(scheme.kdf_rounds()),
        }
    }
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

/// Decrypts and reads the safes' bags.
fn read_safes(
    safes: &[Safe<'_>],
    password: &Password<'_>,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Pkcs12Contents> {
    let mut found = Found::default();
    for safe in safes {
        match safe {
            Safe::Plain(contents) => found.take_bags(contents, password, None, limits, budget)?,
            Safe::Encrypted { scheme, ciphertext } => {
                budget.spend(scheme.kdf_rounds())?;
                let plain = scheme.decrypt(password, ciphertext)?;
                // What the safe holds was hidden from `survey`: check it before
                // deriving anything inside. Garbage here means a wrong password
                // (when no MAC said otherwise); going over a limit does not.
                let contents = Zeroizing::new(
                    to_der(&plain, "a decrypted safe").map_err(|e| password.blame(e))?,
                );
                let inside = survey_bags(&contents).map_err(|e| password.blame(e))?;
                limits.check_bags(found.bags + inside.bags)?;
                budget.afford(inside.kdf_rounds)?;
                found.take_bags(&contents, password, Some(password), limits, budget)?;
            }
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
                    let der = Zeroizing::new(
                        info.to_der()
                            .map_err(|e| Error::crypto("PKCS#8 key from a key bag", e))?,
                    );
                    self.keys
                        .push(PrivateKey::from_pkcs8_der(&der).map_err(blame)?);
                }
                Bag::Shrouded { scheme, ciphertext } => {
                    budget.spend(scheme.kdf_rounds())?;
                    let plain = scheme.decrypt(password, ciphertext)?;
                    let key = PrivateKey::from_pkcs8_der(&plain).map_err(|e| password.blame(e))?;
                    self.keys.push(key);
                }
                Bag::Certificate(der) => self
                    .certificates
                    .push(Certificate::from_der(der).map_err(blame)?),
                Bag::Contents | Bag::Other => {}
            }
            Ok(())
        })
    }
}

/// One ContentInfo of the authenticated safe, read but not decrypted.
enum Safe<'a> {
    /// `data`: the SafeContents, re-framed as DER.
    Plain(Vec<u8>),
    /// `encryptedData`: the scheme and the encrypted SafeContents.
    Encrypted {
        scheme: Scheme,
        ciphertext: Cow<'a, [u8]>,
    },
}

/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo (plain or password-encrypted).
fn read_safe_list<'a>(auth_safe: &'a [u8], limits: &Limits) -> Result<Vec<Safe<'a>>> {
    let what = "the list of safes";
    let list = AnyRef::from_der(auth_safe).map_err(der_error(what))?;
    let mut safes = Vec::new();
    asn1::each(list, what, &mut |info: ContentInfo<'a>| {
        limits.check_safes(safes.len() + 1)?;
        let safe = if info.content_type == oids::DATA {
            Safe::Plain(to_der(asn1::data_octets(&info, "a safe")?, "a safe")?)
        } else if info.content_type == oids::ENCRYPTED_DATA {
            encrypted_safe(&info)?
        } else {
            return Err(Error::UnsupportedEncryption {
                context: "PKCS#12 file",
                algorithm: format!("a safe of type {}", algorithm_name(info.content_type)),
            });
        };
        safes.push(safe);
        Ok(())
    })?;
    Ok(safes)
}

/// `[0] EXPLICIT EncryptedData`: version, then EncryptedContentInfo.
fn encrypted_safe<'a>(info: &ContentInfo<'a>) -> Result<Safe<'a>> {
    let what = "an encrypted safe";
    let content = info
        .content
        .ok_or_else(|| Error::MalformedPkcs12(format!("{what} is empty")))?;
    let encrypted = asn1::decode_as::<EncryptedData<'a>>(content, what)?.encrypted_content_info;
    let ciphertext = encrypted
        .encrypted_content
        .ok_or_else(|| Error::MalformedPkcs12("an encrypted safe without its content".into()))?;
    Ok(Safe::Encrypted {
        scheme: Scheme::read(encrypted.content_encryption_algorithm)?,
        ciphertext: asn1::implicit_octets(ciphertext, what)?,
    })
}

/// One SafeBag, read but not decrypted or decoded.
enum Bag<'a> {
    /// keyBag: a PKCS#8 PrivateKeyInfo.
    Key(AnyRef<'a>),
    /// pkcs8ShroudedKeyBag: an EncryptedPrivateKeyInfo's parts.
    Shrouded {
        scheme: Scheme,
        ciphertext: &'a [u8],
    },
    /// certBag holding an X.509 certificate: its DER.
    Certificate(&'a [u8]),
    /// safeContentsBag: the bags inside are walked too.
    Contents,
    /// CRLs, secrets, SDSI certificates: nothing a device needs.
    Other,
}

/// SafeContents ::= SEQUENCE OF SafeBag, in DER.
fn walk_bags<'a>(contents: &'a [u8], visit: &mut dyn FnMut(Bag<'a>) -> Result<()>) -> Result<()> {
    let what = "the bags of a safe";
    let bags = AnyRef::from_der(contents).map_err(der_error(what))?;
    walk_bag_list(bags, 0, visit)
}

fn walk_bag_list<'a>(
    bags: AnyRef<'a>,
    depth: usize,
    visit: &mut dyn FnMut(Bag<'a>) -> Result<()>,
) -> Result<()> {
    if depth > MAX_NESTED_SAFES {
        return Err(Error::MalformedPkcs12("safes nested too deeply".into()));
    }
    asn1::each(bags, "the bags of a safe", &mut |bag: SafeBag<'a>| {
        let value = bag.bag_value;
        match bag.bag_id {
            id if id == oids::KEY_BAG => visit(Bag::Key(value)),
            id if id == oids::SHROUDED_KEY_BAG => {
                let info: EncryptedPrivateKeyInfo<'a> = asn1::decode_as(value, "a shrouded key")?;
                visit(Bag::Shrouded {
                    scheme: Scheme::read(info.encryption_algorithm)?,
                    ciphertext: info.encrypted_data.as_bytes(),
                })
            }
            id if id == oids::CERT_BAG => {
                let cert_bag: CertBag<'a> = asn1::decode_as(value, "a certificate bag")?;
                // SDSI certificates (the other type RFC 7292 names) are not X.509: skipped.
                if cert_bag.cert_id == oids::X509_CERTIFICATE {
                    let der: &der::asn1::OctetStringRef =
                        asn1::decode_as(cert_bag.cert_value, "a certificate")?;
                    visit(Bag::Certificate(der.as_bytes()))
                } else {
                    visit(Bag::Other)
                }
            }
            id if id == oids::SAFE_CONTENTS_BAG => {
                visit(Bag::Contents)?;
                walk_bag_list(value, depth + 1, visit)
            }
            _ => visit(Bag::Other),
        }
    })
}
