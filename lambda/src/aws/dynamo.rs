//! [`DynamoOwnershipStore`]: the ownership records in a DynamoDB table of the
//! function's own account (partition key `pk`), every write conditional on
//! the version it replaces.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_config::{SdkConfig, retry::RetryConfig};
use aws_sdk_dynamodb::{Client, types::AttributeValue};

use super::{
    errors::classify,
    provider::{MAX_ATTEMPTS, call_timeouts},
};
use crate::service::ownership::{
    Facts, InventoryItem, InventoryPage, InventoryRead, Lease, Ownership, OwnershipKey,
    OwnershipState, OwnershipStore, StoreError, StoreResult, Stored, in_inventory,
};
use marshal_shared::api::CertificateStatus;

/// The ownership table's index of registered certificates: partition
/// `registry` (`<account>#<region>`), sort `expiry` ([`Facts::position`]).
/// Only records in the inventory carry those attributes (a sparse index).
const INVENTORY_INDEX: &str = "inventory";

/// The ownership table through aws-sdk-dynamodb.
#[derive(Debug, Clone)]
pub struct DynamoOwnershipStore {
    client: Client,
    table: String,
}

impl DynamoOwnershipStore {
    /// The table `table` with `base`'s region, credentials and endpoint URL
    /// (a moto server locally); each call takes at most `call_timeout`,
    /// retries included.
    pub fn new(base: &SdkConfig, table: String, call_timeout: Duration) -> DynamoOwnershipStore {
        DynamoOwnershipStore {
            client: client(base, call_timeout),
            table,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Whether the table can be read: a start-up check that names the table
    /// when it is missing or not allowed, instead of failing every request.
    pub async fn check(&self) -> StoreResult<()> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("check#".into()))
            .send()
            .await
            .map(drop)
            .map_err(|e| unavailable("GetItem", e))
    }
}

/// A DynamoDB client with `base`'s settings, each call bounded by `call_timeout`.
pub(super) fn client(base: &SdkConfig, call_timeout: Duration) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(base)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(call_timeouts(base, call_timeout))
        .build();
    Client::from_conf(config)
}

/// The `#v = :v` condition on the version a write replaces.
const SAME_VERSION: &str = "#v = :v";

#[async_trait]
impl OwnershipStore for DynamoOwnershipStore {
    async fn get(&self, key: &OwnershipKey) -> StoreResult<Option<Stored>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        output.item().map(from_item).transpose()
    }

    async fn put(
        &self,
        key: &OwnershipKey,
        record: &Ownership,
        expected: Option<u64>,
    ) -> StoreResult<u64> {
        let version = expected.map_or(1, |v| v + 1);
        let mut call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(key, record, version)));
        call = match expected {
            None => call.condition_expression("attribute_not_exists(pk)"),
            Some(v) => call
                .condition_expression(SAME_VERSION)
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match call.send().await {
            Ok(_) => Ok(version),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }

    async fn delete(&self, key: &OwnershipKey, expected: u64) -> StoreResult<()> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .condition_expression(SAME_VERSION)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", AttributeValue::N(expected.to_string()))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable("DeleteItem", e)),
        }
    }

    async fn inventory(&self, read: &InventoryRead<'_>) -> StoreResult<InventoryPage> {
        let registry = read.registry.to_string();
        let mut condition = "#r = :r".to_owned();
        let mut call = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INVENTORY_INDEX)
            .expression_attribute_names("#r", "registry")
            .expression_attribute_values(":r", AttributeValue::S(registry.clone()))
            .limit(i32::try_from(read.limit.clamp(1, 1000)).unwrap_or(1000));
        if let Some(before) = read.before_ms {
            condition.push_str(" AND #e < :e");
            call = call
                .expression_attribute_names("#e", "expiry")
                .expression_attribute_values(
                    ":e",
                    AttributeValue::S(format!("{:013}", before.max(0))),
                );
        }
        if let Some(after) = read.after {
            let id = after.split_once('#').map_or("", |(_, id)| id);
            call = call.set_exclusive_start_key(Some(HashMap::from([
                ("registry".to_owned(), AttributeValue::S(registry.clone())),
                ("expiry".to_owned(), AttributeValue::S(after.to_owned())),
                (
                    "pk".to_owned(),
                    AttributeValue::S(format!("cert#{registry}#{id}")),
                ),
            ])));
        }
        let output = call
            .key_condition_expression(condition)
            .send()
            .await
            .map_err(|e| unavailable("Query", e))?;
        let mut items = Vec::new();
        for item in output.items() {
            let stored = from_item(item)?;
            let position = item
                .get("expiry")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let id = item
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.rsplit_once('#'))
                .map(|(_, id)| id.to_owned())
                .unwrap_or_default();
            items.push(InventoryItem {
                id,
                record: stored.record,
                position,
            });
        }
        Ok(InventoryPage {
            items,
            more: output.last_evaluated_key().is_some(),
        })
    }
}

/// A store failure in AWS's words (classified and logged like IoT's).
pub(super) fn unavailable<E>(operation: &str, e: aws_sdk_dynamodb::error::SdkError<E>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    StoreError::Unavailable(classify(operation, e).message)
}

fn to_item(key: &OwnershipKey, r: &Ownership, version: u64) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.to_string())),
        ("owner".to_owned(), AttributeValue::S(r.owner.clone())),
        (
            "state".to_owned(),
            AttributeValue::S(r.state.as_str().to_owned()),
        ),
        ("version".to_owned(), AttributeValue::N(version.to_string())),
        (
            "updated".to_owned(),
            AttributeValue::N(r.updated_ms.to_string()),
        ),
    ]);
    let optional = [
        ("group", r.group.clone()),
        ("peer", r.peer.clone()),
        ("policy", r.policy.clone()),
        ("leaseHolder", r.lease.as_ref().map(|l| l.holder.clone())),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), AttributeValue::S(value));
        }
    }
    if let Some(lease) = &r.lease {
        item.insert(
            "leaseUntil".to_owned(),
            AttributeValue::N(lease.until_ms.to_string()),
        );
    }
    if let Some(facts) = &r.facts {
        let mut put = |name: &str, value: AttributeValue| item.insert(name.to_owned(), value);
        put("target", AttributeValue::S(facts.target.clone()));
        put(
            "notAfter",
            AttributeValue::N(facts.not_after_ms.to_string()),
        );
        put(
            "registeredBy",
            AttributeValue::S(facts.registered_by.clone()),
        );
        put(
            "registeredAt",
            AttributeValue::N(facts.registered_at_ms.to_string()),
        );
        if let Some(status) = facts.status {
            put("status", AttributeValue::S(status.as_str().to_owned()));
        }
        if let Some(predecessor) = &facts.predecessor {
            put("predecessor", AttributeValue::S(predecessor.clone()));
        }
        if let Some(successor) = &facts.successor {
            put("successor", AttributeValue::S(successor.clone()));
        }
        if let (
            true,
            OwnershipKey::Certificate {
                account,
                region,
                id,
            },
        ) = (in_inventory(key, r), key)
        {
            put("registry", AttributeValue::S(format!("{account}#{region}")));
            put("expiry", AttributeValue::S(facts.position(id)));
        }
    }
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> StoreResult<Stored> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    let bad =
        |what: &str| StoreError::Unavailable(format!("an ownership record has no valid {what}"));
    let lease = match (text("leaseHolder"), number("leaseUntil")) {
        (Some(holder), Some(until_ms)) => Some(Lease { holder, until_ms }),
        _ => None,
    };
    Ok(Stored {
        record: Ownership {
            owner: text("owner").ok_or_else(|| bad("owner"))?,
            group: text("group"),
            state: text("state")
                .as_deref()
                .and_then(OwnershipState::parse)
                .ok_or_else(|| bad("state"))?,
            peer: text("peer"),
            policy: text("policy"),
            lease,
            updated_ms: number("updated").unwrap_or(0),
            facts: match (text("target"), number("notAfter")) {
                (Some(target), Some(not_after_ms)) => Some(Facts {
                    target,
                    not_after_ms,
                    status: text("status").map(|s| {
                        serde_json::from_value(serde_json::Value::String(s))
                            .unwrap_or(CertificateStatus::Other)
                    }),
                    registered_by: text("registeredBy").unwrap_or_default(),
                    registered_at_ms: number("registeredAt").unwrap_or(0),
                    successor: text("successor"),
                    predecessor: text("predecessor"),
                }),
                _ => None,
            },
        },
        version: number("version")
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| bad("version"))?,
    })
}
