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
mod errors;
mod events;
mod iot;
mod ledger;
mod provider;
mod sts;

pub use dynamo::DynamoOwnershipStore;
pub use events::EventBridgePublisher;
pub use iot::AwsIotRegistry;
pub use ledger::DynamoLedger;
pub use provider::AwsRegistryProvider;
