//! The inventory (what Marshal registered, soonest expiry first, page by
//! page) and a certificate's history, both limited to the caller's targets
//! and to what the caller manages.
//!
//! The inventory is kept per registry (account and region) by the ownership
//! store's index; a page merges the registries the caller may see, and its
//! cursor says how far each one was read.

use std::collections::{BTreeMap, VecDeque};

use futures::future::join_all;
use marshal_shared::api::{
    CertificateHistoryResponse, ErrorCode, InventoryEntry, InventoryResponse,
};

use super::{
    Service,
    ledger::timestamp_ms,
    ownership::{InventoryItem, InventoryRead, OwnershipKey, OwnershipState, Registry},
};
use crate::{config::Target, error::ApiError, identity::Caller};

/// The longest `target`, `thing` or `registeredBy` filter, in characters.
pub const MAX_FILTER: usize = 256;

/// The most entries one page holds (and the default).
pub const MAX_PAGE: usize = 100;

/// The most certificates one page looks at before it answers with a cursor,
/// so a filter that matches little still answers promptly.
const MAX_EXAMINED: usize = 5_000;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct InventoryQuery {
    /// Only this target.
    pub target: Option<String>,
    /// Only certificates attached to this thing.
    pub thing: Option<String>,
    /// Only certificates whose `notAfter` is before this (Unix ms).
    pub expires_before_ms: Option<i64>,
    /// Only those registered by this user name or JWT `sub`.
    pub registered_by: Option<String>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// At most this many entries (1 to [`MAX_PAGE`]).
    pub limit: usize,
}

/// One registry being read.
struct Lane<'a> {
    registry: Registry,
    /// The caller's targets naming it, in configuration order.
    targets: Vec<&'a Target>,
    /// The last position handed out (where the next page starts).
    consumed: Option<String>,
    /// The last position read from the store.
    fetched: Option<String>,
    buffer: VecDeque<InventoryItem>,
    more: bool,
}

/// How many entries a read takes when a registrant filter may pass over
/// most of them (a DynamoDB page of these stays well under 1 MB).
const FILTERED_BATCH: usize = 1_000;

/// The most certificates followed back from a thing's record.
const MAX_CHAIN: usize = 16;

/// Marks a registry read to its end in a cursor.
const DONE: &str = "~";

impl Service {
    /// `GET /v1/certificates`.
    pub async fn inventory(
        &self,
        caller: &Caller,
        query: &InventoryQuery,
    ) -> Result<InventoryResponse, ApiError> {
        let targets: Vec<&Target> = match &query.target {
            Some(id) => {
                let resolved = self.resolve_targets(caller, std::slice::from_ref(id))?;
                self.config
                    .targets
                    .iter()
                    .filter(|t| resolved.iter().any(|r| r.id == t.id))
                    .collect()
            }
            None => self.visible_targets(caller),
        };
        let cursor = match &query.cursor {
            Some(raw) => decode_cursor(raw)?,
            None => BTreeMap::new(),
        };
        let mut lanes: Vec<Lane<'_>> = Vec::new();
        for target in targets {
            let registry = Registry::of(target);
            if let Some(lane) = lanes.iter_mut().find(|l| l.registry == registry) {
                lane.targets.push(target);
                continue;
            }
            let start = cursor.get(&registry.to_string()).cloned();
            let more = start.as_deref() != Some(DONE);
            lanes.push(Lane {
                registry,
                targets: vec![target],
                consumed: start.clone(),
                fetched: start,
                buffer: VecDeque::new(),
                more,
            });
        }
        let limit = query.limit.clamp(1, MAX_PAGE);
        if let Some(thing) = &query.thing {
            return self.by_thing(caller, &lanes, query, thing, limit).await;
        }
        // A filter on details may pass over many entries: read more at once.
        let batch = if query.registered_by.is_some() {
            FILTERED_BATCH
        } else {
            limit
        };
        let mut entries = Vec::new();
        let mut examined = 0;
        while entries.len() < limit && examined < MAX_EXAMINED {
            self.refill(&mut lanes, query.expires_before_ms, batch)
                .await?;
            let Some(lane) = lanes
                .iter_mut()
                .filter(|l| !l.buffer.is_empty())
                .min_by(|a, b| a.buffer[0].position.cmp(&b.buffer[0].position))
            else {
                break;
            };
            let Some(item) = lane.buffer.pop_front() else {
                break;
            };
            examined += 1;
            lane.consumed = Some(item.position.clone());
            if let Some(entry) = entry_for(caller, &lane.targets, query, &item) {
                entries.push(entry);
            }
        }
        let next_cursor = lanes
            .iter()
            .any(|l| !l.buffer.is_empty() || l.more)
            .then(|| encode_cursor(&lanes));
        Ok(InventoryResponse {
            entries,
            next_cursor,
        })
    }

    /// The inventory of one thing, from its record: the certificate Marshal
    /// attached last, then each one it replaced while still on the thing
    /// (a rotation not yet retired). A few reads per registry, one page.
    async fn by_thing(
        &self,
        caller: &Caller,
        lanes: &[Lane<'_>],
        query: &InventoryQuery,
        thing: &str,
        limit: usize,
    ) -> Result<InventoryResponse, ApiError> {
        let mut found = Vec::new();
        for lane in lanes {
            let Some(target) = lane.targets.first() else {
                continue;
            };
            let record = self
                .ownership
                .get(&OwnershipKey::thing(target, thing))
                .await
                .map_err(unreadable)?;
            let mut next = record.and_then(|s| s.record.peer);
            // A chain of rotations on one thing is short; the bound only
            // guards against a loop in damaged records.
            for _ in 0..MAX_CHAIN {
                let Some(id) = next.take() else { break };
                let Some(stored) = self
                    .ownership
                    .get(&OwnershipKey::certificate(target, &id))
                    .await
                    .map_err(unreadable)?
                else {
                    break;
                };
                let record = stored.record;
                if record.peer.as_deref() != Some(thing)
                    || record.state != OwnershipState::Registered
                {
                    break;
                }
                let Some(facts) = record.facts.clone() else {
                    break;
                };
                next = facts.predecessor.clone();
                if query
                    .expires_before_ms
                    .is_some_and(|before| facts.not_after_ms >= before)
                {
                    continue;
                }
                let item = InventoryItem {
                    position: facts.position(&id),
                    id,
                    record,
                };
                if let Some(entry) = entry_for(caller, &lane.targets, query, &item) {
                    found.push((item.position, entry));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.truncate(limit);
        Ok(InventoryResponse {
            entries: found.into_iter().map(|(_, e)| e).collect(),
            next_cursor: None,
        })
    }

    /// Reads on where a lane's buffer is empty and the store has more: all
    /// such lanes side by side.
    async fn refill(
        &self,
        lanes: &mut [Lane<'_>],
        before_ms: Option<i64>,
        limit: usize,
    ) -> Result<(), ApiError> {
        let reads = lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.buffer.is_empty() && l.more)
            .map(|(i, l)| async move {
                let read = InventoryRead {
                    registry: &l.registry,
                    after: l.fetched.as_deref(),
                    before_ms,
                    limit,
                };
                (i, self.ownership.inventory(&read).await)
            });
        for (i, page) in join_all(reads).await {
            let page = page.map_err(unreadable)?;
            let lane = &mut lanes[i];
            lane.more = page.more && !page.items.is_empty();
            if let Some(last) = page.items.last() {
                lane.fetched = Some(last.position.clone());
            }
            lane.buffer.extend(page.items);
        }
        Ok(())
    }

    /// `GET /v1/certificates/{id}/history`: the events in targets the caller
    /// may use, of what they or their group owned, or anything in a target
    /// they administer. None at all is an empty list, not 404: the answer
    /// does not tell whether others have events.
    pub async fn history(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<CertificateHistoryResponse, ApiError> {
        let events = self.ledger.history(id).await.map_err(|e| {
            tracing::error!(error = %e, "ledger not read");
            ApiError::new(
                ErrorCode::InternalError,
                "the ledger could not be read; try again",
            )
        })?;
        let events = events
            .into_iter()
            .filter(|r| {
                let Some(target) = self.config.targets.iter().find(|t| t.id == r.event.target)
                else {
                    return false;
                };
                caller.may_use(target)
                    && (r.owner == caller.subject
                        || r.owner_group
                            .as_ref()
                            .is_some_and(|g| caller.groups.contains(g))
                        || caller.is_admin(target))
            })
            .map(|r| r.event)
            .collect();
        Ok(CertificateHistoryResponse {
            certificate_id: id.to_owned(),
            events,
        })
    }
}

/// The answer when the ownership store cannot be read (logged in full).
fn unreadable(e: super::ownership::StoreError) -> ApiError {
    tracing::error!(error = %e, "inventory not read");
    ApiError::new(
        ErrorCode::InternalError,
        "the inventory could not be read from the ownership records; try again",
    )
}

/// The entry `caller` sees of `item`, or `None` when the query's filters
/// leave it out. Thing and registrant filters match only what the caller
/// manages: filtering must not reveal what the entry does not show.
fn entry_for(
    caller: &Caller,
    targets: &[&Target],
    query: &InventoryQuery,
    item: &InventoryItem,
) -> Option<InventoryEntry> {
    let record = &item.record;
    let facts = record.facts.as_ref()?;
    let target = targets
        .iter()
        .find(|t| t.id == facts.target)
        .or_else(|| targets.first())?;
    let managed = record.owned_by(caller) || targets.iter().any(|t| caller.is_admin(t));
    if query.thing.is_some() || query.registered_by.is_some() {
        if !managed {
            return None;
        }
        if query
            .thing
            .as_ref()
            .is_some_and(|t| record.peer.as_ref() != Some(t))
        {
            return None;
        }
        if query
            .registered_by
            .as_ref()
            .is_some_and(|who| &facts.registered_by != who && &record.owner != who)
        {
            return None;
        }
    }
    let shown = |value: Option<String>| if managed { value } else { None };
    Some(InventoryEntry {
        certificate_id: item.id.clone(),
        target: target.id.clone(),
        status: facts.status,
        not_after: timestamp_ms(facts.not_after_ms),
        managed,
        thing: shown(record.peer.clone()),
        policy: shown(record.policy.clone()),
        registered_by: shown(Some(facts.registered_by.clone())),
        registered_at: shown(Some(timestamp_ms(facts.registered_at_ms))),
        owner_group: shown(record.group.clone()),
        successor: shown(facts.successor.clone()),
    })
}

/// A cursor: `<account>_<region>_<position>` per registry, joined by `.`,
/// where a position is `<13 digits of notAfter ms>-<certificate ID>` or
/// `end`. Every string of that form is a starting point (a registry the
/// caller may not see is ignored, every entry is checked again), so the
/// OpenAPI pattern ([`CURSOR_PATTERN`]) says exactly what is accepted.
fn encode_cursor(lanes: &[Lane<'_>]) -> String {
    lanes
        .iter()
        .filter_map(|l| {
            let position = if l.buffer.is_empty() && !l.more {
                "end".to_owned()
            } else {
                l.consumed.as_ref()?.replacen('#', "-", 1)
            };
            Some(format!(
                "{}_{}_{position}",
                l.registry.account, l.registry.region
            ))
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What a cursor looks like (at most 64 registries).
pub const CURSOR_PATTERN: &str = "^[0-9]{12}_[a-z0-9-]{1,32}_([0-9]{13}-[0-9a-f]{64}|end)(\\.[0-9]{12}_[a-z0-9-]{1,32}_([0-9]{13}-[0-9a-f]{64}|end)){0,63}$";

fn decode_cursor(raw: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let bad = || {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "cursor: not a cursor this API gives (pass nextCursor as it came)",
        )
    };
    let entries: Vec<&str> = raw.split('.').collect();
    if entries.len() > 64 {
        return Err(bad());
    }
    let mut positions = BTreeMap::new();
    for entry in entries {
        let mut parts = entry.splitn(3, '_');
        let (Some(account), Some(region), Some(position)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        let region_ok = (1..=32).contains(&region.len())
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let position = if position == "end" {
            Some(DONE.to_owned())
        } else {
            position.split_once('-').and_then(|(ms, id)| {
                let ok = ms.len() == 13
                    && ms.bytes().all(|b| b.is_ascii_digit())
                    && id.len() == 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                ok.then(|| format!("{ms}#{id}"))
            })
        };
        match (account_ok && region_ok, position) {
            (true, Some(position)) => {
                positions.insert(format!("{account}#{region}"), position);
            }
            _ => return Err(bad()),
        }
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_exactly_their_pattern() {
        let id = "ab".repeat(32);
        let good =
            format!("111111111111_ap-northeast-1_1796774400000-{id}.222222222222_us-east-1_end");
        let read = decode_cursor(&good).unwrap();
        assert_eq!(
            read["111111111111#ap-northeast-1"],
            format!("1796774400000#{id}")
        );
        assert_eq!(read["222222222222#us-east-1"], DONE);
        let pattern = regex_lite::Regex::new(CURSOR_PATTERN).unwrap();
        assert!(pattern.is_match(&good));
        for bad in [
            "zz".to_owned(),
            String::new(),
            "111111111111_ap-northeast-1_1-ab".to_owned(),
            format!("11111111111_ap-northeast-1_1796774400000-{id}"),
            format!("111111111111_AP_1796774400000-{id}"),
            format!("111111111111_ap-northeast-1_1796774400000-{id}."),
            "111111111111_x_' OR 1=1".to_owned(),
        ] {
            assert!(!pattern.is_match(&bad), "{bad}");
            let e = decode_cursor(&bad).err().map(|e| e.code);
            assert_eq!(e, Some(ErrorCode::InvalidRequest), "{bad}");
        }
    }
}
