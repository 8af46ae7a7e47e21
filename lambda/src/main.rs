//! `marshal-lambda`: in AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) the router
//! runs under `lambda_http`; elsewhere axum serves it on `--listen`
//! (default 127.0.0.1:8080), optionally with the built page from `--static-dir`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;
use marshal_lambda::{
    config::{AuthMode, Config},
    jwt::{HttpKeySource, TokenVerifier},
    router, router_verifying,
    routes::loopback::{is_loopback_url, loopback_only},
    static_page,
};

struct Args {
    listen: SocketAddr,
    config: Option<PathBuf>,
    static_dir: Option<PathBuf>,
    real_aws_without_auth: bool,
}

const USAGE: &str = "usage: marshal-lambda [--listen ADDR] [--config FILE] [--static-dir DIR] [--real-aws-without-auth]\n\
  --listen ADDR     address to serve on (default 127.0.0.1:8080)\n\
  --config FILE     TOML or JSON configuration (default: $MARSHAL_CONFIG or $MARSHAL_CONFIG_JSON)\n\
  --static-dir DIR  also serve this directory (the built page) at /\n\
  --real-aws-without-auth\n\
                    with auth = \"none\", use this machine's AWS credentials against real AWS\n\
                    (without it, auth = \"none\" needs AWS_ENDPOINT_URL on loopback, e.g. moto)";

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        config: None,
        static_dir: None,
        real_aws_without_auth: false,
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
            "--real-aws-without-auth" => args.real_aws_without_auth = true,
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
    marshal_lambda::init_logging(std::io::stdout);

    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let args = if in_lambda { None } else { Some(parse_args()?) };
    let config = match args.as_ref().and_then(|a| a.config.as_deref()) {
        Some(path) => Config::from_file(path)?,
        None => Config::from_env()?,
    }
    .with_env_overrides(|name| std::env::var(name).ok())?;
    let auth = config.auth;
    if auth == AuthMode::None {
        match &args {
            None => bail!("auth = \"none\" is refused in AWS Lambda: use the JWT authorizer"),
            Some(args) => check_auth_none(args, |name| std::env::var(name).ok())?,
        }
    }
    // Outside Lambda no authorizer has checked the token: the server does,
    // with the `[jwt]` settings. In Lambda those go unused.
    let verifier = match (&args, auth, &config.jwt) {
        (Some(_), AuthMode::Jwt, Some(jwt)) => {
            let source = HttpKeySource::new(&jwt.issuer, jwt.jwks_url.as_deref())
                .map_err(|e| anyhow::anyhow!("[jwt]: {e}"))?;
            eprintln!(
                "checking bearer tokens of {} (audiences {}; keys from {})",
                jwt.issuer,
                jwt.audiences.join(", "),
                jwt.jwks_url.as_deref().unwrap_or("OpenID discovery")
            );
            Some(TokenVerifier::new(jwt.clone(), Arc::new(source)))
        }
        (Some(_), AuthMode::Jwt, None) => bail!(
            "auth = \"jwt\" outside AWS Lambda needs a [jwt] table (issuer, audiences) to check \
             tokens as API Gateway's authorizer would; or use auth = \"none\" on loopback"
        ),
        _ => None,
    };
    let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
    // Where the page sends job files: its connect-src must allow it.
    let job_files = config.jobs.bucket.as_deref().and_then(|bucket| {
        // As `S3JobFiles` addresses it: path-style under an endpoint URL.
        static_page::job_files_source(
            bucket,
            base.endpoint_url(),
            base.region().map(|r| r.as_ref()),
        )
    });
    let service = marshal_lambda::aws::service(config, &base)
        .await
        .map_err(anyhow::Error::msg)?;
    let app = match verifier {
        Some(verifier) => router_verifying(service, verifier),
        None => router(service),
    };

    let Some(args) = args else {
        return lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"));
    };
    let app = match &args.static_dir {
        Some(dir) => with_page(app, dir, auth, job_files.as_deref())
            .with_context(|| format!("--static-dir {}", dir.display()))?,
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

/// Refuses to run without authentication unless nobody else can reach the
/// server and nothing real is at stake: a loopback address, and AWS calls
/// going to a loopback endpoint (moto) unless `--real-aws-without-auth`
/// says otherwise. The router itself refuses requests not addressed to
/// loopback (`routes::loopback`). `env` reads an environment variable.
fn check_auth_none(args: &Args, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "auth = \"none\" may only listen on loopback, not {}",
            args.listen
        );
    }
    match local_aws_endpoint(env) {
        Ok(endpoint) => {
            tracing::warn!(
                aws_endpoint = %endpoint,
                "AUTH IS OFF (auth = \"none\"): every caller may use every target. Loopback only, for development."
            );
            eprintln!(
                "WARNING: auth = \"none\": no caller is identified and every target is open. \
                 AWS calls go to {endpoint}. For local development only."
            );
        }
        Err(why) if args.real_aws_without_auth => {
            tracing::warn!(
                why = %why,
                "AUTH IS OFF against REAL AWS (auth = \"none\", --real-aws-without-auth)"
            );
            let rule = "!".repeat(78);
            eprintln!(
                "{rule}\n\
                 !! WARNING: NO AUTHENTICATION, REAL AWS (auth = \"none\", --real-aws-without-auth)\n\
                 !! Every program on this machine, and anything a tunnel forwards to\n\
                 !! {listen}, can register, deactivate, REVOKE and delete certificates\n\
                 !! in every configured target with this machine's AWS credentials.\n\
                 !! ({why})\n\
                 !! Stop it (Ctrl-C) as soon as you are done.\n\
                 {rule}",
                listen = args.listen
            );
        }
        Err(why) => bail!(
            "auth = \"none\" runs only against a local AWS stand-in: {why}. \
             Point AWS_ENDPOINT_URL at one on loopback (e.g. moto, as `cargo xtask dev` does), \
             use auth = \"jwt\", or pass --real-aws-without-auth to use this machine's AWS \
             credentials with no authentication in front of them"
        ),
    }
    Ok(())
}

/// The loopback endpoint every AWS call of the API goes to, or why there is
/// none. The SDK takes `AWS_ENDPOINT_URL_<SERVICE>` over `AWS_ENDPOINT_URL`
/// over the shared config file's settings, and
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` drops them all.
fn local_aws_endpoint(env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let Some(endpoint) = set("AWS_ENDPOINT_URL") else {
        return Err("AWS_ENDPOINT_URL is not set".into());
    };
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_IOT",
    ] {
        if let Some(url) = set(name)
            && !is_loopback_url(url.trim())
        {
            return Err(format!("{name} ({url}) is not a loopback URL"));
        }
    }
    if set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"))
    {
        return Err(
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS makes the SDK ignore AWS_ENDPOINT_URL".into(),
        );
    }
    Ok(endpoint)
}

/// `app` with the built page in `dir` behind it, served with the headers
/// CloudFront sets when deployed ([`static_page::page_headers`]) and, like
/// the API, only to loopback callers when `auth` is `none`.
fn with_page(
    app: axum::Router,
    dir: &std::path::Path,
    auth: AuthMode,
    job_files: Option<&str>,
) -> anyhow::Result<axum::Router> {
    use axum::http::{HeaderName, HeaderValue};
    use tower::ServiceBuilder;
    use tower_http::set_header::SetResponseHeaderLayer;

    let [a, b, c, d, e, f] = static_page::page_headers(dir, job_files)?.map(|(name, value)| {
        HeaderValue::from_str(&value)
            .map(|value| SetResponseHeaderLayer::overriding(HeaderName::from_static(name), value))
            .with_context(|| format!("the page's {name} header: {value:?}"))
    });
    // index.html with its <meta> policy allowing what the header allows.
    let mut files = axum::Router::new();
    if let Some(html) = static_page::index_html(dir, job_files)? {
        let index = move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        };
        files = files
            .route("/", axum::routing::get(index.clone()))
            .route("/index.html", axum::routing::get(index));
    }
    let files = files.fallback_service(tower_http::services::ServeDir::new(dir));
    Ok(app.fallback_service(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(auth, loopback_only))
            .layer(a?)
            .layer(b?)
            .layer(c?)
            .layer(d?)
            .layer(e?)
            .layer(f?)
            .service(files),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn auth_none_needs_aws_on_loopback() {
        let moto = ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
        assert_eq!(
            local_aws_endpoint(env(&[moto])),
            Ok("http://127.0.0.1:5000".into())
        );
        assert!(local_aws_endpoint(env(&[("AWS_ENDPOINT_URL", "http://localhost:4566/")])).is_ok());
        for (vars, why) in [
            (vec![], "AWS_ENDPOINT_URL is not set"),
            (
                vec![("AWS_ENDPOINT_URL", " ")],
                "AWS_ENDPOINT_URL is not set",
            ),
            (
                vec![("AWS_ENDPOINT_URL", "https://sts.amazonaws.com")],
                "AWS_ENDPOINT_URL (https://sts.amazonaws.com) is not a loopback URL",
            ),
            (
                vec![
                    moto,
                    (
                        "AWS_ENDPOINT_URL_STS",
                        "https://sts.us-east-1.amazonaws.com",
                    ),
                ],
                "AWS_ENDPOINT_URL_STS",
            ),
            (
                vec![
                    moto,
                    (
                        "AWS_ENDPOINT_URL_IOT",
                        "https://iot.us-east-1.amazonaws.com",
                    ),
                ],
                "AWS_ENDPOINT_URL_IOT",
            ),
            (
                vec![moto, ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")],
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
            ),
        ] {
            let err = local_aws_endpoint(env(&vars)).unwrap_err();
            assert!(err.contains(why), "{vars:?}: {err}");
        }
        assert!(
            local_aws_endpoint(env(&[
                moto,
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false")
            ]))
            .is_ok()
        );
    }

    #[test]
    fn auth_none_refuses_real_aws_unless_told() {
        let mut args = Args {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            config: None,
            static_dir: None,
            real_aws_without_auth: false,
        };
        let real = env(&[]);
        let err = check_auth_none(&args, &real).unwrap_err().to_string();
        assert!(err.contains("--real-aws-without-auth"), "{err}");
        args.real_aws_without_auth = true;
        assert!(check_auth_none(&args, &real).is_ok());
        args.listen = SocketAddr::from(([0, 0, 0, 0], 8080));
        assert!(
            check_auth_none(&args, &real).is_err(),
            "loopback stays required"
        );
        args.listen = SocketAddr::from(([127, 0, 0, 1], 8080));
        args.real_aws_without_auth = false;
        assert!(check_auth_none(&args, env(&[("AWS_ENDPOINT_URL", "http://[::1]:5000")])).is_ok());
    }
}
