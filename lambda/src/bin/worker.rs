//! `marshal-worker`: the factory-job worker. In AWS Lambda an SQS event
//! source delivers batches of job messages and gets back the ones to
//! retry (`ReportBatchItemFailures`); elsewhere `--poll` receives from the
//! queue itself and calls the same handler (`cargo xtask dev`, the tests).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_http::{LambdaEvent, service_fn};
use marshal_lambda::{
    aws::{PollOptions, poll, sqs_client},
    config::Config,
    worker::handle_batch,
};

const USAGE: &str = "usage: marshal-worker [--poll] [--config FILE] [--concurrency N] [--visibility SECONDS]\n\
  --poll              receive from the jobs queue ([jobs] queueUrl) outside AWS Lambda, until Ctrl-C\n\
  --config FILE       TOML or JSON configuration (default: $MARSHAL_CONFIG or $MARSHAL_CONFIG_JSON)\n\
  --concurrency N     chunks handled at once (default 2)\n\
  --visibility SECS   how long a received message stays hidden (default 60)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    marshal_lambda::init_logging(std::io::stderr);
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let (mut poll_mode, mut config_path, mut concurrency, mut visibility) =
        (false, None, 2usize, 60u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--poll" => poll_mode = true,
            "--config" => config_path = Some(value("--config")?),
            "--concurrency" => {
                concurrency = value("--concurrency")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .context("--concurrency: a number from 1 to 64")?
            }
            "--visibility" => {
                visibility = value("--visibility")?
                    .parse()
                    .ok()
                    .filter(|n| (20..=43_200).contains(n))
                    .context("--visibility: seconds from 20 to 43200")?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if !in_lambda && !poll_mode {
        bail!("outside AWS Lambda, say --poll to receive from the queue\n{USAGE}");
    }
    let config = match &config_path {
        Some(path) => Config::from_file(std::path::Path::new(path))?,
        None => Config::from_env()?,
    }
    .with_env_overrides(|name| std::env::var(name).ok())?;
    let Some(queue_url) = config.jobs.queue_url.clone() else {
        bail!(
            "[jobs] queueUrl (or MARSHAL_JOBS_QUEUE_URL) names no queue: there is nothing to work on"
        );
    };
    let timeout = Duration::from_millis(config.limits.aws_call_timeout_ms);
    let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let service = marshal_lambda::aws::service(config, &base)
        .await
        .map_err(anyhow::Error::msg)?;

    if poll_mode {
        eprintln!("marshal worker polling {queue_url} ({concurrency} chunks at once)");
        let options = PollOptions {
            queue_url,
            visibility: Duration::from_secs(visibility),
            concurrency,
        };
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        return poll(service, sqs_client(&base, timeout), options, stop)
            .await
            .map_err(anyhow::Error::msg);
    }
    let service = &service;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // Stop starting work a little before the function's own deadline.
        let left_ms = event
            .context
            .deadline
            .saturating_sub(unix_ms())
            .saturating_sub(5_000);
        let deadline = Instant::now() + Duration::from_millis(left_ms);
        Ok::<_, lambda_http::Error>(handle_batch(service, event.payload, deadline).await)
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
