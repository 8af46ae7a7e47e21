//! Deploying with AWS SAM: the checks `cargo xtask test` runs on
//! `template.yaml` and `deploy/target-role.yaml` and the arm64 Lambda build
//! (all offline: no AWS account, no credentials), and `cargo xtask
//! deploy-page`, which uploads the page after `sam deploy`.

use std::{ffi::OsString, path::Path, process::Command};

use anyhow::{Context, Result, bail};

use crate::{
    cmd::{capture, run, which},
    install::install,
    project::{Project, Venv},
    steps::Steps,
};

/// The Lambda's architecture (template.yaml: `arm64`).
pub(crate) const LAMBDA_TARGET: &str = "aarch64-unknown-linux-gnu";

/// The templates every check reads, relative to the workspace root.
const TEMPLATES: &[&str] = &["template.yaml", "deploy/target-role.yaml"];

/// The linters need a region to pick a resource specification; nothing is sent.
const LINT_REGION: &str = "us-east-1";

/// Where `cargo lambda build` leaves the function's zip, under the target dir.
const LAMBDA_ZIP: &str = "lambda/marshal-lambda/bootstrap.zip";

/// The aim for the function's zip (Lambda itself takes 50 MB): a build above
/// it fails, so growth is a decision rather than an accident.
const ZIP_BUDGET_BYTES: u64 = 8 * 1024 * 1024;

/// `cargo xtask deploy-check`: the deploy steps of `cargo xtask test` alone.
pub(crate) fn check(project: &Project) -> Result<()> {
    let mut steps = Steps::default();
    let result = steps
        .run("install", || install(project))
        .and_then(|()| template_steps(project, &mut steps))
        .and_then(|()| lambda_step(project, &mut steps));
    steps.print_summary();
    result
}

/// The checks of the templates, seconds each.
pub(crate) fn template_steps(project: &Project, steps: &mut Steps) -> Result<()> {
    steps.run("cfn-lint", || cfn_lint(project))?;
    steps.run("sam validate --lint", || sam_validate(project))?;
    steps.run("checkov", || checkov(project))
}

/// The arm64 build of the function, minutes when cold.
pub(crate) fn lambda_step(project: &Project, steps: &mut Steps) -> Result<()> {
    steps.run("cargo lambda build (arm64)", || lambda_build(project))
}

/// `tool` from `venv` in the workspace root, cut off from any AWS account:
/// no credentials from the environment or `~/.aws`, no instance metadata,
/// no telemetry. What runs this way cannot reach AWS even by mistake.
fn offline(project: &Project, venv: &Venv, tool: &str) -> Command {
    let mut cmd = Command::new(venv.bin().join(tool));
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        cmd.env_remove(name);
    }
    cmd.current_dir(&project.root)
        .env("AWS_DEFAULT_REGION", LINT_REGION)
        .env("AWS_REGION", LINT_REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SAM_CLI_TELEMETRY", "0");
    cmd
}

/// `cfn-lint` on both templates.
fn cfn_lint(project: &Project) -> Result<()> {
    run(offline(project, &project.deploy_venv, "cfn-lint").args(TEMPLATES))
}

/// `sam validate --lint` on both templates (SAM's transform, then cfn-lint).
fn sam_validate(project: &Project) -> Result<()> {
    for template in TEMPLATES {
        run(offline(project, &project.deploy_venv, "sam")
            .args(["validate", "--lint", "--template"])
            .arg(template))?;
    }
    Ok(())
}

/// checkov on both templates: fails on any failed check. A check a
/// template does not follow is skipped in that template's `Metadata` with
/// its reason (tests/tests/deploy_templates.rs makes sure each has one).
fn checkov(project: &Project) -> Result<()> {
    let mut cmd = offline(project, &project.checkov_venv, "checkov");
    cmd.args(["--framework", "cloudformation", "--compact", "--quiet"])
        // Prisma Cloud's guidelines and severities: not needed, and offline.
        .arg("--skip-download");
    for template in TEMPLATES {
        cmd.args(["--file", template]);
    }
    run(&mut cmd)
}

/// `cargo lambda build --release --arm64` of the API, as `sam build` does
/// it, into the shared target dir; prints the zip's size and fails above
/// [`ZIP_BUDGET_BYTES`].
fn lambda_build(project: &Project) -> Result<()> {
    let mut cmd = project.cargo(&[
        "lambda",
        "build",
        "--release",
        "--arm64",
        "--output-format",
        "zip",
        "--package",
        "marshal-lambda",
        "--locked",
    ]);
    // cargo-lambda, and the zig it cross-links with (`python3 -m ziglang`),
    // come from the deploy virtualenv.
    cmd.env("PATH", path_with(&project.deploy_venv.bin())?);
    run(&mut cmd)?;
    let zip = project.target_dir.join(LAMBDA_ZIP);
    let bytes = std::fs::metadata(&zip)
        .with_context(|| format!("cargo lambda build left no {}", zip.display()))?
        .len();
    println!(
        "{}: {bytes} bytes ({:.2} MiB)",
        zip.display(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    if bytes > ZIP_BUDGET_BYTES {
        bail!(
            "the function's zip is {bytes} bytes, above the {ZIP_BUDGET_BYTES}-byte budget: \
             find what grew (cargo tree -p marshal-lambda) before raising it"
        );
    }
    Ok(())
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> Result<OsString> {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest)))
        .context("the virtualenv's path cannot go on PATH")
}

// ------------------------------------------------------------- deploy-page

/// `cargo xtask deploy-page --stack NAME [--region REGION]`.
#[derive(Debug)]
pub(crate) struct PageOptions {
    stack: String,
    region: Option<String>,
}

impl PageOptions {
    pub(crate) fn parse(args: &[&str]) -> Result<PageOptions> {
        let (mut stack, mut region) = (None, None);
        let mut args = args.iter();
        while let Some(&flag) = args.next() {
            let slot = match flag {
                "--stack" => &mut stack,
                "--region" => &mut region,
                other => bail!(
                    "deploy-page: unknown argument {other} (expected --stack NAME, --region REGION)"
                ),
            };
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a value"))?;
            *slot = Some((*value).to_owned());
        }
        Ok(PageOptions {
            stack: stack.context("deploy-page needs --stack NAME (the `sam deploy` stack)")?,
            region,
        })
    }
}

/// What the page needs from the stack's outputs.
#[derive(Debug)]
struct StackOutputs {
    bucket: String,
    distribution: String,
    api_url: String,
    issuer: String,
    /// Only when the stack made the Cognito user pool.
    client_id: Option<String>,
    sign_in_url: Option<String>,
}

/// The outputs read, in the order `describe-stacks --output text` prints them.
const OUTPUT_KEYS: &[&str] = &[
    "PageBucketName",
    "PageDistributionId",
    "ApiUrl",
    "JwtIssuerUrl",
    "UserPoolClientId",
    "SignInUrl",
];

/// Builds the page with trunk, uploads it to the stack's bucket and
/// invalidates the distribution. Uses the caller's AWS credentials.
pub(crate) fn deploy_page(project: &Project, options: &PageOptions) -> Result<()> {
    // Before anything slow: is there a page to deploy at all?
    let frontend = project.root.join("frontend");
    if !frontend.join("index.html").is_file() {
        bail!(
            "there is no page to deploy yet: frontend/ has no index.html (the page arrives with \
             its issue). Nothing was built or uploaded."
        );
    }
    if which("trunk").is_none() {
        bail!("trunk is not on PATH: `cargo install --locked trunk@0.21.14` (see TOOLCHAIN notes)");
    }
    install(project)?;

    println!("\n==> stack outputs of {}", options.stack);
    let outputs = stack_outputs(project, options)?;

    println!("\n==> build the page");
    let dist = project.target_dir.join("page-dist");
    run(Command::new("trunk")
        .args(["build", "--release", "--dist"])
        .arg(&dist)
        .current_dir(&frontend)
        .env("CARGO_TARGET_DIR", &project.target_dir))?;
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("trunk left no {}", index.display()))?;
    std::fs::write(&index, with_connect_policy(&html, &outputs)?)?;
    std::fs::write(dist.join("config.json"), runtime_config(&outputs))?;

    println!("\n==> upload to s3://{}", outputs.bucket);
    let bucket = format!("s3://{}/", outputs.bucket);
    let dist_arg = dist.display().to_string();
    // Hashed assets first and for good, then the two files that name them,
    // never cached, so no browser sees an index whose assets are missing.
    run(aws(project, options)
        .args(["s3", "sync", &dist_arg, &bucket])
        .args(["--exclude", "index.html", "--exclude", "config.json"])
        .args(["--cache-control", "public, max-age=31536000, immutable"]))?;
    for file in ["index.html", "config.json"] {
        run(aws(project, options)
            .args(["s3", "cp"])
            .arg(dist.join(file))
            .arg(format!("{bucket}{file}"))
            .args(["--cache-control", "no-cache"]))?;
    }
    // Old assets last; the bucket keeps their versions for 30 days.
    run(aws(project, options).args(["s3", "sync", &dist_arg, &bucket, "--delete"]))?;

    println!("\n==> invalidate CloudFront {}", outputs.distribution);
    run(aws(project, options).args([
        "cloudfront",
        "create-invalidation",
        "--distribution-id",
        &outputs.distribution,
        "--paths",
        "/*",
    ]))?;
    println!("\nuploaded; the page is at the stack's PageUrl output");
    Ok(())
}

/// The deploy virtualenv's AWS CLI with the caller's credentials.
fn aws(project: &Project, options: &PageOptions) -> Command {
    let mut cmd = Command::new(project.deploy_venv.bin().join("aws"));
    if let Some(region) = &options.region {
        cmd.args(["--region", region]);
    }
    cmd
}

fn stack_outputs(project: &Project, options: &PageOptions) -> Result<StackOutputs> {
    let query = format!(
        "Stacks[0].[{}]",
        OUTPUT_KEYS
            .iter()
            .map(|key| format!("Outputs[?OutputKey=='{key}'].OutputValue|[0]"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let text = capture(aws(project, options).args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &options.stack,
        "--query",
        &query,
        "--output",
        "text",
    ]))?;
    parse_outputs(&text).with_context(|| format!("stack {}", options.stack))
}

/// One line of tab-separated values in [`OUTPUT_KEYS`] order, `None` for an
/// absent output.
fn parse_outputs(text: &str) -> Result<StackOutputs> {
    let values: Vec<Option<String>> = text
        .trim_end()
        .split('\t')
        .map(|v| (v != "None" && !v.is_empty()).then(|| v.to_owned()))
        .collect();
    if values.len() != OUTPUT_KEYS.len() {
        bail!("expected {} outputs, got {text:?}", OUTPUT_KEYS.len());
    }
    let required = |i: usize| {
        values[i]
            .clone()
            .with_context(|| format!("has no output {}: is it a Marshal stack?", OUTPUT_KEYS[i]))
    };
    Ok(StackOutputs {
        bucket: required(0)?,
        distribution: required(1)?,
        api_url: required(2)?,
        issuer: required(3)?,
        client_id: values[4].clone(),
        sign_in_url: values[5].clone(),
    })
}

/// `scheme://host` of a URL.
fn origin(url: &str) -> Result<&str> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("{url}: not a URL"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        bail!("{url}: no host");
    }
    Ok(&url[..scheme.len() + 3 + host.len()])
}

/// The page's HTML with a second Content-Security-Policy (a `<meta>` first
/// in `<head>`) that narrows the header's regional `execute-api` wildcard
/// to this stack's API. Browsers enforce both policies.
fn with_connect_policy(html: &str, outputs: &StackOutputs) -> Result<String> {
    let sign_in = outputs.sign_in_url.as_deref().unwrap_or(&outputs.issuer);
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"connect-src 'self' {} {}\">",
        origin(&outputs.api_url)?,
        origin(sign_in)?
    );
    let Some(head) = html.to_ascii_lowercase().find("<head>") else {
        bail!("the built index.html has no <head>: cannot add the connect-src policy");
    };
    let at = head + "<head>".len();
    Ok(format!("{}{meta}{}", &html[..at], &html[at..]))
}

/// `config.json`, read by the page at start: where the API and sign-in are.
fn runtime_config(outputs: &StackOutputs) -> String {
    let field = |value: Option<&str>| match value {
        Some(v) => format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")),
        None => "null".to_owned(),
    };
    format!(
        "{{\"apiUrl\":{},\"auth\":{{\"issuer\":{},\"clientId\":{},\"signInUrl\":{}}}}}\n",
        field(Some(&outputs.api_url)),
        field(Some(&outputs.issuer)),
        field(outputs.client_id.as_deref()),
        field(outputs.sign_in_url.as_deref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> StackOutputs {
        parse_outputs(
            "bucket-1\tE123\thttps://abc.execute-api.ap-northeast-1.amazonaws.com\t\
             https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_X\tclient\t\
             https://marshal-1.auth.ap-northeast-1.amazoncognito.com\n",
        )
        .unwrap()
    }

    #[test]
    fn outputs_come_in_key_order_and_none_is_absent() {
        let o = outputs();
        assert_eq!(
            (o.bucket.as_str(), o.distribution.as_str()),
            ("bucket-1", "E123")
        );
        assert_eq!(o.client_id.as_deref(), Some("client"));
        let external =
            parse_outputs("b\td\thttps://api\thttps://idp.example.com/x\tNone\tNone\n").unwrap();
        assert_eq!((external.client_id, external.sign_in_url), (None, None));
        assert!(parse_outputs("None\td\ta\ti\tNone\tNone").is_err());
        assert!(parse_outputs("b\td").is_err());
    }

    #[test]
    fn origins_drop_the_path() {
        assert_eq!(
            origin("https://idp.example.com/oauth2/default").unwrap(),
            "https://idp.example.com"
        );
        assert_eq!(
            origin("https://abc.example.com").unwrap(),
            "https://abc.example.com"
        );
        assert!(origin("idp.example.com").is_err());
    }

    #[test]
    fn the_connect_policy_goes_first_in_head() {
        let html = "<!DOCTYPE html><html><HEAD><script src=\"/a.js\"></script></HEAD></html>";
        let out = with_connect_policy(html, &outputs()).unwrap();
        assert_eq!(
            out,
            "<!DOCTYPE html><html><HEAD><meta http-equiv=\"Content-Security-Policy\" \
             content=\"connect-src 'self' https://abc.execute-api.ap-northeast-1.amazonaws.com \
             https://marshal-1.auth.ap-northeast-1.amazoncognito.com\"><script src=\"/a.js\">\
             </script></HEAD></html>"
        );
        assert!(with_connect_policy("<html></html>", &outputs()).is_err());
    }

    #[test]
    fn runtime_config_is_json_with_nulls_for_absent_values() {
        let mut o = outputs();
        o.client_id = None;
        assert_eq!(
            runtime_config(&o),
            "{\"apiUrl\":\"https://abc.execute-api.ap-northeast-1.amazonaws.com\",\"auth\":{\
             \"issuer\":\"https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_X\",\
             \"clientId\":null,\"signInUrl\":\"https://marshal-1.auth.ap-northeast-1.amazoncognito.com\"}}\n"
        );
    }
}
