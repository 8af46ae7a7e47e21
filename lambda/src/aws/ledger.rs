//! [`DynamoLedger`]: ledger events in a DynamoDB table of the function's own
//! account: partition `pk` (`cert#<id>`), sort `sk` (time, request, target,
//! action, phase). Every write is a put on the condition that no item has
//! its key, and nothing here updates or deletes.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::{Client, types::AttributeValue};

use super::dynamo::{client, unavailable};
use crate::service::{
    ledger::{LedgerError, LedgerStore, Recorded},
    ownership::StoreError,
};

/// The ledger table through aws-sdk-dynamodb.
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    /// The table `table`, with `base`'s settings and `call_timeout` per call.
    pub fn new(base: &SdkConfig, table: String, call_timeout: Duration) -> DynamoLedger {
        DynamoLedger {
            client: client(base, call_timeout),
            table,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Whether the table can be queried: a start-up check naming the table.
    pub async fn check(&self) -> Result<(), LedgerError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", AttributeValue::S("check#".into()))
            .limit(1)
            .send()
            .await
            .map(drop)
            .map_err(|e| failed(unavailable("Query", e)))
    }
}

fn failed(e: StoreError) -> LedgerError {
    LedgerError(match e {
        StoreError::Unavailable(message) => message,
        StoreError::Conflict => "unexpected conflict".into(),
    })
}

fn partition(id: &str) -> AttributeValue {
    AttributeValue::S(format!("cert#{id}"))
}

#[async_trait]
impl LedgerStore for DynamoLedger {
    async fn append(&self, event: &Recorded) -> Result<(), LedgerError> {
        let body = serde_json::to_string(&event.event)
            .map_err(|e| LedgerError(format!("event not encoded: {e}")))?;
        let mut item = HashMap::from([
            ("pk".to_owned(), partition(&event.event.certificate_id)),
            ("sk".to_owned(), AttributeValue::S(event.sort_key())),
            ("event".to_owned(), AttributeValue::S(body)),
            ("owner".to_owned(), AttributeValue::S(event.owner.clone())),
        ]);
        if let Some(group) = &event.owner_group {
            item.insert("ownerGroup".to_owned(), AttributeValue::S(group.clone()));
        }
        item.insert("nonce".to_owned(), AttributeValue::S(event.nonce.clone()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // A retried put whose first reply was lost: the key holds a
            // request id and a millisecond time, so it is this event.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed(unavailable("PutItem", e))),
        }
    }

    async fn history(&self, id: &str) -> Result<Vec<Recorded>, LedgerError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", partition(id))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut events = Vec::with_capacity(pages.len());
        for item in pages {
            let item = item.map_err(|e| failed(unavailable("Query", e)))?;
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            let event = text("event")
                .and_then(|body| serde_json::from_str(&body).ok())
                .ok_or_else(|| LedgerError("an event of this certificate is unreadable".into()))?;
            events.push(Recorded {
                event,
                owner: text("owner").unwrap_or_default(),
                owner_group: text("ownerGroup"),
                nonce: text("nonce").unwrap_or_default(),
            });
        }
        Ok(events)
    }
}
