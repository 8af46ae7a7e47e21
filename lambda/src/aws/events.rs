//! [`EventBridgePublisher`]: the expiry report as one EventBridge event.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::{SdkConfig, retry::RetryConfig};
use aws_sdk_eventbridge::{Client, types::PutEventsRequestEntry};

use super::{
    errors::classify,
    provider::{MAX_ATTEMPTS, call_timeouts},
};
use crate::expiry::{DETAIL_TYPE, Publisher, Report, SOURCE};

/// PutEvents on one event bus of the function's own account.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    /// The bus `bus` (a name or ARN), with `base`'s settings.
    pub fn new(base: &SdkConfig, bus: String, call_timeout: Duration) -> EventBridgePublisher {
        let config = aws_sdk_eventbridge::config::Builder::from(base)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(call_timeouts(base, call_timeout))
            .build();
        EventBridgePublisher {
            client: Client::from_conf(config),
            bus,
        }
    }
}

#[async_trait]
impl Publisher for EventBridgePublisher {
    async fn publish(&self, report: &Report) -> Result<(), String> {
        let detail = serde_json::to_string(report).map_err(|e| e.to_string())?;
        let output = self
            .client
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .source(SOURCE)
                    .detail_type(DETAIL_TYPE)
                    .detail(detail)
                    .event_bus_name(&self.bus)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify("PutEvents", e).message)?;
        match output.failed_entry_count() {
            0 => Ok(()),
            _ => Err(format!(
                "EventBridge refused the event: {}",
                output
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_message())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
}
