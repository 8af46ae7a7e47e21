//! The ports of `service::registry` implemented with aws-sdk-iot and
//! aws-sdk-sts, and `service::ownership`'s store and `service::ledger`'s
//! with aws-sdk-dynamodb.
//!
//! [`AwsRegistryProvider`] assumes each target's role (with its ExternalId)
//! and hands out an [`AwsIotRegistry`] per target. Credentials, clients and
//! ATS endpoints are cached; every SDK error is classified into a
//! [`RegistryErrorKind`](crate::service::registry::RegistryErrorKind) here,
//! so nothing outside this module sees an SDK type.

mod cache;
mod dynamo;
pub(crate) mod errors;
mod events;
mod iot;
mod jobs;
mod ledger;
mod poller;
mod provider;
mod sts;

pub use dynamo::DynamoOwnershipStore;
pub use events::EventBridgePublisher;
pub use iot::AwsIotRegistry;
pub use jobs::{DynamoJobStore, S3JobFiles, SqsJobQueue, sqs_client};
pub use ledger::DynamoLedger;
pub use poller::{PollOptions, poll};
pub use provider::AwsRegistryProvider;

use std::{sync::Arc, time::Duration};

use crate::{config::Config, service::Service};

/// The service on AWS: the registries behind each target's role, the
/// ownership and ledger tables, and the job ports when `[jobs]` names a
/// queue. Each table is read once, so a missing one is named at start.
pub async fn service(config: Config, base: &aws_config::SdkConfig) -> Result<Service, String> {
    let timeout = Duration::from_millis(config.limits.aws_call_timeout_ms);
    let provider = AwsRegistryProvider::new(base.clone(), timeout);
    let ownership = DynamoOwnershipStore::new(base, config.ownership_table.clone(), timeout);
    ownership.check().await.map_err(|e| {
        format!(
            "the ownership table \"{}\" (MARSHAL_OWNERSHIP_TABLE or ownershipTable) cannot be read: {e}",
            ownership.table()
        )
    })?;
    let ledger = DynamoLedger::new(base, config.ledger_table.clone(), timeout);
    ledger.check().await.map_err(|e| {
        format!(
            "the ledger table \"{}\" (MARSHAL_LEDGER_TABLE or ledgerTable) cannot be read: {e}",
            ledger.table()
        )
    })?;
    let jobs = match &config.jobs.queue_url {
        None => None,
        Some(url) => {
            let store = DynamoJobStore::new(base, config.jobs.table.clone(), timeout);
            store.check().await.map_err(|e| {
                format!(
                    "the jobs table \"{}\" (MARSHAL_JOBS_TABLE or jobs.table) cannot be read: {e}",
                    store.table()
                )
            })?;
            Some(crate::service::jobs::JobPorts {
                store: Arc::new(store),
                queue: Arc::new(SqsJobQueue::new(base, url.clone(), timeout)),
                files: config.jobs.bucket.as_ref().map(|bucket| {
                    Arc::new(S3JobFiles::new(base, bucket.clone(), timeout))
                        as Arc<dyn crate::service::jobs::JobFiles>
                }),
            })
        }
    };
    let service = Service::new(
        Arc::new(config),
        Arc::new(provider),
        Arc::new(ownership),
        Arc::new(ledger),
    );
    Ok(match jobs {
        Some(ports) => service.with_jobs(ports),
        None => service,
    })
}
