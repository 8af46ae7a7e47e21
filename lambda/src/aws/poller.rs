//! The local stand-in for Lambda's SQS event source: receives job
//! messages, hands them to [`handle_batch`](crate::worker::handle_batch),
//! deletes what it finished and leaves the rest to reappear.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::{
    Client,
    types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName},
};

use crate::service::Service;

/// How the local poller runs.
#[derive(Debug, Clone)]
pub struct PollOptions {
    /// The queue.
    pub queue_url: String,
    /// How long a received message stays hidden from other receivers.
    pub visibility: Duration,
    /// Messages (chunks) handled at once, one per receive: as the event
    /// source's `MaximumConcurrency` with a `BatchSize` of 1, so a chunk's
    /// progress shows as soon as it is done and a cancel waits for few.
    pub concurrency: usize,
}

/// Receives batches and hands them to [`handle_batch`] until `stop` resolves,
/// deleting the messages done; the others reappear after their visibility
/// timeout, as in Lambda.
pub async fn poll(
    service: Service,
    client: Client,
    options: PollOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let mut running = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        while running.len() >= options.concurrency {
            tokio::select! {
                _ = running.join_next() => {}
                () = &mut stop => return drain(running).await,
            }
        }
        let receive = client
            .receive_message()
            .queue_url(&options.queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .visibility_timeout(i32::try_from(options.visibility.as_secs()).unwrap_or(60))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send();
        let received = tokio::select! {
            received = receive => received,
            () = &mut stop => return drain(running).await,
        };
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %super::errors::classify("ReceiveMessage", e).message, "ReceiveMessage failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        // Work stops starting with a margin before the messages reappear.
        let deadline = Instant::now() + options.visibility.saturating_sub(Duration::from_secs(5));
        let mut event = SqsEvent::default();
        let mut handles = Vec::new();
        for m in messages {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.body = m.body.clone();
            record.receipt_handle = m.receipt_handle.clone();
            handles.push((
                m.message_id.unwrap_or_default(),
                m.receipt_handle.unwrap_or_default(),
            ));
            event.records.push(record);
        }
        let (service, client, url) = (
            service.clone(),
            Client::clone(&client),
            options.queue_url.clone(),
        );
        running.spawn(async move {
            let response = crate::worker::handle_batch(&service, event, deadline).await;
            let failed: Vec<&str> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            let done: Vec<DeleteMessageBatchRequestEntry> = handles
                .iter()
                .enumerate()
                .filter(|(_, (id, _))| !failed.contains(&id.as_str()))
                .filter_map(|(i, (_, receipt))| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .ok()
                })
                .collect();
            if !done.is_empty()
                && let Err(e) = client
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(done))
                    .send()
                    .await
            {
                // The messages come back and are found done.
                tracing::warn!(error = %super::errors::classify("DeleteMessageBatch", e).message, "DeleteMessageBatch failed");
            }
        });
    }
}

/// Lets the batches under way finish (their deletes included).
async fn drain(mut running: tokio::task::JoinSet<()>) -> Result<(), String> {
    while running.join_next().await.is_some() {}
    Ok(())
}
