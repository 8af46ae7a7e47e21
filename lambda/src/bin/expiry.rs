//! `marshal-expiry`: the scheduled expiry report. In AWS Lambda (an
//! EventBridge schedule invokes it) each invocation reads the inventory and
//! publishes one event; elsewhere `--once` runs the same handler one time
//! and prints the report (`cargo xtask dev` users, and the tests).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;
use lambda_http::{LambdaEvent, service_fn};
use marshal_lambda::{
    aws::{DynamoOwnershipStore, EventBridgePublisher},
    config::Config,
    expiry,
};

const USAGE: &str = "usage: marshal-expiry [--once] [--config FILE]\n\
  --once         run the report once, print it as JSON and exit (outside AWS Lambda)\n\
  --config FILE  TOML or JSON configuration (default: $MARSHAL_CONFIG or $MARSHAL_CONFIG_JSON)";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Standard output carries the report of `--once`.
    marshal_lambda::init_logging(std::io::stderr);
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let mut once = false;
    let mut config_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--once" => once = true,
            "--config" => {
                config_path = Some(
                    args.next()
                        .context(format!("--config needs a file\n{USAGE}"))?,
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if !in_lambda && !once {
        bail!("outside AWS Lambda, say --once to run the report one time\n{USAGE}");
    }
    let config = match &config_path {
        Some(path) => Config::from_file(std::path::Path::new(path))?,
        None => Config::from_env()?,
    }
    .with_env_overrides(|name| std::env::var(name).ok())?;
    let timeout = Duration::from_millis(config.limits.aws_call_timeout_ms);
    let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let store = DynamoOwnershipStore::new(&base, config.ownership_table.clone(), timeout);
    let publisher = EventBridgePublisher::new(&base, config.expiry.event_bus.clone(), timeout);

    if once {
        let report = expiry::run(&config, &store, &publisher, now_ms())
            .await
            .map_err(anyhow::Error::msg)?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let (config, store, publisher) = (&config, &store, &publisher);
    lambda_http::lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = expiry::run(config, store, publisher, now_ms()).await?;
            Ok::<_, lambda_http::Error>(serde_json::json!({
                "count": report.count,
                "listed": report.certificates.len(),
            }))
        },
    ))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
