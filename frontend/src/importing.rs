//! Reading credentials a user brings: one or more files (a certificate and
//! its key side by side, a PKCS#12, a DER `.cer` ...) picked or dropped
//! together, opened with one password. Pure, so it is tested natively; the
//! page runs it on the bytes the browser read.

use std::fmt;

use marshal_shared::{Certificate, Error, OffsetDateTime, PrivateKey};
use marshal_shared::{InputFormat, import};
use zeroize::Zeroizing;

use crate::i18n::Text;
use crate::state::{KeyCheck, Made, Origin};

/// Larger files are not certificates or keys (a PKCS#12 with a long chain
/// is a few KB).
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Files read at once: a certificate, its key, maybe a chain and a spare.
pub const MAX_FILES: usize = 8;
/// What the file picker offers; the content decides, not the name.
pub const ACCEPT: &str = ".pem,.crt,.cer,.der,.p12,.pfx,.key";

/// A file as the browser read it. The bytes may hold a private key: wiped
/// on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PickedFile {
    pub name: String,
    pub bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PickedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickedFile")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Why files could not be imported: which file, a translatable reason and,
/// for parse errors, the reader's own words (English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    pub file: Option<String>,
    pub reason: Text,
    pub detail: Option<String>,
}

impl ImportProblem {
    fn new(file: Option<&str>, reason: Text) -> ImportProblem {
        ImportProblem {
            file: file.map(str::to_owned),
            reason,
            detail: None,
        }
    }

    /// Whether typing (another) password may help.
    pub fn wants_password(&self) -> bool {
        matches!(
            self.reason,
            Text::ImportNeedsPassword | Text::ImportWrongPassword
        )
    }
}

/// Reads `files` together: every certificate and at most one key across
/// them. The device certificate is the one the key belongs to, else the
/// first. A key that matches no certificate is reported, not kept.
pub fn import_files(
    files: &[PickedFile],
    password: &str,
    now: OffsetDateTime,
) -> Result<Made, ImportProblem> {
    if files.is_empty() {
        return Err(ImportProblem::new(None, Text::ImportNothing));
    }
    if files.len() > MAX_FILES {
        return Err(ImportProblem::new(None, Text::ImportTooManyFiles));
    }
    let mut certificates: Vec<Certificate> = Vec::new();
    let mut key: Option<(PrivateKey, &str)> = None;
    let mut formats = Vec::new();
    for file in files {
        let name = file.name.as_str();
        if file.bytes.len() > MAX_FILE_BYTES {
            return Err(ImportProblem::new(Some(name), Text::ImportTooLarge));
        }
        let imported = import(&file.bytes, password).map_err(|e| problem(name, password, e))?;
        formats.push(imported.format);
        certificates.extend(imported.certificates);
        if let Some(found) = imported.private_key {
            if key.is_some() {
                return Err(ImportProblem::new(Some(name), Text::ImportSeveralKeys));
            }
            key = Some((found, name));
        }
    }
    if certificates.is_empty() {
        let reason = if key.is_some() {
            Text::ImportKeyOnly
        } else {
            Text::ImportNoCertificate
        };
        return Err(ImportProblem::new(None, reason));
    }
    let matching = key
        .as_ref()
        .and_then(|(k, _)| certificates.iter().position(|c| k.check_matches(c).is_ok()));
    let (index, private_key, key_check) = match (key, matching) {
        (Some((k, _)), Some(i)) => (i, Some(k), KeyCheck::Matches),
        (Some(_), None) => (0, None, KeyCheck::Mismatch),
        (None, _) => (0, None, KeyCheck::NoKey),
    };
    let certificate = certificates.swap_remove(index);
    let origin = Origin::Imported {
        files: files.iter().map(|f| f.name.clone()).collect(),
        format: formats.first().copied().unwrap_or(InputFormat::Pem),
        key_check,
        other_certificates: certificates.len(),
    };
    Made::new(certificate, private_key, origin, now).map_err(|e| problem("", password, e))
}

fn problem(file: &str, password: &str, error: Error) -> ImportProblem {
    let reason = match &error {
        Error::WrongPassword(_) if password.is_empty() => Text::ImportNeedsPassword,
        Error::WrongPassword(_) => Text::ImportWrongPassword,
        Error::Empty => Text::ImportEmpty,
        Error::SeveralPrivateKeys(_) => Text::ImportSeveralKeys,
        _ => Text::ImportUnreadable,
    };
    let detail = (reason == Text::ImportUnreadable).then(|| error.to_string());
    ImportProblem {
        file: Some(file.to_owned()).filter(|f| !f.is_empty()),
        reason,
        detail,
    }
}

// Native only: reads the shared fixtures.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::test_support::example as fixture;

    const PASSWORD: &str = "marshal-test";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_764_374_400).unwrap()
    }

    fn key_check(made: &Made) -> KeyCheck {
        match &made.origin {
            Origin::Imported { key_check, .. } => *key_check,
            Origin::Generated => panic!("imported credentials say they were generated"),
        }
    }

    #[test]
    fn der_certificate_alone_has_no_key() {
        let made = import_files(&[fixture("p256.cer")], "", now()).unwrap();
        assert!(made.private_key.is_none());
        assert_eq!(key_check(&made), KeyCheck::NoKey);
        assert_eq!(made.info.certificate_id.len(), 64);
    }

    #[test]
    fn pkcs12_files_open_with_their_password_and_match() {
        for (file, password) in [
            ("p256.legacy.p12", ""),
            ("p256.modern.p12", ""),
            ("p256.legacy.pw.p12", PASSWORD),
            ("p256.modern.pw.p12", PASSWORD),
            ("rsa2048.legacy.pfx", ""),
        ] {
            let made = import_files(&[fixture(file)], password, now())
                .unwrap_or_else(|p| panic!("{file}: {p:?}"));
            assert!(made.private_key.is_some(), "{file}");
            assert_eq!(key_check(&made), KeyCheck::Matches, "{file}");
        }
        let der = import_files(&[fixture("p256.cer")], "", now()).unwrap();
        let p12 = import_files(&[fixture("p256.modern.pw.p12")], PASSWORD, now()).unwrap();
        assert_eq!(der.info.certificate_id, p12.info.certificate_id);
    }

    #[test]
    fn a_missing_or_wrong_password_is_named_as_such() {
        let missing = import_files(&[fixture("p256.modern.pw.p12")], "", now()).unwrap_err();
        assert_eq!(missing.reason, Text::ImportNeedsPassword);
        assert!(missing.wants_password());
        assert_eq!(missing.file.as_deref(), Some("p256.modern.pw.p12"));
        let wrong = import_files(&[fixture("p256.legacy.pw.p12")], "nope", now()).unwrap_err();
        assert_eq!(wrong.reason, Text::ImportWrongPassword);
    }

    #[test]
    fn certificate_and_key_files_are_read_together() {
        let made = import_files(
            &[fixture("p256.key.der"), fixture("p256.cert.der")],
            "",
            now(),
        )
        .unwrap();
        assert_eq!(key_check(&made), KeyCheck::Matches);
        let key = made.private_key.as_ref().unwrap();
        key.check_matches(&made.certificate).unwrap();
    }

    #[test]
    fn a_key_of_another_certificate_is_reported_and_dropped() {
        let made = import_files(
            &[fixture("p256.key.der"), fixture("rsa2048.legacy.pfx")],
            "",
            now(),
        );
        // Two keys: refused outright.
        assert_eq!(made.unwrap_err().reason, Text::ImportSeveralKeys);
        let other = crate::generation::GenerateJob {
            id: 1,
            key_type: "ec-p256".to_owned(),
            common_name: "other".to_owned(),
            organization: None,
            organizational_unit: None,
            country: None,
            validity_days: 30,
            now_unix_ms: 1_764_374_400_000.0,
        };
        let crate::generation::GenerateOutcome::Made {
            certificate_pem, ..
        } = other.run()
        else {
            panic!("generation failed");
        };
        let made = import_files(
            &[
                fixture("p256.key.der"),
                PickedFile {
                    name: "other.pem".to_owned(),
                    bytes: Zeroizing::new(certificate_pem.into_bytes()),
                },
            ],
            "",
            now(),
        )
        .unwrap();
        assert_eq!(key_check(&made), KeyCheck::Mismatch);
        assert!(made.private_key.is_none());
    }

    #[test]
    fn bad_input_gets_a_specific_reason() {
        let key_only = import_files(&[fixture("p256.key.der")], "", now()).unwrap_err();
        assert_eq!(key_only.reason, Text::ImportKeyOnly);
        let garbage = PickedFile {
            name: "notes.txt".to_owned(),
            bytes: Zeroizing::new(b"hello, this is not a certificate".to_vec()),
        };
        let unreadable = import_files(&[garbage], "", now()).unwrap_err();
        assert_eq!(unreadable.reason, Text::ImportUnreadable);
        assert_eq!(unreadable.file.as_deref(), Some("notes.txt"));
        assert!(unreadable.detail.is_some());
        let big = PickedFile {
            name: "movie.der".to_owned(),
            bytes: Zeroizing::new(vec![0; MAX_FILE_BYTES + 1]),
        };
        assert_eq!(
            import_files(&[big], "", now()).unwrap_err().reason,
            Text::ImportTooLarge
        );
        let many = vec![fixture("p256.cer"); MAX_FILES + 1];
        assert_eq!(
            import_files(&many, "", now()).unwrap_err().reason,
            Text::ImportTooManyFiles
        );
        assert_eq!(
            import_files(&[], "", now()).unwrap_err().reason,
            Text::ImportNothing
        );
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let file = fixture("p256.key.der");
        let printed = format!("{file:?}");
        assert!(printed.contains("p256.key.der"));
        assert!(!printed.contains(&format!("{:?}", &file.bytes[..8])));
    }
}
