//! The "manage" section's state: look a certificate up across the visible
//! targets, then activate, deactivate, delete, copy or move it, each after
//! a confirmation that names what will happen. Filled in next.

/// Everything the manage section shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manage {}

/// Every change to [`Manage`].
#[derive(Debug, Clone)]
pub enum ManageAction {}

impl Manage {
    pub(super) fn apply(&mut self, action: ManageAction) {
        match action {}
    }
}
