//! `cargo xtask dev`: a local Marshal to click through with no AWS account.
//! moto server (fake IoT and STS) seeded with two accounts × two regions,
//! and the API serving `dev/marshal.dev.toml` against it and the built page
//! at `/`, until Ctrl-C. With `--auth`, also a real OpenID provider
//! (`dev/oidc/provider.mjs`, npm oidc-provider) with two test users; the
//! API checks its tokens (`dev/marshal.dev-auth.toml`) and the page signs in
//! there.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::{Context, Result, bail};

use crate::{
    cmd::{capture, run},
    install::install,
    project::Project,
    services::{Output, Services, ensure_port_free},
};

/// Where a target is; mirrors the `[[targets]]` of [`CONFIG`], which the API
/// reads. (Kept apart because xtask has no TOML parser; if they drift, the
/// policy template in the configuration still creates what is missing.)
#[derive(Debug)]
struct DevTarget {
    id: &'static str,
    account_id: &'static str,
    region: &'static str,
}

const TARGETS: &[DevTarget] = &[
    DevTarget {
        id: "dev-a-tokyo",
        account_id: "111111111111",
        region: "ap-northeast-1",
    },
    DevTarget {
        id: "dev-a-virginia",
        account_id: "111111111111",
        region: "us-east-1",
    },
    DevTarget {
        id: "dev-b-tokyo",
        account_id: "222222222222",
        region: "ap-northeast-1",
    },
    DevTarget {
        id: "dev-b-virginia",
        account_id: "222222222222",
        region: "us-east-1",
    },
];

/// The API's configuration, relative to the workspace root.
const CONFIG: &str = "dev/marshal.dev.toml";
/// With `--auth`: the same targets, each allowed to one group, tokens checked.
const AUTH_CONFIG: &str = "dev/marshal.dev-auth.toml";
/// The issuer [`AUTH_CONFIG`] names; its port becomes `--oidc-port`'s.
const AUTH_CONFIG_ISSUER: &str = "http://127.0.0.1:5056";
/// The provider script, and the page's public client there.
const PROVIDER: &str = "dev/oidc/provider.mjs";
const PAGE_CLIENT: &str = "marshal-page";
/// The provider's test users (`provider.mjs`): name, password, group.
const USERS: [(&str, &str, &str); 2] = [
    ("alice", "alice-pass", "factory-a"),
    ("bob", "bob-pass", "factory-b"),
];
/// The role the API assumes in each target account, with [`EXTERNAL_ID`].
const ROLE_NAME: &str = "MarshalTarget";
const EXTERNAL_ID: &str = "marshal-dev";
/// The IoT policy seeded in every target, and its topic prefix.
const POLICY: &str = "MarshalDevice";
const TOPIC_PREFIX: &str = "devices";
/// Dummy credentials of the "hub": moto maps an access key it does not know
/// to its default account (123456789012) and never checks the secret.
const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_ACCESS_KEY: &str = "dummy";
const HUB_REGION: &str = "ap-northeast-1";
/// The API's ownership table (the configuration's default name), made in the
/// hub account by the seed.
const OWNERSHIP_TABLE: &str = "marshal-ownership";
/// The jobs table, queue and bucket of `[jobs]` in both dev configurations.
const JOBS: &str = "marshal-jobs";
/// Importing moto takes a few seconds on a cold cache.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long moto and the API get to exit on their own after Ctrl-C.
const GRACE: Duration = Duration::from_secs(2);

/// Set by the signal handler (SIGINT, SIGTERM, SIGHUP).
static STOP: AtomicBool = AtomicBool::new(false);

/// `cargo xtask dev [--port N] [--moto-port N]`.
#[derive(Debug)]
pub(crate) struct Options {
    /// The API's port on 127.0.0.1.
    port: u16,
    /// moto's port on 127.0.0.1.
    moto_port: u16,
    /// `--auth`: the OpenID provider's port on 127.0.0.1.
    oidc_port: Option<u16>,
}

impl Options {
    pub(crate) fn parse(args: &[&str]) -> Result<Options> {
        let mut options = Options {
            port: 8080,
            moto_port: 5055,
            oidc_port: None,
        };
        let mut auth = false;
        let mut oidc_port = 5056;
        let mut args = args.iter();
        while let Some(&flag) = args.next() {
            let slot = match flag {
                "--port" => &mut options.port,
                "--moto-port" => &mut options.moto_port,
                "--oidc-port" => {
                    auth = true;
                    &mut oidc_port
                }
                "--auth" => {
                    auth = true;
                    continue;
                }
                other => bail!(
                    "dev: unknown argument {other} (expected --port N, --moto-port N, --auth, --oidc-port N)"
                ),
            };
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a port"))?;
            *slot = value
                .parse()
                .ok()
                .filter(|&port| port != 0)
                .with_context(|| format!("{flag} {value}: not a port (1-65535)"))?;
        }
        if options.port == options.moto_port {
            bail!("--port and --moto-port must differ");
        }
        if auth {
            if oidc_port == options.port || oidc_port == options.moto_port {
                bail!("--oidc-port must differ from --port and --moto-port");
            }
            options.oidc_port = Some(oidc_port);
        }
        Ok(options)
    }
}

pub(crate) fn dev(project: &Project, options: &Options) -> Result<()> {
    // Before the slow steps, so a second `cargo xtask dev` fails at once.
    ensure_port_free(options.moto_port, "--moto-port")?;
    ensure_port_free(options.port, "--port")?;
    if let Some(port) = options.oidc_port {
        ensure_port_free(port, "--oidc-port")?;
    }
    install(project)?;
    println!("\n==> build the API, the worker and the CLI");
    // The whole workspace's binaries, not `-p` selections: those resolve
    // other features of the AWS SDK and so build it a second time beside
    // what `cargo xtask test` builds.
    run(&mut project.cargo(&["build", "--workspace", "--bins", "--locked"]))?;
    let bins = Binaries::of(project)?;
    println!("\n==> build the page");
    let page = crate::page::build(project)?;

    // From here on Ctrl-C must not kill xtask before it has stopped its
    // children: the handler only asks, and the loops below check.
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let mut services = Services::default();
    let result = start_and_watch(project, options, &bins, &page, &mut services);
    println!("\n==> stopping");
    let stopped = STOP.load(Ordering::SeqCst);
    // After Ctrl-C the children are exiting on their own; otherwise
    // (a child died, startup failed) there is nothing to wait for.
    services.stop_all(if stopped { GRACE } else { Duration::ZERO });
    if stopped {
        println!("stopped by signal; nothing left running");
        return Ok(());
    }
    result
}

/// The built binaries `dev` runs.
#[derive(Debug)]
struct Binaries {
    api: PathBuf,
    cli: PathBuf,
    worker: PathBuf,
}

impl Binaries {
    fn of(project: &Project) -> Result<Binaries> {
        let bin = |name: &str| {
            let path = project.target_dir.join("debug").join(name);
            if path.is_file() {
                Ok(path)
            } else {
                bail!("{} is missing after the build", path.display())
            }
        };
        Ok(Binaries {
            api: bin("marshal-lambda")?,
            cli: bin("marshal")?,
            worker: bin("marshal-worker")?,
        })
    }
}

fn start_and_watch(
    project: &Project,
    options: &Options,
    bins: &Binaries,
    page: &Path,
    services: &mut Services,
) -> Result<()> {
    let logs = project.target_dir.join("marshal-dev");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let moto_log = logs.join("moto.log");
    let endpoint = format!("http://127.0.0.1:{}", options.moto_port);

    println!(
        "\n==> moto server on {endpoint} (log: {})",
        moto_log.display()
    );
    // Checked again: the build may have taken minutes, and a readiness probe
    // answered by someone else's server would hide our own failing to bind.
    ensure_port_free(options.moto_port, "--moto-port")?;
    services.start(
        "moto server",
        Command::new(project.python())
            .arg(project.root.join("tests/moto/launcher.py"))
            .arg(options.moto_port.to_string()),
        Output::File(moto_log),
    )?;
    services.wait_until_answers(options.moto_port, "/moto-api/", None, START_TIMEOUT, &STOP)?;

    println!("\n==> seed moto: role {ROLE_NAME} per account, policy {POLICY} per target");
    let queue_url = seed(project, &bins.cli, &endpoint, options.port)?;

    let api = format!("http://127.0.0.1:{}", options.port);
    let (config, page, issuer) = match options.oidc_port {
        None => (project.root.join(CONFIG), page.to_owned(), None),
        Some(port) => {
            let issuer = start_provider(project, port, &api, &logs, services)?;
            let (config, page) = auth_config_and_page(project, page, &api, &issuer, &logs)?;
            (config, page, Some(issuer))
        }
    };
    println!("\n==> API on {api} ({})", config.display());
    let mut cmd = Command::new(&bins.api);
    cmd.arg("--listen")
        .arg(format!("127.0.0.1:{}", options.port))
        .arg("--config")
        .arg(&config)
        .arg("--static-dir")
        .arg(&page)
        .current_dir(&project.root);
    fake_aws_env(&mut cmd, &endpoint);
    // The queue's URL names moto's port, so it comes from the seed.
    cmd.env("MARSHAL_JOBS_QUEUE_URL", &queue_url);
    ensure_port_free(options.port, "--port")?;
    services.start("API", &mut cmd, Output::Inherit)?;
    services.wait_until_answers(options.port, "/v1/health", Some(200), START_TIMEOUT, &STOP)?;

    let worker_log = logs.join("worker.log");
    println!(
        "\n==> job worker polling {queue_url} (log: {})",
        worker_log.display()
    );
    let mut cmd = Command::new(&bins.worker);
    cmd.args(["--poll", "--config"])
        .arg(&config)
        .current_dir(&project.root)
        .env("MARSHAL_JOBS_QUEUE_URL", &queue_url);
    fake_aws_env(&mut cmd, &endpoint);
    services.start("job worker", &mut cmd, Output::File(worker_log))?;

    print_banner(&api, &endpoint, &logs, &bins.cli, issuer.as_deref());
    services.watch(&STOP)
}

/// Starts the OpenID provider on `port` with the page at `api` as its
/// client; returns its issuer URL once it answers discovery.
fn start_provider(
    project: &Project,
    port: u16,
    api: &str,
    logs: &Path,
    services: &mut Services,
) -> Result<String> {
    let issuer = format!("http://127.0.0.1:{port}");
    let log = logs.join("oidc-provider.log");
    println!(
        "\n==> OpenID provider on {issuer} ({PROVIDER}, log: {})",
        log.display()
    );
    ensure_port_free(port, "--oidc-port")?;
    services.start(
        "OpenID provider",
        Command::new("node")
            .arg(project.root.join(PROVIDER))
            .args(["--port", &port.to_string()])
            .arg("--node-modules")
            .arg(project.node_modules())
            .args(["--client-id", PAGE_CLIENT])
            .args(["--redirect-uri", &format!("{api}/")])
            .args(["--post-logout-uri", &format!("{api}/signed-out.html")]),
        Output::File(log),
    )?;
    services.wait_until_answers(
        port,
        "/.well-known/openid-configuration",
        Some(200),
        START_TIMEOUT,
        &STOP,
    )?;
    Ok(issuer)
}

/// The API's configuration with `issuer` (written next to the logs when the
/// port is not the default), and the page copied with a `config.json` that
/// signs in there.
fn auth_config_and_page(
    project: &Project,
    built: &Path,
    api: &str,
    issuer: &str,
    logs: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let source = project.root.join(AUTH_CONFIG);
    let text = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    if !text.contains(AUTH_CONFIG_ISSUER) {
        bail!("{} no longer names {AUTH_CONFIG_ISSUER}", source.display());
    }
    let config = if issuer == AUTH_CONFIG_ISSUER {
        source
    } else {
        let written = logs.join("marshal.dev-auth.toml");
        std::fs::write(&written, text.replace(AUTH_CONFIG_ISSUER, issuer))
            .with_context(|| format!("writing {}", written.display()))?;
        written
    };
    let page = project.target_dir.join("page-dev-auth");
    crate::deploy::page_signing_in_at(built, &page, api, issuer, PAGE_CLIENT)?;
    Ok((config, page))
}

/// Points the AWS SDK (Rust or boto3) at moto with the hub's dummy
/// credentials, and drops anything that could send it elsewhere.
fn fake_aws_env(cmd: &mut Command, endpoint: &str) {
    for name in [
        "MARSHAL_CONFIG",
        "MARSHAL_CONFIG_JSON",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_IOT",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_IOT_DATA_PLANE",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", HUB_REGION)
        .env("AWS_DEFAULT_REGION", HUB_REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// Runs `tests/moto/seed.py` with each target's policy document as the
/// `marshal policy` CLI makes it (least privilege, never `iot:*`); and the
/// jobs' table, queue and bucket. Returns the jobs queue's URL.
fn seed(project: &Project, cli: &Path, endpoint: &str, page_port: u16) -> Result<String> {
    let mut targets = Vec::new();
    for target in TARGETS {
        let document = capture(Command::new(cli).args([
            "policy",
            "--prefix",
            TOPIC_PREFIX,
            "--region",
            target.region,
            "--account",
            target.account_id,
        ]))?;
        // Every value but the document is one of the constants above, none
        // of which needs escaping; the document is JSON already.
        targets.push(format!(
            r#"{{"accountId":"{account}","region":"{region}","roleArn":"arn:aws:iam::{account}:role/{ROLE_NAME}","externalId":"{EXTERNAL_ID}","policies":[{{"name":"{POLICY}","document":{document}}}]}}"#,
            account = target.account_id,
            region = target.region,
            document = document.trim(),
        ));
    }
    let spec = format!(
        r#"{{"targets":[{}],"ownershipTable":{{"name":"{OWNERSHIP_TABLE}","region":"{HUB_REGION}"}},"jobs":{{"table":"{JOBS}","queue":"{JOBS}","bucket":"{JOBS}","region":"{HUB_REGION}","pageOrigins":["http://127.0.0.1:{page_port}","http://localhost:{page_port}"]}}}}"#,
        targets.join(",")
    );

    let script = project.root.join("tests/moto/seed.py");
    let mut cmd = Command::new(project.python());
    cmd.arg(&script).arg("--endpoint").arg(endpoint);
    fake_aws_env(&mut cmd, endpoint);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not run {}", script.display()))?;
    child
        .stdin
        .take()
        .context("seed.py's stdin is piped")?
        .write_all(spec.as_bytes())
        .context("writing the seed spec")?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "{} failed ({}); it read:\n{spec}",
            script.display(),
            output.status
        );
    }
    let mut accounts: Vec<&str> = TARGETS.iter().map(|t| t.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    println!(
        "seeded   {} targets in accounts {} (role {ROLE_NAME}, ExternalId {EXTERNAL_ID}, policy {POLICY}), \
         jobs table, queue and bucket {JOBS}",
        TARGETS.len(),
        accounts.join(", ")
    );
    queue_url(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("{} gave no jobs.queueUrl", script.display()))
}

/// The jobs queue's URL in seed.py's summary (`"queueUrl": "..."`).
fn queue_url(summary: &str) -> Option<String> {
    let (_, rest) = summary.split_once("\"queueUrl\": \"")?;
    let (url, _) = rest.split_once('"')?;
    url.starts_with("http://127.0.0.1:").then(|| url.to_owned())
}

fn print_banner(api: &str, moto: &str, logs: &Path, cli: &Path, issuer: Option<&str>) {
    let cli = cli.display();
    let (auth, sign_in) = match issuer {
        None => (format!("auth none, config {CONFIG}"), String::new()),
        Some(issuer) => {
            let users: Vec<String> = USERS
                .iter()
                .map(|(name, password, group)| {
                    format!("          {name:<6} password {password:<11} group {group}")
                })
                .collect();
            (
                format!("auth jwt, config {AUTH_CONFIG}"),
                format!(
                    "  sign-in {issuer}   OpenID provider (oidc-provider), test users:\n{}\n          \
                     factory-a may use the dev-a-* targets, factory-b the dev-b-* ones.\n\
                     \x20         The CLI needs a token: sign in on the page, or see README.md.\n",
                    users.join("\n")
                ),
            )
        }
    };
    let ids: Vec<&str> = TARGETS.iter().map(|t| t.id).collect();
    let cert = "/tmp/marshal-dev/my-thing.cert.pem";
    let expiry = Path::new(&cli.to_string()).with_file_name("marshal-expiry");
    println!(
        "
================================================================================
Marshal is running locally (Ctrl-C stops everything):

  page    {api}/      (open it in a browser)
  API     {api}/v1   {auth}
{sign_in}  moto    {moto}     fake AWS IoT, STS, DynamoDB, SQS, S3; logs in {logs}
  worker  factory jobs (marshal register --batch DIR --job), log worker.log
  targets {targets}
          (accounts 111111111111 and 222222222222 × ap-northeast-1 and us-east-1)
  policy  {POLICY}

Try it:

  export MARSHAL_API={api}
  mkdir -p /tmp/marshal-dev
  {cli} targets
  {cli} keygen --cn my-thing --out /tmp/marshal-dev --force
  {cli} register {cert} --target dev-a-tokyo,dev-b-virginia
  {cli} status {cert}
  curl -s {api}/v1/openapi.json
  {cli} inventory

The expiry report (a daily schedule in AWS), once, against moto:

  AWS_ENDPOINT_URL={moto} AWS_ACCESS_KEY_ID={ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={SECRET_ACCESS_KEY} \\
    AWS_REGION={HUB_REGION} {expiry} --once --config {CONFIG}

The private key stays in /tmp/marshal-dev; only the certificate is sent.
================================================================================
",
        logs = logs.display(),
        targets = ids.join(", "),
        expiry = expiry.display(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let parse =
            |args: &[&str]| Options::parse(args).map(|o| (o.port, o.moto_port, o.oidc_port));
        assert_eq!(parse(&[]).ok(), Some((8080, 5055, None)));
        assert_eq!(
            parse(&["--port", "9000", "--moto-port", "6000"]).ok(),
            Some((9000, 6000, None))
        );
        assert_eq!(parse(&["--auth"]).ok(), Some((8080, 5055, Some(5056))));
        assert_eq!(
            parse(&["--oidc-port", "7000"]).ok(),
            Some((8080, 5055, Some(7000)))
        );
        for bad in [
            &["--port"][..],
            &["--port", "0"],
            &["--port", "x"],
            &["--port", "70000"],
            &["--moto-port", "8080"],
            &["--auth", "--oidc-port", "8080"],
            &["--verbose"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
