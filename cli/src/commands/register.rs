//! `marshal register`: certificates into targets through the API, from files
//! or a factory batch. Everything is preflighted before the first request;
//! the batch goes out in requests the API's limits allow; a results CSV says
//! what happened to each device in each target. The API is idempotent, so
//! running the same batch again is safe and changes nothing that is done.
//! With `--job` the same checked batch becomes one job on the server
//! (`commands/job`), for batches too large to wait on request by request.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use marshal_shared::{
    OffsetDateTime,
    api::{CreateRegistrationRequest, GetConfigResponse, RegistrationResult},
};
use regex_lite::Regex;
use serde_json::json;

use super::online::{code_text, explain, policy_name, results_table, target_ids};
use crate::{
    api::ApiClient,
    batch::{self, Item},
    cli::RegisterArgs,
    outcome::{Failure, Report},
    progress::Progress,
};

/// Where `--batch` writes its results without `--results`.
const DEFAULT_RESULTS: &str = "marshal-results.csv";
/// Bytes kept free in each request body for everything but the certificates.
const BODY_OVERHEAD: usize = 1024;
/// Failures listed one by one before the rest are only counted.
const FAILURES_SHOWN: usize = 20;

pub(crate) fn run(args: &RegisterArgs) -> Result<Report, Failure> {
    let client = ApiClient::new(&args.api)?;
    let mut items = match &args.batch {
        Some(path) => batch::load(path)?,
        None => batch::from_files(&args.files, args.thing.as_deref()),
    };
    if args.thing.is_some() && items.len() > 1 {
        return Err(Failure::input(
            "thing_for_several",
            format!(
                "--thing names one device, but the input holds {} certificates",
                items.len()
            ),
        ));
    }
    let config = client.config()?;
    let targets = target_ids(&args.targets, || Ok(config.clone()))?;
    let policy = policy_name(args.policy.as_deref(), &config)?;
    let pattern = Regex::new(&format!("^(?:{})$", config.thing_name_pattern)).ok();
    batch::preflight(&mut items, OffsetDateTime::now_utc(), pattern.as_ref());

    let invalid = items.iter().filter(|i| !i.sendable()).count();
    let problems = batch::describe_problems(&items);
    if invalid > 0 && !args.skip_invalid {
        let text = format!(
            "{problems}{invalid} of {} certificate(s) cannot be registered; nothing was sent \
             (fix them, or leave them out with --skip-invalid)\n",
            items.len()
        );
        let json = json!({
            "sent": false,
            "certificates": items.iter().map(Item::to_json).collect::<Vec<_>>(),
        });
        return Ok(Report {
            status: 1,
            ..Report::ok(text, json)
        });
    }
    if items.iter().all(|i| !i.sendable()) {
        return Err(Failure::check(
            "nothing_to_send",
            format!("{problems}no certificate can be registered"),
        ));
    }

    if args.job {
        return super::job::Submission {
            api: &args.api,
            client: &client,
            items: &items,
            problems: &problems,
            targets,
            policy,
            activate: !args.inactive,
            owner_group: args.owner_group.clone(),
            results: args.results.clone(),
            follow: !args.no_wait,
        }
        .run();
    }

    let plan = Plan {
        client: &client,
        config: &config,
        targets: &targets,
        policy: &policy,
        activate: !args.inactive,
        owner_group: args.owner_group.as_deref(),
    };
    let sent = plan.send(&items);
    let results_path = args
        .results
        .clone()
        .or_else(|| args.batch.as_ref().map(|_| PathBuf::from(DEFAULT_RESULTS)));
    if let Some(path) = &results_path {
        write_results_csv(path, &items, &targets, &sent.results)?;
    }
    if let Some(failure) = sent.stopped {
        // A refusal of the first request is just that; a batch cut short, or
        // an API that went away, says what was done and that a re-run is safe.
        if sent.certificates_done == 0 && failure.code != "api_unreachable" {
            return Err(failure);
        }
        let note = results_path
            .as_ref()
            .map(|p| format!("; what was done is in {}", p.display()))
            .unwrap_or_default();
        return Err(Failure {
            message: format!(
                "{}\nstopped after {} of {} certificate(s){note}; running the same command \
                 again is safe",
                failure.message, sent.certificates_done, sent.certificates_total
            ),
            ..failure
        });
    }
    Ok(report(
        &items,
        &targets,
        &sent.results,
        &problems,
        results_path.as_deref(),
    ))
}

/// What one run sends where.
struct Plan<'a> {
    client: &'a ApiClient,
    config: &'a GetConfigResponse,
    targets: &'a [String],
    policy: &'a str,
    activate: bool,
    owner_group: Option<&'a str>,
}

/// What came back: results by item index, and why sending stopped, if it did.
struct Sent {
    results: BTreeMap<usize, Vec<RegistrationResult>>,
    stopped: Option<Failure>,
    certificates_done: usize,
    certificates_total: usize,
}

impl Plan<'_> {
    /// Sends every sendable item, in requests within the API's limits.
    fn send(&self, items: &[Item]) -> Sent {
        let sendable: Vec<usize> = (0..items.len()).filter(|&i| items[i].sendable()).collect();
        let chunks = self.chunks(items, &sendable);
        let target_groups: Vec<&[String]> = self
            .targets
            .chunks(self.config.limits.max_targets_per_request.max(1))
            .collect();
        let progress = Progress::new((sendable.len() * target_groups.len()) as u64, "registering");
        let mut sent = Sent {
            results: BTreeMap::new(),
            stopped: None,
            certificates_done: 0,
            certificates_total: sendable.len(),
        };
        'chunks: for chunk in &chunks {
            for group in &target_groups {
                let request = CreateRegistrationRequest {
                    certificates: chunk.iter().filter_map(|&i| items[i].input()).collect(),
                    targets: group.to_vec(),
                    policy: self.policy.to_owned(),
                    activate: self.activate,
                    owner_group: self.owner_group.map(str::to_owned),
                };
                match self.client.register(&request) {
                    Ok(response) => {
                        for result in response.results {
                            if let Some(&item) = chunk.get(result.index) {
                                sent.results.entry(item).or_default().push(result);
                            }
                        }
                    }
                    Err(failure) => {
                        sent.stopped = Some(failure);
                        break 'chunks;
                    }
                }
                progress.inc(chunk.len() as u64);
            }
            sent.certificates_done += chunk.len();
        }
        progress.finish();
        sent
    }

    /// Item indexes grouped so each request stays within the certificate and
    /// body limits.
    fn chunks(&self, items: &[Item], sendable: &[usize]) -> Vec<Vec<usize>> {
        let limits = &self.config.limits;
        let max_count = limits.max_certificates_per_request.max(1);
        let budget = limits.max_body_bytes.saturating_sub(BODY_OVERHEAD).max(1);
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut size = 0;
        for &i in sendable {
            let item_size = json_size(&items[i]);
            if !current.is_empty() && (current.len() == max_count || size + item_size > budget) {
                chunks.push(std::mem::take(&mut current));
                size = 0;
            }
            current.push(i);
            size += item_size;
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        chunks
    }
}

/// About how many bytes one certificate takes in a request body.
fn json_size(item: &Item) -> usize {
    let pem = item.certificate.as_ref().map_or(0, |c| c.to_pem().len());
    // Newlines become `\n` (two bytes), one per 64 characters.
    pem + pem / 64 + item.thing_name().map_or(0, |t| t.len()) + 64
}

fn report(
    items: &[Item],
    targets: &[String],
    results: &BTreeMap<usize, Vec<RegistrationResult>>,
    problems: &str,
    results_path: Option<&Path>,
) -> Report {
    let all: Vec<(usize, &RegistrationResult)> = results
        .iter()
        .flat_map(|(&i, rs)| rs.iter().map(move |r| (i, r)))
        .collect();
    let failed: Vec<&(usize, &RegistrationResult)> =
        all.iter().filter(|(_, r)| r.error.is_some()).collect();
    let skipped = items.iter().filter(|i| !i.sendable()).count();
    let mut text = String::from(problems);
    if items.len() == 1 {
        if let (Some(id), Some(results)) = (items[0].id(), results.get(&0)) {
            let _ = writeln!(text, "certificate {id}");
            text.push_str(&results_table(results));
        }
    } else {
        let mut per_target: Table = BTreeMap::new();
        for (_, r) in &all {
            let entry = per_target.entry(r.target.clone()).or_default();
            match &r.registration {
                Some(reg) if reg.newly_registered => entry.0 += 1,
                Some(_) => entry.1 += 1,
                None => entry.2 += 1,
            }
        }
        for t in targets {
            let (new, existing, failed) = per_target.get(t).copied().unwrap_or_default();
            let _ = writeln!(
                text,
                "{t}: {} registered ({new} new, {existing} already there), {failed} failed",
                new + existing
            );
        }
        for (i, r) in failed.iter().take(FAILURES_SHOWN) {
            if let Some(error) = &r.error {
                let _ = writeln!(
                    text,
                    "  {} in {}: {}: {}",
                    items[*i].source,
                    r.target,
                    code_text(error.code),
                    explain(error)
                );
            }
        }
        if failed.len() > FAILURES_SHOWN {
            let _ = writeln!(text, "  ... and {} more", failed.len() - FAILURES_SHOWN);
        }
    }
    if skipped > 0 {
        let _ = writeln!(text, "{skipped} certificate(s) left out (--skip-invalid)");
    }
    if let Some(path) = results_path {
        let _ = writeln!(text, "results: {}", path.display());
    }
    let json = json!({
        "sent": true,
        "certificates": items.iter().enumerate().map(|(i, item)| {
            let mut v = item.to_json();
            v["results"] = serde_json::to_value(results.get(&i).cloned().unwrap_or_default())
                .unwrap_or_default();
            v
        }).collect::<Vec<_>>(),
        "summary": {
            "succeeded": all.len() - failed.len(),
            "failed": failed.len(),
            "skipped": skipped,
        },
        "resultsCsv": results_path,
    });
    Report {
        status: u8::from(!failed.is_empty()),
        ..Report::ok(text, json)
    }
}

/// (new, already there, failed) per target.
type Table = BTreeMap<String, (usize, usize, usize)>;

/// One row per certificate: thing, certificate ID, source, then status,
/// endpoint and error per target. Written whole or not at all.
fn write_results_csv(
    path: &Path,
    items: &[Item],
    targets: &[String],
    results: &BTreeMap<usize, Vec<RegistrationResult>>,
) -> Result<(), Failure> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "thing".to_owned(),
        "certificate_id".to_owned(),
        "source".to_owned(),
    ];
    for t in targets {
        header.extend([
            format!("{t} status"),
            format!("{t} endpoint"),
            format!("{t} error"),
        ]);
    }
    let csv_error = |e: csv::Error| Failure::check("write_failed", format!("results CSV: {e}"));
    writer.write_record(&header).map_err(csv_error)?;
    for (i, item) in items.iter().enumerate() {
        let mut row = vec![
            item.thing_name().unwrap_or_default(),
            item.id().unwrap_or_default(),
            item.source.clone(),
        ];
        for t in targets {
            let result = results
                .get(&i)
                .and_then(|rs| rs.iter().find(|r| &r.target == t));
            let cells = match result {
                Some(r) => match (&r.registration, &r.error) {
                    (Some(reg), _) => [
                        reg.status.as_str().to_owned(),
                        reg.endpoint.clone(),
                        String::new(),
                    ],
                    (None, Some(e)) => ["FAILED".to_owned(), String::new(), explain(e)],
                    (None, None) => ["?".to_owned(), String::new(), String::new()],
                },
                None if !item.sendable() => [
                    "SKIPPED".to_owned(),
                    String::new(),
                    item.problems
                        .iter()
                        .filter(|p| p.error)
                        .map(|p| p.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                ],
                None => ["NOT_SENT".to_owned(), String::new(), String::new()],
            };
            row.extend(cells);
        }
        writer.write_record(&row).map_err(csv_error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Failure::check("write_failed", format!("results CSV: {e}")))?;
    let output = crate::files::Output {
        path: path.to_path_buf(),
        contents: bytes.into(),
        secret: false,
    };
    // A results file is an output of this run: the previous one is replaced.
    crate::files::write_all(&[output], true)
}
