//! The job ports on AWS: [`DynamoJobStore`] (jobs, chunks and paces in one
//! table, `pk` + `sk`), [`SqsJobQueue`] and [`S3JobFiles`].
//!
//! Items: a job is `pk` = `job#<id>`, `sk` = `job`, with its counts as
//! numbers that chunks add to (`ok_<i>`, `fail_<i>`, `skip_<i>` per target
//! position, `chunks_done`, `throttled`); its chunks share its `pk` with
//! `sk` = `chunk#<index>`, their certificates and, once done, their rows as
//! JSON; a registry's pace is `pk` = `pace#<account>#<region>`, `sk` = `pace`;
//! a caller's jobs that have not ended are the string set `active` of
//! `pk` = `caller#<subject>`, `sk` = `jobs`.
//! Jobs and chunks carry `expires_at`, 90 days after they were written, by
//! which the table's time to live removes them.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_config::{SdkConfig, retry::RetryConfig};
use aws_sdk_dynamodb::{
    Client as Dynamo,
    types::{AttributeValue, TransactWriteItem, Update},
};
use aws_sdk_s3::{Client as S3, presigning::PresigningConfig, primitives::ByteStream};
use aws_sdk_sqs::{Client as Sqs, types::SendMessageBatchRequestEntry};
use futures::{StreamExt, TryStreamExt, stream};
use marshal_shared::api::{JobError, JobState, UploadFormat};

use super::{
    dynamo::{client as dynamo_client, unavailable},
    errors::classify,
    provider::{MAX_ATTEMPTS, call_timeouts},
};
use crate::service::{
    jobs::{
        ChunkRecord, Done, FileError, FileReader, JobCaller, JobFiles, JobMessage, JobQueue,
        JobRecord, JobStore, Pace, Presigned, ResultRow, Transition,
    },
    ownership::StoreError,
};

/// The attribute the table's time to live deletes items by (Unix seconds).
const EXPIRES_AT: &str = "expires_at";
/// How long a job and its chunks are kept after they are written. They are
/// working state (the ledger is the record), kept well past the results
/// file in the bucket (30 days) and any job's run; the chunks a failed split
/// stored, never queued, go with them.
const KEEP_SECONDS: u64 = 90 * 24 * 60 * 60;

/// When an item written now expires.
fn expires_at() -> AttributeValue {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    n(now + KEEP_SECONDS)
}

/// Chunks written at once while a job is split.
const PUTS_IN_FLIGHT: usize = 16;
/// SendMessageBatch calls under way at once.
const SENDS_IN_FLIGHT: usize = 8;

/// The jobs table through aws-sdk-dynamodb.
#[derive(Debug, Clone)]
pub struct DynamoJobStore {
    client: Dynamo,
    table: String,
}

impl DynamoJobStore {
    /// The table `table` with `base`'s settings.
    pub fn new(base: &SdkConfig, table: String, call_timeout: Duration) -> DynamoJobStore {
        DynamoJobStore {
            client: dynamo_client(base, call_timeout),
            table,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Whether the table can be read (a start-up check).
    pub async fn check(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", s("check#"))
            .key("sk", s("check"))
            .send()
            .await
            .map(drop)
            .map_err(|e| unavailable("GetItem", e))
    }
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn job_pk(id: &str) -> AttributeValue {
    s(format!("job#{id}"))
}

fn caller_pk(subject: &str) -> AttributeValue {
    s(format!("caller#{subject}"))
}

fn chunk_sk(index: u64) -> AttributeValue {
    s(format!("chunk#{index:08}"))
}

fn json<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

type Item = HashMap<String, AttributeValue>;

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn number(item: &Item, name: &str) -> Option<f64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn count(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn from_json<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let raw = text(item, name)
        .ok_or_else(|| StoreError::Unavailable(format!("a job item lacks {name}")))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Unavailable(format!("{name}: {e}")))
}

fn job_from(item: &Item) -> Result<JobRecord, StoreError> {
    let targets: Vec<String> = from_json(item, "targets")?;
    let done = (0..targets.len())
        .map(|i| Done {
            succeeded: count(item, &format!("ok_{i}")),
            failed: count(item, &format!("fail_{i}")),
            skipped: count(item, &format!("skip_{i}")),
        })
        .collect();
    let caller: JobCaller = from_json(item, "caller")?;
    let format = match text(item, "format") {
        Some("ndjson") => Some(UploadFormat::Ndjson),
        Some("csv") => Some(UploadFormat::Csv),
        _ => None,
    };
    let ms = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
    };
    let error: Option<JobError> = match text(item, "error") {
        Some(_) => Some(from_json(item, "error")?),
        None => None,
    };
    Ok(JobRecord {
        id: text(item, "pk")
            .and_then(|pk| pk.strip_prefix("job#"))
            .unwrap_or_default()
            .to_owned(),
        state: JobState::parse(text(item, "state").unwrap_or_default()),
        caller,
        owner_group: text(item, "owner_group").map(str::to_owned),
        targets,
        policy: text(item, "policy").unwrap_or_default().to_owned(),
        activate: item
            .get("activate")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(true),
        format,
        created_ms: ms("created_ms").unwrap_or(0),
        started_ms: ms("started_ms"),
        ended_ms: ms("ended_ms"),
        certificates: count(item, "certificates"),
        chunks: count(item, "chunks"),
        chunks_done: count(item, "chunks_done"),
        // A job from before the window had every chunk queued at once.
        window: item
            .get("window")
            .map_or_else(|| count(item, "chunks"), |_| count(item, "window")),
        done,
        throttled: count(item, "throttled"),
        error,
        requeued_ms: ms("requeued_ms"),
    })
}

fn chunk_from(item: &Item) -> Result<ChunkRecord, StoreError> {
    let index = text(item, "sk")
        .and_then(|sk| sk.strip_prefix("chunk#"))
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| StoreError::Unavailable("a chunk item without its index".into()))?;
    let results: Option<Vec<ResultRow>> = match text(item, "results") {
        Some(_) => Some(from_json(item, "results")?),
        None => None,
    };
    Ok(ChunkRecord {
        index,
        certificates: from_json(item, "certificates")?,
        results,
    })
}

impl DynamoJobStore {
    /// Updates a job's item if `condition` holds; false if it did not.
    async fn update_job(
        &self,
        id: &str,
        update: &str,
        condition: String,
        names: HashMap<String, String>,
        values: Item,
    ) -> Result<bool, StoreError> {
        self.update_if((job_pk(id), s("job")), update, condition, names, values)
            .await
    }

    /// Updates the item `(pk, sk)` if `condition` holds; false if it did not.
    async fn update_if(
        &self,
        (pk, sk): (AttributeValue, AttributeValue),
        update: &str,
        condition: String,
        names: HashMap<String, String>,
        values: Item,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk)
            .key("sk", sk)
            .update_expression(update)
            .condition_expression(condition)
            // DynamoDB refuses an empty map of names.
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }
}

/// The condition `#state IN (…)` of `states`, their values added.
fn state_in(states: &[JobState], values: &mut Item) -> String {
    let allowed: Vec<String> = states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            values.insert(format!(":from{i}"), s(state.as_str()));
            format!(":from{i}")
        })
        .collect();
    format!("#state IN ({})", allowed.join(", "))
}

fn is_conditional<E>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

#[async_trait]
impl JobStore for DynamoJobStore {
    async fn create(&self, job: &JobRecord) -> Result<(), StoreError> {
        let mut item: Item = HashMap::from([
            ("pk".to_owned(), job_pk(&job.id)),
            ("sk".to_owned(), s("job")),
            ("state".to_owned(), s(job.state.as_str())),
            ("caller".to_owned(), json(&job.caller)?),
            ("targets".to_owned(), json(&job.targets)?),
            ("policy".to_owned(), s(&job.policy)),
            ("activate".to_owned(), AttributeValue::Bool(job.activate)),
            ("created_ms".to_owned(), n(job.created_ms)),
            ("certificates".to_owned(), n(0)),
            ("chunks".to_owned(), n(0)),
            ("chunks_done".to_owned(), n(0)),
            ("throttled".to_owned(), n(0)),
            (EXPIRES_AT.to_owned(), expires_at()),
        ]);
        if let Some(group) = &job.owner_group {
            item.insert("owner_group".into(), s(group));
        }
        if let Some(format) = job.format {
            item.insert("format".into(), s(format.as_str()));
        }
        for i in 0..job.targets.len() {
            for name in ["ok", "fail", "skip"] {
                item.insert(format!("{name}_{i}"), n(0));
            }
        }
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conditional(&e) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", job_pk(id))
            .key("sk", s("job"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        output.item().map(job_from).transpose()
    }

    async fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        set: &Transition,
    ) -> Result<bool, StoreError> {
        let mut sets = vec!["#state = :to".to_owned()];
        let mut values: Item = HashMap::from([(":to".to_owned(), s(to.as_str()))]);
        // Every name through a placeholder: `error` is a reserved word.
        let mut names: HashMap<String, String> =
            HashMap::from([("#state".to_owned(), "state".to_owned())]);
        let mut add = |name: &str, value: AttributeValue| {
            sets.push(format!("#{name} = :{name}"));
            names.insert(format!("#{name}"), name.to_owned());
            values.insert(format!(":{name}"), value);
        };
        if let Some(ms) = set.started_ms {
            add("started_ms", n(ms));
        }
        if let Some(ms) = set.ended_ms {
            add("ended_ms", n(ms));
        }
        if let Some(c) = set.certificates {
            add("certificates", n(c));
        }
        if let Some(c) = set.chunks {
            add("chunks", n(c));
        }
        if let Some(w) = set.window {
            add("window", n(w));
        }
        if let Some(error) = &set.error {
            add("error", json(error)?);
        }
        let in_state = state_in(from, &mut values);
        let update = format!("SET {}", sets.join(", "));
        self.update_job(id, &update, in_state, names, values).await
    }

    async fn claim_requeue(
        &self,
        id: &str,
        states: &[JobState],
        now_ms: i64,
        after_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut values: Item = HashMap::from([
            (":now".to_owned(), n(now_ms)),
            (":after".to_owned(), n(after_ms)),
        ]);
        let in_state = state_in(states, &mut values);
        let condition =
            format!("{in_state} AND (attribute_not_exists(requeued_ms) OR requeued_ms <= :after)");
        let names = HashMap::from([("#state".to_owned(), "state".to_owned())]);
        self.update_job(id, "SET requeued_ms = :now", condition, names, values)
            .await
    }

    async fn put_chunks(&self, id: &str, chunks: &[ChunkRecord]) -> Result<(), StoreError> {
        // Futures collected first: a stream of borrowing closures trips the
        // compiler's Send check in an async trait.
        let mut puts = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            puts.push(async move {
                let item: Item = HashMap::from([
                    ("pk".to_owned(), job_pk(id)),
                    ("sk".to_owned(), chunk_sk(chunk.index)),
                    ("certificates".to_owned(), json(&chunk.certificates)?),
                    (EXPIRES_AT.to_owned(), expires_at()),
                ]);
                // A chunk already done keeps its rows.
                match self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(results)")
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) if is_conditional(&e) => Ok(()),
                    Err(e) => Err(unavailable("PutItem", e)),
                }
            });
        }
        stream::iter(puts)
            .buffer_unordered(PUTS_IN_FLIGHT)
            .try_collect()
            .await
    }

    async fn chunk(&self, id: &str, index: u64) -> Result<Option<ChunkRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", job_pk(id))
            .key("sk", chunk_sk(index))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        output.item().map(chunk_from).transpose()
    }

    async fn finish_chunk(
        &self,
        id: &str,
        index: u64,
        results: &[ResultRow],
        done: &[Done],
    ) -> Result<bool, StoreError> {
        let chunk = Update::builder()
            .table_name(&self.table)
            .key("pk", job_pk(id))
            .key("sk", chunk_sk(index))
            .update_expression("SET results = :r")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(results)")
            .expression_attribute_values(":r", json(&results)?)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut adds = vec!["chunks_done :one".to_owned()];
        let mut values: Item = HashMap::from([(":one".to_owned(), n(1))]);
        for (i, d) in done.iter().enumerate() {
            for (name, value) in [("ok", d.succeeded), ("fail", d.failed), ("skip", d.skipped)] {
                if value > 0 {
                    adds.push(format!("{name}_{i} :{name}{i}"));
                    values.insert(format!(":{name}{i}"), n(value));
                }
            }
        }
        let job = Update::builder()
            .table_name(&self.table)
            .key("pk", job_pk(id))
            .key("sk", s("job"))
            .update_expression(format!("ADD {}", adds.join(", ")))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(chunk).build())
            .transact_items(TransactWriteItem::builder().update(job).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                let cancelled_by_condition = e
                    .as_service_error()
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .is_some_and(|c| {
                        c.cancellation_reasons()
                            .first()
                            .and_then(|r| r.code())
                            .is_some_and(|code| code == "ConditionalCheckFailed")
                    });
                if cancelled_by_condition {
                    Ok(false)
                } else {
                    Err(unavailable("TransactWriteItems", e))
                }
            }
        }
    }

    async fn chunks(&self, id: &str) -> Result<Vec<ChunkRecord>, StoreError> {
        let pages: Vec<_> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :chunk)")
            .expression_attribute_values(":pk", job_pk(id))
            .expression_attribute_values(":chunk", s("chunk#"))
            .consistent_read(true)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| unavailable("Query", e))?;
        pages
            .iter()
            .flat_map(|page| page.items())
            .map(chunk_from)
            .collect()
    }

    async fn add_throttled(&self, id: &str, count: u64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", job_pk(id))
            .key("sk", s("job"))
            .update_expression("ADD throttled :n")
            .expression_attribute_values(":n", n(count))
            .send()
            .await
            .map(drop)
            .map_err(|e| unavailable("UpdateItem", e))
    }

    async fn open_slot(&self, subject: &str, job: &str, max: usize) -> Result<bool, StoreError> {
        let values: Item = HashMap::from([
            (":jobs".to_owned(), AttributeValue::Ss(vec![job.to_owned()])),
            (":job".to_owned(), s(job)),
            (":max".to_owned(), n(max)),
        ]);
        self.update_if(
            (caller_pk(subject), s("jobs")),
            "ADD active :jobs",
            "attribute_not_exists(active) OR size(active) < :max OR contains(active, :job)"
                .to_owned(),
            HashMap::new(),
            values,
        )
        .await
    }

    async fn slots(&self, subject: &str) -> Result<Vec<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", caller_pk(subject))
            .key("sk", s("jobs"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        Ok(output
            .item()
            .and_then(|item| item.get("active"))
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default())
    }

    async fn close_slot(&self, subject: &str, job: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", caller_pk(subject))
            .key("sk", s("jobs"))
            .update_expression("DELETE active :jobs")
            .expression_attribute_values(":jobs", AttributeValue::Ss(vec![job.to_owned()]))
            .send()
            .await
            .map(drop)
            .map_err(|e| unavailable("UpdateItem", e))
    }

    async fn pace(&self, key: &str) -> Result<Option<(Pace, u64)>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("pace#{key}")))
            .key("sk", s("pace"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        Ok(output.item().and_then(|item| {
            Some((
                Pace {
                    tokens: number(item, "tokens")?,
                    rate: number(item, "rate")?,
                    at_ms: number(item, "at_ms")? as i64,
                },
                count(item, "version"),
            ))
        }))
    }

    async fn set_pace(
        &self,
        key: &str,
        pace: &Pace,
        version: Option<u64>,
    ) -> Result<(), StoreError> {
        let item: Item = HashMap::from([
            ("pk".to_owned(), s(format!("pace#{key}"))),
            ("sk".to_owned(), s("pace")),
            ("tokens".to_owned(), n(pace.tokens)),
            ("rate".to_owned(), n(pace.rate)),
            ("at_ms".to_owned(), n(pace.at_ms)),
            ("version".to_owned(), n(version.map_or(1, |v| v + 1))),
        ]);
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let call = match version {
            None => call.condition_expression("attribute_not_exists(pk)"),
            Some(v) => call
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v)),
        };
        match call.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_conditional(&e) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }
}

/// The job queue through aws-sdk-sqs.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: Sqs,
    url: String,
}

impl SqsJobQueue {
    /// The queue at `url`.
    pub fn new(base: &SdkConfig, url: String, call_timeout: Duration) -> SqsJobQueue {
        SqsJobQueue {
            client: sqs_client(base, call_timeout),
            url,
        }
    }
}

/// An SQS client with `base`'s settings.
pub fn sqs_client(base: &SdkConfig, call_timeout: Duration) -> Sqs {
    let config = aws_sdk_sqs::config::Builder::from(base)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(call_timeouts(base, call_timeout))
        .build();
    Sqs::from_conf(config)
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn send(&self, messages: &[JobMessage]) -> Result<(), String> {
        // A job of a million certificates is 40,000 chunks: batches of ten
        // (SQS's most), several under way at once.
        let mut calls = Vec::with_capacity(messages.len().div_ceil(10));
        for batch in messages.chunks(10) {
            let mut call = self.client.send_message_batch().queue_url(&self.url);
            for (i, message) in batch.iter().enumerate() {
                let body = serde_json::to_string(message).map_err(|e| e.to_string())?;
                call = call.entries(
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| e.to_string())?,
                );
            }
            calls.push(async move {
                let output = call
                    .send()
                    .await
                    .map_err(|e| classify("SendMessageBatch", e).message)?;
                match output.failed().first() {
                    Some(failed) => Err(format!(
                        "SQS refused {} of {} messages: {}",
                        output.failed().len(),
                        batch.len(),
                        failed.message().unwrap_or(failed.code())
                    )),
                    None => Ok(()),
                }
            });
        }
        stream::iter(calls)
            .buffer_unordered(SENDS_IN_FLIGHT)
            .try_collect()
            .await
    }
}

/// The job bucket through aws-sdk-s3.
#[derive(Debug, Clone)]
pub struct S3JobFiles {
    client: S3,
    bucket: String,
}

impl S3JobFiles {
    /// The bucket `bucket`; path-style addressing when an endpoint URL is
    /// set (a local stand-in such as moto).
    pub fn new(base: &SdkConfig, bucket: String, call_timeout: Duration) -> S3JobFiles {
        let config = aws_sdk_s3::config::Builder::from(base)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(call_timeouts(base, call_timeout))
            .force_path_style(base.endpoint_url().is_some())
            .build();
        S3JobFiles {
            client: S3::from_conf(config),
            bucket,
        }
    }
}

fn presigning(seconds: u64) -> Result<PresigningConfig, String> {
    PresigningConfig::expires_in(Duration::from_secs(seconds)).map_err(|e| e.to_string())
}

#[async_trait]
impl JobFiles for S3JobFiles {
    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        seconds: u64,
    ) -> Result<Presigned, String> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(presigning(seconds)?)
            .await
            .map_err(|e| classify("PutObject (presign)", e).message)?;
        Ok(Presigned {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        })
    }

    async fn open(&self, key: &str, max: u64) -> Result<Option<FileReader>, FileError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(FileError::Unavailable(classify("GetObject", e).message)),
        };
        let size = u64::try_from(object.content_length().unwrap_or(0)).unwrap_or(0);
        if size > max {
            return Err(FileError::TooLarge(size));
        }
        // Read as it arrives: a file of a million certificates is never
        // in memory whole.
        Ok(Some(Box::new(object.body.into_async_read())))
    }

    async fn write(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("PutObject", e).message)
    }

    async fn download_url(&self, key: &str, seconds: u64) -> Result<String, String> {
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(seconds)?)
            .await
            .map(|r| r.uri().to_owned())
            .map_err(|e| classify("GetObject (presign)", e).message)
    }
}
