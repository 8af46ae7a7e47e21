//! Marshal's HTTP API: one axum [`Router`](axum::Router) that AWS Lambda runs
//! through `lambda_http` and that the local server runs with axum, so both
//! take the same code path.
//!
//! Layers: `routes` parse and validate HTTP; `service` holds the use cases,
//! written against the ports in `service::registry`; `aws` implements those
//! ports with the AWS SDK. Handlers never call the SDK.
// The OpenAPI document is one `serde_json::json!` literal, deeper than the
// default macro recursion allows.
#![recursion_limit = "256"]

pub mod aws;
pub mod config;
pub mod error;
pub mod expiry;
pub mod identity;
pub mod jwt;
pub mod openapi;
pub mod routes;
pub mod service;
pub mod static_page;
/// In-memory ports for tests; not in release builds (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod worker;

pub use routes::{router, router_verifying};

/// JSON logs to `writer` (`std::io::stdout` or `std::io::stderr`), `info`
/// with the AWS SDK's chatter off unless `RUST_LOG` says otherwise, each
/// line with its request span.
pub fn init_logging<W>(writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
            }),
        )
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .init();
}
