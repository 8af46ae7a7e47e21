//! The changes the section makes: why one is blocked, what its
//! confirmation names, and the request Confirm sends.

use marshal_shared::api::{
    AdoptRequest, CertificateStatus, GetCertificateResponse, GetConfigResponse,
    RetireCertificateRequest, TargetInfo, TransferCertificateRequest, TransferMode,
    UpdateStatusRequest,
};

use super::{Manage, Outcomes};
use crate::i18n::manage::ManageText;
use crate::state::Remote;

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Activate,
    Deactivate,
    Delete,
    Transfer(TransferMode),
    /// Admins: record an owner for a certificate registered outside Marshal.
    Adopt,
    /// After a rotation: deactivate and delete the old certificate where
    /// its successor was registered.
    Retire,
}

/// A change sent to the API, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub certificate_id: String,
    pub outcome: Remote<Outcomes>,
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
    /// `POST /v1/certificates/{id}/adopt`.
    Adopt {
        certificate_id: String,
        request: AdoptRequest,
    },
    /// `POST /v1/certificates/{id}/retire`.
    Retire {
        certificate_id: String,
        request: RetireCertificateRequest,
    },
}

/// What the confirmation panel says will happen, targets named from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub kind: ChangeKind,
    pub certificate_id: String,
    /// Status, delete and adopt: the targets. Transfer: the source.
    pub targets: Vec<TargetInfo>,
    /// Transfer only.
    pub destinations: Vec<TargetInfo>,
    /// Transfer only: the policy to attach.
    pub policy: Option<String>,
    /// Transfer only: the thing name typed (`None`: the common name).
    pub thing_name: Option<String>,
    /// Adopt only: the group to own it besides the admin.
    pub owner_group: Option<String>,
    pub request: ChangeRequest,
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
            admin: false,
        })
}

impl Manage {
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
            ChangeKind::Adopt => {
                let chosen = self.adopt_in_order(looked_up, config);
                if chosen.is_empty() {
                    return Some(ManageText::SelectAdoptTargets);
                }
                if chosen.len() > max {
                    return Some(ManageText::TooManyTargets);
                }
            }
            _ if !self.changeable_anywhere() && looked_up.targets.iter().any(|t| t.present) => {
                return Some(ManageText::NoneYours);
            }
            ChangeKind::Retire => {
                let targets = self.retire_targets();
                if targets.is_empty() {
                    return Some(ManageText::RotateFirst);
                }
                if targets.len() > max {
                    return Some(ManageText::TooManyTargets);
                }
            }
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
        // Adopt has its own choice of targets: those nobody manages yet.
        let selected = match kind {
            ChangeKind::Adopt => self.adopt_in_order(looked_up, config),
            ChangeKind::Retire => self.retire_targets(),
            _ => self.selected_in_order(looked_up),
        };
        let targets = selected
            .iter()
            .map(|id| target_info(Some(config), id))
            .collect();
        let owner_group = match kind {
            ChangeKind::Adopt => self
                .adopt
                .owner_group
                .clone()
                .filter(|g| config.groups.contains(g)),
            _ => None,
        };
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
            ChangeKind::Adopt => (
                ChangeRequest::Adopt {
                    certificate_id: certificate_id.clone(),
                    request: AdoptRequest {
                        targets: selected.clone(),
                        owner_group: owner_group.clone(),
                    },
                },
                vec![],
                None,
                None,
            ),
            ChangeKind::Retire => (
                ChangeRequest::Retire {
                    certificate_id: certificate_id.clone(),
                    request: RetireCertificateRequest {
                        targets: Some(selected.clone()),
                    },
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
            owner_group,
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
}
