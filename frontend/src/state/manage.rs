//! The "manage" section's state: look a certificate up across the visible
//! targets, then activate, deactivate, delete, copy or move it, each after
//! a confirmation that names what will happen. Pure: the component sends
//! the requests these methods build and dispatches the answers back.

use std::collections::BTreeSet;
use std::rc::Rc;

use marshal_shared::api::{
    GetCertificateResponse, GetConfigResponse, RotateCertificateResponse, TransferMode,
};

use super::{ApiFailure, Made, Remote, is_own_group};

mod adopt;
mod certificate_id;
mod change;
mod file;
mod outcomes;
mod rotate;

pub use adopt::{AdoptForm, adoptable, changeable};
pub use certificate_id::{IdProblem, parse_certificate_id, short_id};
pub use change::{Change, ChangeKind, ChangeRequest, Confirmation, target_info};
pub use file::{FileCertificate, FileProblem, MAX_FILE_BYTES, certificate_id_of_file};
pub use outcomes::{OutcomeDetail, OutcomeRow, Outcomes, Role};
pub use rotate::{
    RotateBlocker, Rotation, RotationFailure, RotationPlan, RotationStep, key_type_of,
    rotate_request, subject_attributes, succeeded,
};

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
    /// Admins: adopting a certificate registered outside Marshal.
    pub adopt: AdoptForm,
    /// The action waiting for the user's confirmation.
    pub pending: Option<ChangeKind>,
    /// The last change sent: in flight, or its outcomes.
    pub change: Option<Change>,
    /// The last rotation. Kept when another certificate is looked up: it
    /// holds the successor's key, which may not be saved yet.
    pub rotation: Option<Rotation>,
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
    /// A target chosen, or no longer, for adoption (only where it may be adopted).
    ToggleAdopt(String),
    /// The group to own what is adopted; `None`: the admin alone. A group
    /// the config does not list is ignored.
    SetAdoptGroup(Option<String>),
    /// An action button: show its confirmation.
    Ask(ChangeKind),
    Cancel,
    /// The confirmed change was sent.
    ChangeSent {
        kind: ChangeKind,
        certificate_id: String,
    },
    ChangeDone(Result<Outcomes, ApiFailure>),
    /// "Rotate" was pressed: the worker makes the successor for `job`.
    RotationStarted {
        old_id: String,
        job: u64,
        targets: Vec<String>,
    },
    /// The worker made it; its certificate is being sent.
    RotationMade {
        job: u64,
        made: Rc<Made>,
    },
    RotationMakingFailed {
        job: u64,
        message: String,
    },
    RotationDone {
        job: u64,
        result: Result<Rc<RotateCertificateResponse>, ApiFailure>,
    },
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

    /// Whether the target may be selected: the certificate is there and
    /// the caller manages it (the server refuses the rest whole).
    fn selectable(&self, target: &str) -> bool {
        self.looked_up().is_some_and(|l| {
            l.targets
                .iter()
                .any(|t| t.target == target && changeable(t))
        })
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
        self.adopt.targets.clear();
        self.pending = None;
    }

    pub(super) fn apply(&mut self, action: ManageAction, config: &Remote<GetConfigResponse>) {
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
                let adopt = std::mem::take(&mut self.adopt.targets);
                self.adopt.targets = adopt
                    .into_iter()
                    .filter(|t| self.can_adopt(t, config))
                    .collect();
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
            ManageAction::ToggleAdopt(target) => {
                if !self.adopt.targets.remove(&target) && self.can_adopt(&target, config) {
                    self.adopt.targets.insert(target);
                }
                self.pending = None;
            }
            ManageAction::SetAdoptGroup(group) => {
                if group.as_ref().is_none_or(|g| is_own_group(config, g)) {
                    self.adopt.owner_group = group;
                }
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
            ManageAction::RotationStarted {
                old_id,
                job,
                targets,
            } => {
                self.pending = None;
                self.rotation = Some(Rotation {
                    old_id,
                    job,
                    targets,
                    step: RotationStep::Making,
                });
            }
            ManageAction::RotationMade { job, made } => {
                if let Some(rotation) = self.rotation_for(job)
                    && rotation.step == RotationStep::Making
                {
                    rotation.step = RotationStep::Sending { made };
                }
            }
            ManageAction::RotationMakingFailed { job, message } => {
                if let Some(rotation) = self.rotation_for(job)
                    && rotation.step == RotationStep::Making
                {
                    rotation.step = RotationStep::Failed {
                        made: None,
                        failure: RotationFailure::Making(message),
                    };
                }
            }
            ManageAction::RotationDone { job, result } => {
                if let Some(rotation) = self.rotation_for(job)
                    && let RotationStep::Sending { made } = &rotation.step
                {
                    let made = made.clone();
                    rotation.step = match result {
                        Ok(response) => RotationStep::Done { made, response },
                        Err(failure) => RotationStep::Failed {
                            made: Some(made),
                            failure: RotationFailure::Api(failure),
                        },
                    };
                }
            }
        }
    }

    /// The rotation `job` belongs to, if it is still the last one.
    fn rotation_for(&mut self, job: u64) -> Option<&mut Rotation> {
        self.rotation.as_mut().filter(|r| r.job == job)
    }
}

// Native only, like the page's other reducer tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
