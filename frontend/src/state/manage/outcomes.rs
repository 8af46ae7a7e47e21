//! What a change did in each target, whichever call made it, as the
//! outcomes table lists it.

use marshal_shared::api::{
    AdoptCertificateResponse, CertificateStatus, DeleteCertificateResponse, RegistrationResult,
    RetireCertificateResponse, TargetError, TargetOutcome, TransferCertificateResponse,
    TransferMode, UpdateStatusResponse,
};

use super::ChangeKind;

/// Per-target outcomes of a change, whichever call made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// Status, delete and adopt: one per target. Transfer: the source's, if it was touched.
    pub results: Vec<TargetOutcome>,
    /// Transfer only: one per destination.
    pub destinations: Vec<RegistrationResult>,
}

impl From<UpdateStatusResponse> for Outcomes {
    fn from(response: UpdateStatusResponse) -> Self {
        Outcomes {
            results: response.results,
            destinations: Vec::new(),
        }
    }
}

impl From<DeleteCertificateResponse> for Outcomes {
    fn from(response: DeleteCertificateResponse) -> Self {
        Outcomes {
            results: response.results,
            destinations: Vec::new(),
        }
    }
}

impl From<AdoptCertificateResponse> for Outcomes {
    fn from(response: AdoptCertificateResponse) -> Self {
        Outcomes {
            results: response.results,
            destinations: Vec::new(),
        }
    }
}

impl From<RetireCertificateResponse> for Outcomes {
    fn from(response: RetireCertificateResponse) -> Self {
        Outcomes {
            results: response.results,
            destinations: Vec::new(),
        }
    }
}

impl From<TransferCertificateResponse> for Outcomes {
    fn from(response: TransferCertificateResponse) -> Self {
        Outcomes {
            results: response.source.into_iter().collect(),
            destinations: response.destinations,
        }
    }
}

/// One line of the outcomes table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub target: String,
    /// For transfers: whether the line is about the source or a destination.
    pub role: Option<Role>,
    pub ok: bool,
    pub status: Option<CertificateStatus>,
    pub detail: OutcomeDetail,
}

/// A target's part in a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Source,
    Destination,
}

/// What happened in one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeDetail {
    /// The server's words ("deleted", "was not registered", ...).
    Said(String),
    /// Registered at a destination (or found there already).
    Registered {
        newly: bool,
        policy: String,
        thing: String,
    },
    Failed(TargetError),
}

impl Outcomes {
    /// The table's lines: destinations first (made before the source is
    /// broken), then the other results.
    pub fn rows(&self, kind: ChangeKind) -> Vec<OutcomeRow> {
        let transfer = matches!(kind, ChangeKind::Transfer(_));
        let destinations = self.destinations.iter().map(|d| OutcomeRow {
            target: d.target.clone(),
            role: Some(Role::Destination),
            ok: d.error.is_none(),
            status: d.registration.as_ref().map(|r| r.status),
            detail: match (&d.registration, &d.error) {
                (_, Some(error)) => OutcomeDetail::Failed(error.clone()),
                (Some(r), None) => OutcomeDetail::Registered {
                    newly: r.newly_registered,
                    policy: r.policy.clone(),
                    thing: r.thing.clone(),
                },
                (None, None) => OutcomeDetail::Said(String::new()),
            },
        });
        let results = self.results.iter().map(|r| OutcomeRow {
            target: r.target.clone(),
            role: transfer.then_some(Role::Source),
            ok: r.ok,
            status: r.status,
            detail: match &r.error {
                Some(error) if !r.ok => OutcomeDetail::Failed(error.clone()),
                _ => OutcomeDetail::Said(r.detail.clone()),
            },
        });
        destinations.chain(results).collect()
    }

    /// (succeeded, failed) lines.
    pub fn counts(&self, kind: ChangeKind) -> (usize, usize) {
        let rows = self.rows(kind);
        let ok = rows.iter().filter(|r| r.ok).count();
        (ok, rows.len() - ok)
    }

    /// A move whose source was not touched: a destination failed, so the
    /// server kept the certificate where it was (make before break).
    pub fn source_kept(&self, kind: ChangeKind) -> bool {
        matches!(
            kind,
            ChangeKind::Transfer(TransferMode::MoveDeactivate | TransferMode::MoveDelete)
        ) && self.results.is_empty()
    }
}
