//! What Marshal remembers: the ledger's events, the inventory built from
//! them, drift against AWS, and make-before-break rotation.

use serde::{Deserialize, Serialize};

use super::{CertificateStatus, RegistrationResult, TargetErrorCode, TargetOutcome};

/// A change Marshal makes, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerAction {
    /// Registered (or found already registered) in a target.
    Register,
    /// Status changed.
    SetStatus,
    /// Deleted from a target.
    Delete,
    /// Copied or moved to other targets.
    Transfer,
    /// Brought under Marshal by a target admin.
    Adopt,
    /// Registered as the successor of another certificate.
    Rotate,
    /// Deactivated and deleted after its successor took over.
    Retire,
    /// The inventory was brought in line with what AWS holds.
    Reconcile,
    /// An action this build does not know (a newer one wrote it).
    #[serde(other)]
    Other,
}

impl LedgerAction {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerAction::Register => "register",
            LedgerAction::SetStatus => "set_status",
            LedgerAction::Delete => "delete",
            LedgerAction::Transfer => "transfer",
            LedgerAction::Adopt => "adopt",
            LedgerAction::Rotate => "rotate",
            LedgerAction::Retire => "retire",
            LedgerAction::Reconcile => "reconcile",
            LedgerAction::Other => "other",
        }
    }
}

/// Whether an event announces a change or tells how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPhase {
    /// Written before the AWS calls: a request cut off leaves this alone.
    Intent,
    /// Written after them, with how it ended.
    Outcome,
}

/// One immutable ledger event about one certificate in one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEvent {
    /// The certificate.
    pub certificate_id: String,
    /// Target id at the time of the event.
    pub target: String,
    /// What was done.
    pub action: LedgerAction,
    /// Intent or outcome.
    pub phase: EventPhase,
    /// For an outcome: whether it succeeded (or had nothing to do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// For a failed outcome: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<TargetErrorCode>,
    /// What happened, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The caller's JWT `sub` (`local` with `auth = "none"`).
    pub subject: String,
    /// The caller's user name, when the token has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The API request that did it.
    pub request_id: String,
    /// When, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The thing concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing: Option<String>,
    /// The policy concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The certificate's `notAfter`, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Its status afterwards, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
    /// The other certificate of a rotation (the successor, or the one replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// `GET /v1/certificates/{id}/history`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateHistoryResponse {
    /// The certificate.
    pub certificate_id: String,
    /// Its events in targets the caller may see and manage.
    pub events: Vec<LedgerEvent>,
}

/// One certificate in one target, as Marshal last left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEntry {
    /// The certificate.
    pub certificate_id: String,
    /// Target id.
    pub target: String,
    /// Status as Marshal last set or saw it (`marshal reconcile` finds drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
    /// `notAfter`, RFC 3339 UTC.
    pub not_after: String,
    /// Whether the caller manages it; when false, the fields below are not shown.
    pub managed: bool,
    /// Its thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing: Option<String>,
    /// Its policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Who registered it: user name, else JWT `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<String>,
    /// When, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<String>,
    /// The owning group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
    /// The certificate that replaces it (after a rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
}

/// `GET /v1/certificates?target=&thing=&expiresBefore=&registeredBy=&cursor=&limit=`:
/// soonest `notAfter` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryResponse {
    /// One page.
    pub entries: Vec<InventoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST /v1/certificates/{id}/rotate`: register a successor wherever the
/// certificate `{id}` is, with its policy and thing, leaving `{id}` ACTIVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateCertificateRequest {
    /// The new certificate, PEM. Never a private key.
    pub certificate_pem: String,
    /// Target ids; absent: every target the caller may see where Marshal
    /// registered `{id}` for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

/// `POST /v1/certificates/{id}/rotate` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateCertificateResponse {
    /// The certificate replaced.
    pub certificate_id: String,
    /// Its successor.
    pub new_certificate_id: String,
    /// The successor in each target (`index` is 0); a failed target was rolled back.
    pub results: Vec<RegistrationResult>,
}

/// `POST /v1/certificates/{id}/retire`: deactivate and delete `{id}` where
/// its successor is registered and ACTIVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetireCertificateRequest {
    /// Target ids; absent: every target where Marshal rotated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

/// `POST /v1/certificates/{id}/retire` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetireCertificateResponse {
    /// The certificate retired.
    pub certificate_id: String,
    /// One per target.
    pub results: Vec<TargetOutcome>,
}

/// `POST /v1/reconcile` (target admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReconcileRequest {
    /// Target ids.
    pub targets: Vec<String>,
    /// Bring the inventory in line with AWS (recorded in the ledger);
    /// default false: report only. AWS is never changed.
    #[serde(default)]
    pub apply: bool,
}

/// A difference between the ledger and AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Marshal registered it; it is gone from AWS.
    DeletedOutside,
    /// Its status in AWS is not the one Marshal set.
    StatusChanged,
    /// Policies or things were attached or detached outside Marshal.
    AttachmentsChanged,
    /// In AWS, but Marshal never registered it.
    RegisteredOutside,
    /// Marshal registered it before it kept an inventory: `apply` adds it.
    NotInInventory,
    /// A kind this build does not know.
    #[serde(other)]
    Other,
}

/// One drift finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The certificate.
    pub certificate_id: String,
    /// What differs.
    pub kind: DriftKind,
    /// In words: what the ledger says and what AWS says.
    pub detail: String,
    /// Whether `apply` brought the inventory in line.
    #[serde(default)]
    pub applied: bool,
}

/// The drift of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetDrift {
    /// Target id.
    pub target: String,
    /// Certificates compared (Marshal's and AWS's together).
    pub checked: usize,
    /// Differences; empty when the ledger and AWS agree.
    pub drift: Vec<Drift>,
    /// The target could not be compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<super::TargetError>,
}

/// `POST /v1/reconcile` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileResponse {
    /// One per requested target.
    pub targets: Vec<TargetDrift>,
}
