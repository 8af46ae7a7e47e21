//! Who owns what Marshal registered: one record per (registry, certificate)
//! and per (registry, thing), written with compare-and-set, and the rules
//! that decide what a caller may do with them.
//!
//! A registry is an account and region, not a target id: two targets that
//! name the same account and region share their records, so a second
//! target cannot be used to reach around them.
//!
//! The record also carries a lease: a request that changes a certificate or
//! thing holds it until it is done (or until the lease runs out, when a
//! request was cut off), so two requests never interleave on the same pair.

mod lease;

use std::fmt;

use async_trait::async_trait;

pub(crate) use lease::{Held, LeaseClock, TakeError, again_while, unix_ms};

use marshal_shared::api::CertificateStatus;

use crate::{config::Target, identity::Caller};

/// What a record is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnershipKey {
    /// A certificate, by ID.
    Certificate {
        /// Account ID.
        account: String,
        /// Region.
        region: String,
        /// Certificate ID.
        id: String,
    },
    /// A thing, by name.
    Thing {
        /// Account ID.
        account: String,
        /// Region.
        region: String,
        /// Thing name.
        name: String,
    },
}

impl OwnershipKey {
    /// The record of certificate `id` in `target`'s registry.
    pub fn certificate(target: &Target, id: &str) -> OwnershipKey {
        OwnershipKey::Certificate {
            account: target.account_id.clone(),
            region: target.region.clone(),
            id: id.to_owned(),
        }
    }

    /// The record of thing `name` in `target`'s registry.
    pub fn thing(target: &Target, name: &str) -> OwnershipKey {
        OwnershipKey::Thing {
            account: target.account_id.clone(),
            region: target.region.clone(),
            name: name.to_owned(),
        }
    }
}

/// The table's partition key: `cert#<account>#<region>#<id>` or
/// `thing#<account>#<region>#<name>` (none of the parts can hold `#`).
impl fmt::Display for OwnershipKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnershipKey::Certificate {
                account,
                region,
                id,
            } => write!(f, "cert#{account}#{region}#{id}"),
            OwnershipKey::Thing {
                account,
                region,
                name,
            } => write!(f, "thing#{account}#{region}#{name}"),
        }
    }
}

/// How far Marshal got with what the record names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnershipState {
    /// Claimed by a request that has not finished: a later request of the
    /// same owner may complete it (including the status it asked for).
    Claimed,
    /// Registered (or created) and handed over to its owner.
    Registered,
}

impl OwnershipState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnershipState::Claimed => "claimed",
            OwnershipState::Registered => "registered",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(raw: &str) -> Option<OwnershipState> {
        match raw {
            "claimed" => Some(OwnershipState::Claimed),
            "registered" => Some(OwnershipState::Registered),
            _ => None,
        }
    }
}

/// A request working on the record's certificate or thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// A random token of the request holding it.
    pub holder: String,
    /// Unix milliseconds after which it no longer holds.
    pub until_ms: i64,
}

/// One ownership record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// The owner's JWT `sub` (`local` with `auth = "none"`).
    pub owner: String,
    /// The owning group, whose members may manage it too.
    pub group: Option<String>,
    /// How far registration got.
    pub state: OwnershipState,
    /// For a certificate, the thing Marshal attached; for a thing, the
    /// certificate Marshal attached to it.
    pub peer: Option<String>,
    /// For a certificate, the policy Marshal attached.
    pub policy: Option<String>,
    /// The request working on it now, if any.
    pub lease: Option<Lease>,
    /// Unix milliseconds of the last change.
    pub updated_ms: i64,
    /// For a registered certificate, what the inventory shows.
    pub facts: Option<Facts>,
}

/// What the inventory shows of a certificate Marshal registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The target it was registered through (one of those naming this registry).
    pub target: String,
    /// Its `notAfter`, Unix milliseconds.
    pub not_after_ms: i64,
    /// Its status as Marshal last set or saw it.
    pub status: Option<CertificateStatus>,
    /// Who registered it: user name, else JWT `sub`.
    pub registered_by: String,
    /// When, Unix milliseconds.
    pub registered_at_ms: i64,
    /// The certificate a rotation registered to replace it.
    pub successor: Option<String>,
    /// The certificate it was registered to replace.
    pub predecessor: Option<String>,
}

impl Facts {
    /// Where the record sits in its registry's inventory: by `notAfter`,
    /// then ID (13 digits of milliseconds sort as numbers until 2286).
    pub fn position(&self, id: &str) -> String {
        format!("{:013}#{id}", self.not_after_ms.max(0))
    }
}

/// An account and region: the inventory is kept per registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Registry {
    /// Account ID.
    pub account: String,
    /// Region.
    pub region: String,
}

impl Registry {
    /// `target`'s registry.
    pub fn of(target: &Target) -> Registry {
        Registry {
            account: target.account_id.clone(),
            region: target.region.clone(),
        }
    }
}

/// `<account>#<region>`: the inventory index's partition.
impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.account, self.region)
    }
}

/// A certificate in a registry's inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryItem {
    /// Certificate ID.
    pub id: String,
    /// Its record (with facts).
    pub record: Ownership,
    /// Its [`Facts::position`].
    pub position: String,
}

/// One read of a registry's inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventoryPage {
    /// Soonest `notAfter` first.
    pub items: Vec<InventoryItem>,
    /// Whether more may follow the last item.
    pub more: bool,
}

/// Which part of a registry's inventory to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRead<'a> {
    /// The registry.
    pub registry: &'a Registry,
    /// Only after this position.
    pub after: Option<&'a str>,
    /// Only certificates whose `notAfter` is before this (Unix ms).
    pub before_ms: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

impl Ownership {
    /// A new record owned by `owner`, claimed but not yet registered.
    pub fn claimed(owner: &Owner, now_ms: i64) -> Ownership {
        Ownership {
            owner: owner.subject.clone(),
            group: owner.group.clone(),
            state: OwnershipState::Claimed,
            peer: None,
            policy: None,
            lease: None,
            updated_ms: now_ms,
            facts: None,
        }
    }

    /// Whether `caller` owns it, alone or through the owning group.
    pub fn owned_by(&self, caller: &Caller) -> bool {
        self.owner == caller.subject
            || self
                .group
                .as_ref()
                .is_some_and(|g| caller.groups.contains(g))
    }

    /// Whether it belongs to the same owner as `other` (same subject, or the
    /// same owning group).
    pub fn same_owner(&self, other: &Ownership) -> bool {
        self.owner == other.owner || (self.group.is_some() && self.group == other.group)
    }

    /// The owner, to hand on (a transfer's destinations keep the source's).
    pub fn owner(&self) -> Owner {
        Owner {
            subject: self.owner.clone(),
            group: self.group.clone(),
        }
    }
}

/// Who a new record belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// JWT `sub`.
    pub subject: String,
    /// Owning group, one of the subject's groups when chosen.
    pub group: Option<String>,
}

/// What a caller may do with a certificate or thing in a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No record: Marshal did not register it; nobody may change it until
    /// an admin adopts it.
    Unmanaged,
    /// Marshal's, but neither the caller's nor their group's, and the caller
    /// does not administer the target.
    Foreign,
    /// The caller's or their group's.
    Owner,
    /// Someone else's, but the caller administers the target.
    Admin,
}

impl Standing {
    /// The caller's standing towards `record` in `target`.
    pub fn of(caller: &Caller, target: &Target, record: Option<&Ownership>) -> Standing {
        match record {
            None => Standing::Unmanaged,
            Some(r) if r.owned_by(caller) => Standing::Owner,
            Some(_) if caller.is_admin(target) => Standing::Admin,
            Some(_) => Standing::Foreign,
        }
    }

    /// Whether the caller may change it.
    pub fn may_manage(self) -> bool {
        matches!(self, Standing::Owner | Standing::Admin)
    }
}

/// A record with the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The record.
    pub record: Ownership,
    /// Its version: every write names the version it replaces.
    pub version: u64,
}

/// A failure of the ownership store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The record changed since it was read (or exists when it should not).
    #[error("the record changed meanwhile")]
    Conflict,
    /// The store could not be reached or refused the call.
    #[error("ownership store: {0}")]
    Unavailable(String),
}

/// Result of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The ownership records: reads, and writes that succeed only when the
/// record is still at the version the writer read.
#[async_trait]
pub trait OwnershipStore: Send + Sync {
    /// The record under `key`, read consistently.
    async fn get(&self, key: &OwnershipKey) -> StoreResult<Option<Stored>>;
    /// Writes `record` if the stored version is `expected` (`None`: no
    /// record yet); returns the new version.
    async fn put(
        &self,
        key: &OwnershipKey,
        record: &Ownership,
        expected: Option<u64>,
    ) -> StoreResult<u64>;
    /// Deletes the record if it is still at version `expected`.
    async fn delete(&self, key: &OwnershipKey, expected: u64) -> StoreResult<()>;
    /// Registered certificates of one registry, soonest `notAfter` first
    /// (an index kept by the store, eventually consistent).
    async fn inventory(&self, read: &InventoryRead<'_>) -> StoreResult<InventoryPage>;
}

/// Every certificate of `registry` in the inventory (before `before_ms`
/// when given), soonest `notAfter` first, read `batch` at a time.
pub async fn whole_inventory(
    store: &dyn OwnershipStore,
    registry: &Registry,
    before_ms: Option<i64>,
    batch: usize,
) -> StoreResult<Vec<InventoryItem>> {
    let mut items: Vec<InventoryItem> = Vec::new();
    loop {
        let after = items.last().map(|i| i.position.clone());
        let page = store
            .inventory(&InventoryRead {
                registry,
                after: after.as_deref(),
                before_ms,
                limit: batch,
            })
            .await?;
        let done = !page.more || page.items.is_empty();
        items.extend(page.items);
        if done {
            return Ok(items);
        }
    }
}

/// Whether a record belongs in its registry's inventory.
pub fn in_inventory(key: &OwnershipKey, record: &Ownership) -> bool {
    matches!(key, OwnershipKey::Certificate { .. })
        && record.state == OwnershipState::Registered
        && record.facts.is_some()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn target(admins: &[&str]) -> Target {
        Target {
            id: "t".into(),
            name: "T".into(),
            account_id: "111111111111".into(),
            region: "ap-northeast-1".into(),
            role_arn: None,
            external_id: None,
            allowed_groups: None,
            admin_groups: admins.iter().map(|g| (*g).to_owned()).collect(),
            job_calls_per_second: None,
        }
    }

    fn caller(sub: &str, groups: &[&str]) -> Caller {
        Caller {
            subject: sub.into(),
            username: None,
            groups: groups
                .iter()
                .map(|g| (*g).to_owned())
                .collect::<BTreeSet<_>>(),
            unrestricted: false,
            request_id: String::new(),
        }
    }

    fn record(owner: &str, group: Option<&str>) -> Ownership {
        Ownership::claimed(
            &Owner {
                subject: owner.into(),
                group: group.map(str::to_owned),
            },
            0,
        )
    }

    #[test]
    fn standing_table() {
        let t = target(&["admins"]);
        let cases: &[(&str, Caller, Option<Ownership>, Standing)] = &[
            (
                "no record",
                caller("a", &["admins"]),
                None,
                Standing::Unmanaged,
            ),
            (
                "owner",
                caller("a", &[]),
                Some(record("a", None)),
                Standing::Owner,
            ),
            (
                "group member",
                caller("b", &["line-7"]),
                Some(record("a", Some("line-7"))),
                Standing::Owner,
            ),
            (
                "other user",
                caller("b", &["line-8"]),
                Some(record("a", Some("line-7"))),
                Standing::Foreign,
            ),
            (
                "admin",
                caller("c", &["admins"]),
                Some(record("a", None)),
                Standing::Admin,
            ),
            (
                "admin of another target's group name only",
                caller("c", &["admin"]),
                Some(record("a", None)),
                Standing::Foreign,
            ),
            (
                "local caller, no record",
                Caller::local(),
                None,
                Standing::Unmanaged,
            ),
        ];
        for (name, caller, record, want) in cases {
            assert_eq!(Standing::of(caller, &t, record.as_ref()), *want, "{name}");
        }
    }

    #[test]
    fn keys_name_the_registry_not_the_target() {
        let mut a = target(&[]);
        let b = Target {
            id: "other-id".into(),
            ..a.clone()
        };
        assert_eq!(
            OwnershipKey::certificate(&a, "ab").to_string(),
            OwnershipKey::certificate(&b, "ab").to_string()
        );
        assert_eq!(
            OwnershipKey::certificate(&a, "ab").to_string(),
            "cert#111111111111#ap-northeast-1#ab"
        );
        a.region = "us-east-1".into();
        assert_eq!(
            OwnershipKey::thing(&a, "pump-17").to_string(),
            "thing#111111111111#us-east-1#pump-17"
        );
    }
}
