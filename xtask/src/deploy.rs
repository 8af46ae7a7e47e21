//! Deploying with AWS SAM: the checks `cargo xtask test` runs on
//! `template.yaml` and `deploy/target-role.yaml` and the arm64 Lambda build
//! (all offline: no AWS account, no credentials), and `cargo xtask
//! deploy-page`, which uploads the page (`cargo xtask page`) after `sam
//! deploy`.

use std::{ffi::OsString, path::Path, process::Command};

use anyhow::{Context, Result, bail};

use crate::{
    cmd::{capture, run},
    install::install,
    page,
    project::{Project, Venv},
    steps::Steps,
};

/// The Lambda's architecture (template.yaml: `arm64`).
pub(crate) const LAMBDA_TARGET: &str = "aarch64-unknown-linux-gnu";

/// The templates every check reads, relative to the workspace root.
const TEMPLATES: &[&str] = &["template.yaml", "deploy/target-role.yaml"];

/// The linters need a region to pick a resource specification; nothing is sent.
const LINT_REGION: &str = "us-east-1";

/// Where `cargo lambda build` leaves the functions' zips, under the target
/// dir: the API, the expiry report and the job worker.
const LAMBDA_ZIPS: [&str; 3] = [
    "lambda/marshal-lambda/bootstrap.zip",
    "lambda/marshal-expiry/bootstrap.zip",
    "lambda/marshal-worker/bootstrap.zip",
];

/// The aim for each function's zip (Lambda itself takes 50 MB): a build
/// above it fails, so growth is a decision rather than an accident. 10 MiB
/// since factory jobs: the API and the worker link the S3 and SQS clients
/// (the API was 7.28 MiB at 8 MiB before them); a cold start reads the zip,
/// and 10 MiB still loads in well under the 100 ms of a registration.
const ZIP_BUDGET_BYTES: u64 = 10 * 1024 * 1024;

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
    for zip in LAMBDA_ZIPS {
        let zip = project.target_dir.join(zip);
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
                "{} is {bytes} bytes, above the {ZIP_BUDGET_BYTES}-byte budget: \
                 find what grew (cargo tree -p marshal-lambda) before raising it",
                zip.display()
            );
        }
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
    /// The job bucket's origin (stacks from before jobs have none).
    job_files: Option<String>,
}

/// The outputs read, in the order `describe-stacks --output text` prints them.
const OUTPUT_KEYS: &[&str] = &[
    "PageBucketName",
    "PageDistributionId",
    "ApiUrl",
    "JwtIssuerUrl",
    "UserPoolClientId",
    "SignInUrl",
    "JobsFilesOrigin",
];

/// Builds the page (`cargo xtask page`), points it at the stack's API and
/// sign-in, uploads it to the stack's bucket and invalidates the
/// distribution. Uses the caller's AWS credentials.
pub(crate) fn deploy_page(project: &Project, options: &PageOptions) -> Result<()> {
    install(project)?;

    println!("\n==> stack outputs of {}", options.stack);
    let outputs = stack_outputs(project, options)?;

    println!("\n==> build the page");
    let built = page::build(project)?;
    // A copy, so the page `cargo xtask dev` serves stays as built.
    let dist = project.target_dir.join("page-deploy");
    if dist.exists() {
        std::fs::remove_dir_all(&dist).with_context(|| format!("emptying {}", dist.display()))?;
    }
    copy_dir(&built, &dist)?;
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("the page build left no {}", index.display()))?;
    std::fs::write(&index, with_connect_sources(&html, &outputs)?)?;
    std::fs::write(dist.join("config.json"), runtime_config(&outputs))?;

    println!("\n==> upload to s3://{}", outputs.bucket);
    // The page's file names carry no hash, so every file is revalidated
    // (ETag, a cheap 304) and the invalidation below reaches every edge.
    run(aws(project, options)
        .args(["s3", "sync"])
        .arg(&dist)
        .arg(format!("s3://{}/", outputs.bucket))
        .args(["--delete", "--cache-control", "no-cache"]))?;

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

/// The built page copied to `dist` as a deployment would have it, signing
/// in at `issuer` with the public client `client_id` and calling the API at
/// `api_url`: `cargo xtask dev --auth` serves this against its local
/// OpenID provider.
pub(crate) fn page_signing_in_at(
    built: &Path,
    dist: &Path,
    api_url: &str,
    issuer: &str,
    client_id: &str,
) -> Result<()> {
    if dist.exists() {
        std::fs::remove_dir_all(dist).with_context(|| format!("emptying {}", dist.display()))?;
    }
    copy_dir(built, dist)?;
    // Only the page's fields matter here; there is no bucket or CDN.
    let outputs = StackOutputs {
        bucket: String::new(),
        distribution: String::new(),
        api_url: api_url.to_owned(),
        issuer: issuer.to_owned(),
        client_id: Some(client_id.to_owned()),
        sign_in_url: Some(issuer.to_owned()),
        // The local server adds its own job bucket's origin to its header.
        job_files: None,
    };
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("the page build left no {}", index.display()))?;
    std::fs::write(&index, with_connect_sources(&html, &outputs)?)?;
    std::fs::write(dist.join("config.json"), runtime_config(&outputs))?;
    Ok(())
}

/// Copies the files of `from` (one level: the page build is flat) into `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry?.path();
        if let (true, Some(name)) = (path.is_file(), path.file_name()) {
            let target = to.join(name);
            std::fs::copy(&path, &target)
                .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
        }
    }
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
        job_files: values[6].clone(),
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

/// The page's HTML with this stack's API, sign-in and job bucket origins added to the
/// `connect-src` of its `<meta>` Content-Security-Policy (the page allows
/// only its own origin; here the API is elsewhere). The distribution's
/// header policy allows the region's `execute-api` hosts; browsers enforce
/// both, so the page reaches exactly this API.
fn with_connect_sources(html: &str, outputs: &StackOutputs) -> Result<String> {
    let sign_in = outputs.sign_in_url.as_deref().unwrap_or(&outputs.issuer);
    let mut sources = format!("{} {}", origin(&outputs.api_url)?, origin(sign_in)?);
    if let Some(files) = &outputs.job_files {
        sources.push(' ');
        sources.push_str(origin(files)?);
    }
    let lower = html.to_ascii_lowercase();
    let Some(meta) = lower.find("http-equiv=\"content-security-policy\"") else {
        bail!(
            "the built index.html has no Content-Security-Policy <meta>: not uploading a page without one"
        );
    };
    let tag_end = lower[meta..].find('>').map_or(html.len(), |i| meta + i);
    let Some(directive) = lower[meta..tag_end].find("connect-src").map(|i| meta + i) else {
        bail!("the page's Content-Security-Policy has no connect-src to extend");
    };
    // The directive ends at `;` or at the attribute's closing quote.
    let value_end = lower[directive..tag_end]
        .find([';', '"'])
        .map_or(tag_end, |i| directive + i);
    Ok(format!(
        "{} {sources}{}",
        &html[..value_end],
        &html[value_end..]
    ))
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
             https://marshal-1.auth.ap-northeast-1.amazoncognito.com\tNone\n",
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
            parse_outputs("b\td\thttps://api\thttps://idp.example.com/x\tNone\tNone\tNone\n")
                .unwrap();
        assert_eq!((external.client_id, external.sign_in_url), (None, None));
        assert_eq!(external.job_files, None);
        assert!(parse_outputs("None\td\ta\ti\tNone\tNone\tNone").is_err());
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
    fn the_pages_connect_src_gains_the_api_and_sign_in() {
        let html = "<head><meta http-equiv=\"Content-Security-Policy\"\n content=\"default-src \
                    'none'; connect-src 'self'; img-src 'self'\"><script src=\"./main.js\"></script>";
        assert_eq!(
            with_connect_sources(html, &outputs()).unwrap(),
            "<head><meta http-equiv=\"Content-Security-Policy\"\n content=\"default-src 'none'; \
             connect-src 'self' https://abc.execute-api.ap-northeast-1.amazonaws.com \
             https://marshal-1.auth.ap-northeast-1.amazoncognito.com; img-src 'self'\">\
             <script src=\"./main.js\"></script>"
        );
        let last = "<meta http-equiv=\"content-security-policy\" content=\"connect-src 'self'\">";
        let out = with_connect_sources(last, &outputs()).unwrap();
        assert!(out.ends_with("amazoncognito.com\">"), "{out}");
        assert!(with_connect_sources("<head></head>", &outputs()).is_err());
        let none = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\">";
        assert!(with_connect_sources(none, &outputs()).is_err());
    }

    #[test]
    fn without_a_user_pool_the_issuers_origin_is_the_sign_in_source() {
        let external = parse_outputs(
            "b\td\thttps://abc.execute-api.eu-west-1.amazonaws.com\t\
             https://idp.example.com/oauth2/default\tNone\tNone\t\
             https://marshal-jobs-1.s3.eu-west-1.amazonaws.com\n",
        )
        .unwrap();
        let html = "<meta http-equiv=\"Content-Security-Policy\" content=\"connect-src 'self'\">";
        assert_eq!(
            with_connect_sources(html, &external).unwrap(),
            "<meta http-equiv=\"Content-Security-Policy\" content=\"connect-src 'self' \
             https://abc.execute-api.eu-west-1.amazonaws.com https://idp.example.com \
             https://marshal-jobs-1.s3.eu-west-1.amazonaws.com\">"
        );
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
