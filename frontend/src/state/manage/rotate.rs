//! Rotation: a successor for the looked-up certificate, made in the page's
//! worker with the old one's subject and key type, registered where the old
//! one is the caller's (make before break: the old one stays ACTIVE); then,
//! as a separate confirmed change, the old one retired. The new private key
//! stays in this state (zeroised on drop) and goes only to a download.

use std::rc::Rc;

use marshal_shared::api::{
    GetConfigResponse, RegistrationResult, RotateCertificateRequest, RotateCertificateResponse,
};
use marshal_shared::{
    Certificate, CertificateRequest, Curve, KeyAlgorithm, KeyType, MAX_VALIDITY_DAYS,
};

use super::{Manage, changeable};
use crate::generation::GenerateJob;
use crate::state::{ApiFailure, Made, Remote};

/// A rotation of the shown certificate, from the click on "rotate" on.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    /// The certificate replaced.
    pub old_id: String,
    /// The worker job making the successor; answers for others are dropped.
    pub job: u64,
    /// Where the successor is registered (where the old one is yours).
    pub targets: Vec<String>,
    pub step: RotationStep,
}

/// Where a rotation is.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationStep {
    /// The worker makes the key and certificate.
    Making,
    /// The successor's certificate (only) is on its way to the API.
    Sending { made: Rc<Made> },
    /// The API answered (some targets may have failed).
    Done {
        made: Rc<Made>,
        response: Rc<RotateCertificateResponse>,
    },
    /// No key could be made, or the API refused the whole request.
    Failed {
        made: Option<Rc<Made>>,
        failure: RotationFailure,
    },
}

/// Why a rotation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationFailure {
    /// The worker could not make the key or certificate.
    Making(String),
    Api(ApiFailure),
}

/// Why "rotate" cannot be pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateBlocker {
    WaitForTargets,
    Busy,
    /// The certificate is nowhere the caller's.
    NotYours,
    TooManyTargets,
    /// The look-up carried no certificate PEM (an older server).
    NoPem,
    /// The PEM the server sent is not readable, or is another certificate.
    Unreadable,
    /// A key type the page cannot make (the algorithm, in words).
    KeyType(String),
    /// The subject cannot be made again (no CN, a field too long, ...).
    Subject(String),
}

/// What "rotate" will make and where it will register it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPlan {
    pub old_id: String,
    pub targets: Vec<String>,
    pub key_type: KeyType,
    /// CN, O, OU and C of the old certificate, and its validity length.
    pub request: CertificateRequest,
    /// Subject attributes the page cannot carry over (`L`, `ST`, a second `OU`, ...).
    pub dropped: Vec<String>,
}

impl RotationPlan {
    /// The worker's job for this plan.
    pub fn job(&self, id: u64, now_unix_ms: f64) -> GenerateJob {
        GenerateJob {
            id,
            key_type: self.key_type.as_str().to_owned(),
            common_name: self.request.common_name.clone(),
            organization: self.request.organization.clone(),
            organizational_unit: self.request.organizational_unit.clone(),
            country: self.request.country.clone(),
            validity_days: self.request.validity_days,
            now_unix_ms,
        }
    }
}

/// The body of `POST /v1/certificates/{id}/rotate`: the new certificate's
/// PEM and the targets; never its key.
pub fn rotate_request(made: &Made, targets: &[String]) -> RotateCertificateRequest {
    RotateCertificateRequest {
        certificate_pem: made.certificate.to_pem(),
        targets: Some(targets.to_vec()),
    }
}

/// The key type that makes a key like `algorithm`.
pub fn key_type_of(algorithm: &KeyAlgorithm) -> Option<KeyType> {
    match algorithm {
        KeyAlgorithm::Ec { curve: Curve::P256 } => Some(KeyType::EcP256),
        KeyAlgorithm::Ec { curve: Curve::P384 } => Some(KeyType::EcP384),
        KeyAlgorithm::Rsa { bits: 2048 } => Some(KeyType::Rsa2048),
        KeyAlgorithm::Rsa { bits: 3072 } => Some(KeyType::Rsa3072),
        KeyAlgorithm::Rsa { bits: 4096 } => Some(KeyType::Rsa4096),
        _ => None,
    }
}

/// The subject's attributes, `(name, value)`, from its RFC 4514 text
/// (as `shared` prints it: `\` before specials, `\xx` for control bytes),
/// in the order written.
pub fn subject_attributes(rfc4514: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut name, mut value) = (String::new(), String::new());
    let mut in_value = false;
    let mut chars = rfc4514.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else { break };
                // `\xx`: a byte in hex; else the character itself.
                let hex = next
                    .to_digit(16)
                    .zip(chars.peek().and_then(|p| p.to_digit(16)));
                let target = if in_value { &mut value } else { &mut name };
                match hex {
                    Some((hi, lo)) => {
                        chars.next();
                        // Only control bytes are printed this way: ASCII.
                        target.push(char::from((hi * 16 + lo) as u8));
                    }
                    _ => target.push(next),
                }
            }
            '=' if !in_value => in_value = true,
            ',' | '+' => {
                out.push((std::mem::take(&mut name), std::mem::take(&mut value)));
                in_value = false;
            }
            c if in_value => value.push(c),
            c => name.push(c),
        }
    }
    if !name.is_empty() {
        out.push((name, value));
    }
    out
}

impl Manage {
    /// What "rotate" would do for the shown certificate, or why it cannot.
    pub fn rotation_plan(
        &self,
        config: &Remote<GetConfigResponse>,
    ) -> Result<RotationPlan, RotateBlocker> {
        let Remote::Loaded(config) = config else {
            return Err(RotateBlocker::WaitForTargets);
        };
        let Some(looked_up) = self.looked_up() else {
            return Err(RotateBlocker::WaitForTargets);
        };
        if self.changing() || self.refreshing || self.rotating() {
            return Err(RotateBlocker::Busy);
        }
        let mine: Vec<_> = looked_up.targets.iter().filter(|t| changeable(t)).collect();
        if mine.is_empty() {
            return Err(RotateBlocker::NotYours);
        }
        if mine.len() > config.limits.max_targets_per_request {
            return Err(RotateBlocker::TooManyTargets);
        }
        let pem = mine
            .iter()
            .find_map(|t| t.certificate_pem.as_deref())
            .ok_or(RotateBlocker::NoPem)?;
        let old = Certificate::from_pem(pem).map_err(|_| RotateBlocker::Unreadable)?;
        if old.id() != looked_up.certificate_id {
            return Err(RotateBlocker::Unreadable);
        }
        let algorithm = old.key_algorithm().map_err(|_| RotateBlocker::Unreadable)?;
        let key_type =
            key_type_of(&algorithm).ok_or_else(|| RotateBlocker::KeyType(algorithm.to_string()))?;
        let info = old.info().map_err(|_| RotateBlocker::Unreadable)?;
        let (request, dropped) = successor_request(&old, &info.subject);
        request
            .validate()
            .map_err(|e| RotateBlocker::Subject(e.to_string()))?;
        Ok(RotationPlan {
            old_id: looked_up.certificate_id.clone(),
            targets: mine.iter().map(|t| t.target.clone()).collect(),
            key_type,
            request,
            dropped,
        })
    }

    /// Whether a rotation is making its key or waiting for the API.
    pub fn rotating(&self) -> bool {
        self.rotation
            .as_ref()
            .is_some_and(|r| matches!(r.step, RotationStep::Making | RotationStep::Sending { .. }))
    }

    /// The targets where the shown certificate's successor was registered:
    /// where "retire" may take the old one away.
    pub fn retire_targets(&self) -> Vec<String> {
        let Some(rotation) = &self.rotation else {
            return Vec::new();
        };
        let RotationStep::Done { response, .. } = &rotation.step else {
            return Vec::new();
        };
        if self.shown_id.as_ref() != Some(&rotation.old_id) {
            return Vec::new();
        }
        succeeded(&response.results)
            .map(|r| r.target.clone())
            .collect()
    }
}

/// The rows of a rotation that registered the successor.
pub fn succeeded(results: &[RegistrationResult]) -> impl Iterator<Item = &RegistrationResult> {
    results
        .iter()
        .filter(|r| r.error.is_none() && r.registration.is_some())
}

/// The successor's request: the old CN, first O, OU and C, and as many
/// days of validity as the old one had; what else the subject held, by name.
fn successor_request(old: &Certificate, subject: &str) -> (CertificateRequest, Vec<String>) {
    let mut request = CertificateRequest::new(old.common_name().unwrap_or_default());
    let mut dropped = Vec::new();
    let mut seen_cn = false;
    for (name, value) in subject_attributes(subject) {
        let slot = match name.as_str() {
            "CN" if !seen_cn => {
                seen_cn = true;
                continue;
            }
            "O" => &mut request.organization,
            "OU" => &mut request.organizational_unit,
            "C" => &mut request.country,
            _ => {
                dropped.push(name);
                continue;
            }
        };
        if slot.is_some() {
            dropped.push(name);
        } else {
            *slot = Some(value);
        }
    }
    let (not_before, not_after) = old.validity();
    let days = (not_after - not_before).whole_days();
    request.validity_days = u32::try_from(days.clamp(1, i64::from(MAX_VALIDITY_DAYS)))
        .unwrap_or(marshal_shared::DEFAULT_VALIDITY_DAYS);
    (request, dropped)
}

// Native only, like the page's other reducer tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
