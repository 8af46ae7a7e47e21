//! The "manage" section's state: look a certificate up across the visible
//! targets, then activate, deactivate, delete, copy or move it, each after
//! a confirmation that names what will happen. Pure: the component sends
//! the requests these methods build and dispatches the answers back.

use std::collections::BTreeSet;
use std::rc::Rc;

use marshal_shared::api::{
    CertificateStatus, DeleteCertificateResponse, GetCertificateResponse, GetConfigResponse,
    RegistrationResult, TargetError, TargetInfo, TargetOutcome, TransferCertificateRequest,
    TransferCertificateResponse, TransferMode, UpdateStatusRequest, UpdateStatusResponse,
};

use super::{ApiFailure, Remote};
use crate::i18n::manage::ManageText;

mod file;

pub use file::{FileCertificate, FileProblem, MAX_FILE_BYTES, certificate_id_of_file};

/// Everything the manage section shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manage {
    /// The certificate ID as typed, or as filled in from a file or the
    /// current credentials.
    pub id_input: String,
    /// Set when "look up" was pressed with an unusable ID: from then on
    /// its problem is shown.
    pub id_attempted: bool,
    /// The last certificate file picked or dropped.
    pub file: FileState,
    /// The canonical ID the look-up table is about.
    pub shown_id: Option<String>,
    /// The look-up whose answer is awaited or shown; answers carrying
    /// another ticket are stale and dropped.
    lookup_ticket: Option<u64>,
    pub lookup: Remote<GetCertificateResponse>,
    /// A fresh look-up of the shown ID runs while the old table stays.
    pub refreshing: bool,
    /// Targets where the certificate is present, chosen for an action.
    pub selected: BTreeSet<String>,
    pub transfer: TransferForm,
    /// The action waiting for the user's confirmation.
    pub pending: Option<ChangeKind>,
    /// The last change sent: in flight, or its outcomes.
    pub change: Option<Change>,
}

/// Where the picked file is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum FileState {
    #[default]
    None,
    Reading {
        ticket: u64,
        name: String,
    },
    Read {
        name: String,
        result: Result<FileCertificate, FileProblem>,
    },
}

/// The "copy or move" form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferForm {
    /// Destinations: targets where the certificate is not registered.
    pub to: BTreeSet<String>,
    /// `None`: the config's first (default) policy.
    pub policy: Option<String>,
    /// Empty: the server uses the certificate's common name.
    pub thing_name: String,
    pub mode: TransferMode,
}

impl Default for TransferForm {
    fn default() -> Self {
        TransferForm {
            to: BTreeSet::new(),
            policy: None,
            thing_name: String::new(),
            mode: TransferMode::Copy,
        }
    }
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Activate,
    Deactivate,
    Delete,
    Transfer(TransferMode),
}

/// A change sent to the API, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub certificate_id: String,
    pub outcome: Remote<Outcomes>,
}

/// Per-target outcomes of a change, whichever call made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// Status and delete: one per target. Transfer: the source's, if it was touched.
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

/// Why the typed certificate ID cannot be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    Empty,
    /// Characters other than hex digits (spaces and colons are allowed).
    NotHex,
    /// Hex, but not 64 digits; the count typed.
    WrongLength(usize),
}

/// The request a confirmed change sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRequest {
    /// `POST /v1/certificates/{id}/status`.
    Status {
        certificate_id: String,
        request: UpdateStatusRequest,
    },
    /// `DELETE /v1/certificates/{id}?targets=a,b`.
    Delete {
        certificate_id: String,
        targets: Vec<String>,
    },
    /// `POST /v1/certificates/{id}/transfer`.
    Transfer {
        certificate_id: String,
        request: TransferCertificateRequest,
    },
}

/// What the confirmation panel says will happen, targets named from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub kind: ChangeKind,
    pub certificate_id: String,
    /// Status and delete: the targets. Transfer: the source.
    pub targets: Vec<TargetInfo>,
    /// Transfer only.
    pub destinations: Vec<TargetInfo>,
    /// Transfer only: the policy to attach.
    pub policy: Option<String>,
    /// Transfer only: the thing name typed (`None`: the common name).
    pub thing_name: Option<String>,
    pub request: ChangeRequest,
}

/// Every change to [`Manage`].
#[derive(Debug, Clone)]
pub enum ManageAction {
    SetId(String),
    /// "Look up" was pressed with an unusable ID.
    LookupRefused,
    /// A look-up of `id` (canonical) was sent. Tickets are unique per
    /// call; the component counts them.
    LookupStarted {
        id: String,
        ticket: u64,
    },
    /// A look-up re-run after a change; kept only if `id` is still shown.
    RefreshStarted {
        id: String,
        ticket: u64,
    },
    LookupDone {
        ticket: u64,
        result: Result<Rc<GetCertificateResponse>, ApiFailure>,
    },
    FileReading {
        ticket: u64,
        name: String,
    },
    FileRead {
        ticket: u64,
        result: Result<FileCertificate, FileProblem>,
    },
    /// A file refused before reading (too large): no ticket needed.
    FileRefused {
        name: String,
        problem: FileProblem,
    },
    ToggleTarget(String),
    ToggleDestination(String),
    SetPolicy(String),
    SetThingName(String),
    SetMode(TransferMode),
    /// An action button: show its confirmation.
    Ask(ChangeKind),
    Cancel,
    /// The confirmed change was sent.
    ChangeSent {
        kind: ChangeKind,
        certificate_id: String,
    },
    ChangeDone(Result<Outcomes, ApiFailure>),
}

/// The canonical certificate ID in `text`, or what is wrong with it.
/// Spaces and colons are dropped, so openssl's `AB:CD:…` form works too.
pub fn parse_certificate_id(text: &str) -> Result<String, IdProblem> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if compact.is_empty() {
        return Err(IdProblem::Empty);
    }
    marshal_shared::validate::certificate_id(&compact).map_err(|_| {
        let hex = compact.strip_prefix("0x").unwrap_or(&compact);
        if hex.chars().all(|c| c.is_ascii_hexdigit()) {
            IdProblem::WrongLength(hex.len())
        } else {
            IdProblem::NotHex
        }
    })
}

/// `3f9a…c21e`: enough to recognise an ID in a sentence.
pub fn short_id(id: &str) -> String {
    match (id.get(..4), id.get(id.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if id.len() > 12 => format!("{head}…{tail}"),
        _ => id.to_owned(),
    }
}

/// The config's entry for `id`; a bare one named by its id when unknown
/// (or while the config is not loaded).
pub fn target_info(config: Option<&GetConfigResponse>, id: &str) -> TargetInfo {
    config
        .and_then(|c| c.targets.iter().find(|t| t.id == id))
        .cloned()
        .unwrap_or_else(|| TargetInfo {
            id: id.to_owned(),
            name: id.to_owned(),
            account_id: String::new(),
            region: String::new(),
        })
}

impl Manage {
    /// The ID "look up" would send, or why it cannot.
    pub fn id_to_look_up(&self) -> Result<String, IdProblem> {
        parse_certificate_id(&self.id_input)
    }

    /// The ID problem worth showing now: only once "look up" was pressed.
    pub fn visible_id_problem(&self) -> Option<IdProblem> {
        self.id_to_look_up().err().filter(|_| self.id_attempted)
    }

    /// The look-up table, when loaded for the shown ID.
    pub fn looked_up(&self) -> Option<&GetCertificateResponse> {
        match &self.lookup {
            Remote::Loaded(response) if self.shown_id.is_some() => Some(response),
            _ => None,
        }
    }

    /// Whether a change is in flight.
    pub fn changing(&self) -> bool {
        self.change
            .as_ref()
            .is_some_and(|c| matches!(c.outcome, Remote::Loading))
    }

    /// Why `kind` cannot be asked for now (None: it can).
    pub fn blocker(
        &self,
        kind: ChangeKind,
        config: &Remote<GetConfigResponse>,
    ) -> Option<ManageText> {
        let Remote::Loaded(config) = config else {
            return Some(ManageText::WaitForTargets);
        };
        let Some(looked_up) = self.looked_up() else {
            return Some(ManageText::LookUpFirst);
        };
        if self.changing() {
            return Some(ManageText::ChangeInFlight);
        }
        if self.refreshing {
            return Some(ManageText::Refreshing);
        }
        let max = config.limits.max_targets_per_request;
        let selected = self.selected_in_order(looked_up);
        match kind {
            ChangeKind::Activate | ChangeKind::Deactivate | ChangeKind::Delete => {
                if selected.is_empty() {
                    return Some(ManageText::SelectTargets);
                }
                if selected.len() > max {
                    return Some(ManageText::TooManyTargets);
                }
            }
            ChangeKind::Transfer(_) => {
                if selected.len() != 1 {
                    return Some(ManageText::SelectOneSource);
                }
                if self.transfer.to.is_empty() {
                    return Some(ManageText::ChooseDestinations);
                }
                if self.transfer.to.len() > max {
                    return Some(ManageText::TooManyTargets);
                }
                if self.transfer_policy(config).is_none() {
                    return Some(ManageText::NoPolicy);
                }
                let thing = self.transfer.thing_name.trim();
                if !thing.is_empty() && marshal_shared::validate::thing_name(thing).is_err() {
                    return Some(ManageText::ThingNameRule);
                }
            }
        }
        None
    }

    /// The policy a transfer attaches: the chosen one if still allowed, else the default.
    pub fn transfer_policy<'c>(&self, config: &'c GetConfigResponse) -> Option<&'c str> {
        let chosen = self
            .transfer
            .policy
            .as_ref()
            .and_then(|p| config.policies.iter().find(|q| &q.name == p));
        chosen.or(config.policies.first()).map(|p| p.name.as_str())
    }

    /// The pending change, spelled out, with the request Confirm sends.
    /// None when nothing is pending or the change is blocked meanwhile.
    pub fn confirmation(&self, config: &Remote<GetConfigResponse>) -> Option<Confirmation> {
        let kind = self.pending?;
        self.prepare(kind, config)
    }

    /// What `kind` would do now, if it may be done.
    pub fn prepare(
        &self,
        kind: ChangeKind,
        config: &Remote<GetConfigResponse>,
    ) -> Option<Confirmation> {
        if self.blocker(kind, config).is_some() {
            return None;
        }
        let Remote::Loaded(config) = config else {
            return None;
        };
        let looked_up = self.looked_up()?;
        let certificate_id = looked_up.certificate_id.clone();
        let selected = self.selected_in_order(looked_up);
        let targets = selected
            .iter()
            .map(|id| target_info(Some(config), id))
            .collect();
        let status_change = |status| ChangeRequest::Status {
            certificate_id: certificate_id.clone(),
            request: UpdateStatusRequest {
                status,
                targets: selected.clone(),
            },
        };
        let (request, destinations, policy, thing_name) = match kind {
            ChangeKind::Activate => (status_change(CertificateStatus::Active), vec![], None, None),
            ChangeKind::Deactivate => (
                status_change(CertificateStatus::Inactive),
                vec![],
                None,
                None,
            ),
            ChangeKind::Delete => (
                ChangeRequest::Delete {
                    certificate_id: certificate_id.clone(),
                    targets: selected.clone(),
                },
                vec![],
                None,
                None,
            ),
            ChangeKind::Transfer(mode) => {
                let to = self.destinations_in_order(looked_up);
                let policy = self.transfer_policy(config)?.to_owned();
                let thing =
                    Some(self.transfer.thing_name.trim().to_owned()).filter(|t| !t.is_empty());
                let request = ChangeRequest::Transfer {
                    certificate_id: certificate_id.clone(),
                    request: TransferCertificateRequest {
                        from: selected.first()?.clone(),
                        to: to.clone(),
                        policy: policy.clone(),
                        thing_name: thing.clone(),
                        mode,
                    },
                };
                let destinations = to.iter().map(|id| target_info(Some(config), id)).collect();
                (request, destinations, Some(policy), thing)
            }
        };
        Some(Confirmation {
            kind,
            certificate_id,
            targets,
            destinations,
            policy,
            thing_name,
            request,
        })
    }

    /// The selected targets, in the look-up's (configuration) order.
    fn selected_in_order(&self, looked_up: &GetCertificateResponse) -> Vec<String> {
        looked_up
            .targets
            .iter()
            .filter(|t| self.selected.contains(&t.target))
            .map(|t| t.target.clone())
            .collect()
    }

    fn destinations_in_order(&self, looked_up: &GetCertificateResponse) -> Vec<String> {
        looked_up
            .targets
            .iter()
            .filter(|t| self.transfer.to.contains(&t.target))
            .map(|t| t.target.clone())
            .collect()
    }

    /// Whether the target may be selected: the certificate is there.
    fn selectable(&self, target: &str) -> bool {
        self.looked_up()
            .is_some_and(|l| l.targets.iter().any(|t| t.target == target && t.present))
    }

    /// Whether the target may be a destination: asked, and not there.
    pub fn can_receive(&self, target: &str) -> bool {
        self.looked_up().is_some_and(|l| {
            l.targets
                .iter()
                .any(|t| t.target == target && !t.present && t.error.is_none())
        })
    }

    /// Forgets the table and everything chosen in it.
    fn forget_lookup(&mut self) {
        self.shown_id = None;
        self.lookup_ticket = None;
        self.lookup = Remote::NotAsked;
        self.refreshing = false;
        self.selected.clear();
        self.transfer.to.clear();
        self.pending = None;
    }

    pub(super) fn apply(&mut self, action: ManageAction) {
        match action {
            ManageAction::SetId(text) => {
                let id = parse_certificate_id(&text).ok();
                if self.shown_id.is_some() && id != self.shown_id {
                    self.forget_lookup();
                }
                if let FileState::Read {
                    result: Ok(file), ..
                } = &self.file
                    && id.as_ref() != Some(&file.certificate_id)
                {
                    self.file = FileState::None;
                }
                self.id_input = text;
            }
            ManageAction::LookupRefused => self.id_attempted = true,
            ManageAction::LookupStarted { id, ticket } => {
                if self.shown_id.as_ref() != Some(&id) {
                    self.forget_lookup();
                    // Outcomes of a change already done are about another certificate now.
                    if !self.changing() {
                        self.change = None;
                    }
                }
                if parse_certificate_id(&self.id_input).as_ref() != Ok(&id) {
                    self.id_input = id.clone();
                }
                self.id_attempted = false;
                self.shown_id = Some(id);
                self.lookup_ticket = Some(ticket);
                self.lookup = Remote::Loading;
                self.refreshing = false;
                self.pending = None;
            }
            ManageAction::RefreshStarted { id, ticket } => {
                if self.shown_id.as_ref() == Some(&id) {
                    self.lookup_ticket = Some(ticket);
                    self.pending = None;
                    match self.lookup {
                        Remote::Loaded(_) => self.refreshing = true,
                        _ => self.lookup = Remote::Loading,
                    }
                }
            }
            ManageAction::LookupDone { ticket, result } => {
                if self.lookup_ticket != Some(ticket) {
                    return; // an answer for an ID no longer shown, or overtaken
                }
                self.refreshing = false;
                self.lookup = match result {
                    Ok(response) => Remote::Loaded(response),
                    Err(failure) => Remote::Failed(failure),
                };
                // Keep only choices the fresh table still allows.
                let selected = std::mem::take(&mut self.selected);
                self.selected = selected
                    .into_iter()
                    .filter(|t| self.selectable(t))
                    .collect();
                let to = std::mem::take(&mut self.transfer.to);
                self.transfer.to = to.into_iter().filter(|t| self.can_receive(t)).collect();
            }
            ManageAction::FileReading { ticket, name } => {
                self.file = FileState::Reading { ticket, name };
            }
            ManageAction::FileRead { ticket, result } => {
                let FileState::Reading {
                    ticket: awaited,
                    name,
                } = &self.file
                else {
                    return;
                };
                if *awaited != ticket {
                    return;
                }
                let name = name.clone();
                self.file = FileState::Read { name, result };
            }
            ManageAction::FileRefused { name, problem } => {
                self.file = FileState::Read {
                    name,
                    result: Err(problem),
                };
            }
            ManageAction::ToggleTarget(target) => {
                if !self.selected.remove(&target) && self.selectable(&target) {
                    self.selected.insert(target);
                }
                self.pending = None;
            }
            ManageAction::ToggleDestination(target) => {
                if !self.transfer.to.remove(&target) && self.can_receive(&target) {
                    self.transfer.to.insert(target);
                }
                self.pending = None;
            }
            ManageAction::SetPolicy(policy) => {
                self.transfer.policy = Some(policy);
                self.pending = None;
            }
            ManageAction::SetThingName(name) => {
                self.transfer.thing_name = name;
                self.pending = None;
            }
            ManageAction::SetMode(mode) => {
                self.transfer.mode = mode;
                self.pending = None;
            }
            ManageAction::Ask(kind) => self.pending = Some(kind),
            ManageAction::Cancel => self.pending = None,
            ManageAction::ChangeSent {
                kind,
                certificate_id,
            } => {
                self.pending = None;
                self.change = Some(Change {
                    kind,
                    certificate_id,
                    outcome: Remote::Loading,
                });
            }
            ManageAction::ChangeDone(result) => {
                if let Some(change) = &mut self.change
                    && matches!(change.outcome, Remote::Loading)
                {
                    change.outcome = match result {
                        Ok(outcomes) => Remote::Loaded(Rc::new(outcomes)),
                        Err(failure) => Remote::Failed(failure),
                    };
                }
            }
        }
    }
}

// Native only, like the page's other reducer tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
