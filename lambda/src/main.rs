//! `marshal-lambda`: in AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) the router
//! runs under `lambda_http`; elsewhere axum serves it on `--listen`
//! (default 127.0.0.1:8080), optionally with the built page from `--static-dir`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;
use marshal_lambda::{
    aws::{AwsRegistryProvider, DynamoOwnershipStore},
    config::{AuthMode, Config},
    router,
    service::Service,
    static_page,
};

struct Args {
    listen: SocketAddr,
    config: Option<PathBuf>,
    static_dir: Option<PathBuf>,
}

const USAGE: &str = "usage: marshal-lambda [--listen ADDR] [--config FILE] [--static-dir DIR]\n\
  --listen ADDR     address to serve on (default 127.0.0.1:8080)\n\
  --config FILE     TOML or JSON configuration (default: $MARSHAL_CONFIG or $MARSHAL_CONFIG_JSON)\n\
  --static-dir DIR  also serve this directory (the built page) at /";

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        config: None,
        static_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--listen" => {
                args.listen = value("--listen")?
                    .parse()
                    .context("--listen: not an address like 127.0.0.1:8080")?
            }
            "--config" => args.config = Some(PathBuf::from(value("--config")?)),
            "--static-dir" => args.static_dir = Some(PathBuf::from(value("--static-dir")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
            }),
        )
        .with_current_span(true)
        .with_span_list(false)
        .init();

    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let args = if in_lambda { None } else { Some(parse_args()?) };
    let config = match args.as_ref().and_then(|a| a.config.as_deref()) {
        Some(path) => Config::from_file(path)?,
        None => Config::from_env()?,
    };
    let timeout = Duration::from_millis(config.limits.aws_call_timeout_ms);
    let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let provider = AwsRegistryProvider::new(base.clone(), timeout);
    let table = std::env::var("MARSHAL_OWNERSHIP_TABLE")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| config.ownership_table.clone());
    let ownership = DynamoOwnershipStore::new(&base, table, timeout);
    ownership.check().await.with_context(|| {
        format!(
            "the ownership table \"{}\" (MARSHAL_OWNERSHIP_TABLE or ownershipTable) cannot be read",
            ownership.table()
        )
    })?;
    let auth = config.auth;
    let service = Service::new(Arc::new(config), Arc::new(provider), Arc::new(ownership));
    let app = router(service);

    if in_lambda {
        if auth == AuthMode::None {
            bail!("auth = \"none\" is refused in AWS Lambda: use the JWT authorizer");
        }
        return lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"));
    }

    let Some(args) = args else {
        unreachable!("args are parsed outside Lambda")
    };
    if auth == AuthMode::None {
        if !args.listen.ip().is_loopback() {
            bail!(
                "auth = \"none\" may only listen on loopback, not {}",
                args.listen
            );
        }
        tracing::warn!(
            "AUTH IS OFF (auth = \"none\"): every caller may use every target. Loopback only, for development."
        );
        eprintln!(
            "WARNING: auth = \"none\": no caller is identified and every target is open. For local development only."
        );
    }
    let app = match &args.static_dir {
        Some(dir) => {
            with_page(app, dir).with_context(|| format!("--static-dir {}", dir.display()))?
        }
        None => app,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "marshal API listening");
    eprintln!("marshal API listening on http://{}", args.listen);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")?;
    Ok(())
}

/// `app` with the built page in `dir` behind it, served with the headers
/// CloudFront sets when deployed ([`static_page::page_headers`]).
fn with_page(app: axum::Router, dir: &std::path::Path) -> anyhow::Result<axum::Router> {
    use axum::http::{HeaderName, HeaderValue};
    use tower::ServiceBuilder;
    use tower_http::set_header::SetResponseHeaderLayer;

    let [a, b, c, d, e, f] = static_page::page_headers(dir)?.map(|(name, value)| {
        HeaderValue::from_str(&value)
            .map(|value| SetResponseHeaderLayer::overriding(HeaderName::from_static(name), value))
            .with_context(|| format!("the page's {name} header: {value:?}"))
    });
    Ok(app.fallback_service(
        ServiceBuilder::new()
            .layer(a?)
            .layer(b?)
            .layer(c?)
            .layer(d?)
            .layer(e?)
            .layer(f?)
            .service(tower_http::services::ServeDir::new(dir)),
    ))
}
