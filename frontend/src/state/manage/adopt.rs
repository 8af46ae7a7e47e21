//! Who may do what in the looked-up table: where the certificate is the
//! caller's to change, and where an admin may adopt it (a certificate
//! registered outside Marshal that nobody may change until adopted).

use std::collections::BTreeSet;

use marshal_shared::api::{GetCertificateResponse, GetConfigResponse, TargetCertificate};

use super::Manage;
use crate::state::Remote;

/// The "adopt" form: targets and the owning group to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdoptForm {
    /// Targets where the certificate is present, not managed, and the caller is admin.
    pub targets: BTreeSet<String>,
    /// One of the caller's groups; `None`: the adopting admin alone.
    pub owner_group: Option<String>,
}

/// Whether the caller may change the certificate in this row: it is there,
/// the target answered, and the server says the caller manages it.
pub fn changeable(row: &TargetCertificate) -> bool {
    row.present && row.managed && row.error.is_none()
}

/// Whether an admin may adopt the certificate in this row: it is there,
/// nobody manages it, and the config says the caller administers the target.
pub fn adoptable(row: &TargetCertificate, config: &GetConfigResponse) -> bool {
    row.present
        && !row.managed
        && row.error.is_none()
        && config.targets.iter().any(|t| t.id == row.target && t.admin)
}

impl Manage {
    /// Whether some target has the certificate present but not the caller's
    /// to change: the page then says why and who can adopt it.
    pub fn has_unmanaged(&self) -> bool {
        self.looked_up()
            .is_some_and(|l| l.targets.iter().any(|t| t.present && !t.managed))
    }

    /// Whether any row may be chosen for activate, deactivate, delete or as a source.
    pub fn changeable_anywhere(&self) -> bool {
        self.looked_up()
            .is_some_and(|l| l.targets.iter().any(changeable))
    }

    /// The targets the caller may adopt the certificate in, in table order.
    pub fn adoptable_targets<'a>(
        &'a self,
        config: &Remote<GetConfigResponse>,
    ) -> Vec<&'a TargetCertificate> {
        let (Some(looked_up), Remote::Loaded(config)) = (self.looked_up(), config) else {
            return Vec::new();
        };
        looked_up
            .targets
            .iter()
            .filter(|t| adoptable(t, config))
            .collect()
    }

    pub(super) fn can_adopt(&self, target: &str, config: &Remote<GetConfigResponse>) -> bool {
        self.adoptable_targets(config)
            .iter()
            .any(|t| t.target == target)
    }

    /// The chosen targets still adoptable, in table order.
    pub(super) fn adopt_in_order(
        &self,
        looked_up: &GetCertificateResponse,
        config: &GetConfigResponse,
    ) -> Vec<String> {
        looked_up
            .targets
            .iter()
            .filter(|t| self.adopt.targets.contains(&t.target) && adoptable(t, config))
            .map(|t| t.target.clone())
            .collect()
    }
}
