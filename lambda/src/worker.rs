//! The job worker: SQS batches of job messages handled by
//! [`Service::work`](crate::service::Service::work). In AWS Lambda the
//! event-source mapping delivers the batch and deletes what the response
//! does not list as failed (`ReportBatchItemFailures`); locally
//! [`poll`](crate::aws::poll) does the same with real `ReceiveMessage`
//! calls, visibility timeouts and redelivery, against the same handler.

use std::time::Instant;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::join_all;

use crate::service::{Service, jobs::WorkOutcome};

/// Handles a batch before `deadline`; the messages not done are listed as
/// failures, to come back after their visibility timeout.
pub async fn handle_batch(
    service: &Service,
    event: SqsEvent,
    deadline: Instant,
) -> SqsBatchResponse {
    let work = event.records.into_iter().map(|record| async move {
        let outcome = match &record.body {
            Some(body) => service.work(body, deadline).await,
            None => WorkOutcome::Done,
        };
        (record.message_id, outcome)
    });
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in join_all(work).await {
        if outcome == WorkOutcome::Again {
            response.add_failure(id.unwrap_or_default());
        }
    }
    response
}
