//! The built page as the local server serves it (`--static-dir`), with the
//! security headers CloudFront's response headers policy sets when
//! deployed (template.yaml, `PageHeaders`): the page makes private keys, so
//! no framing, no foreign script, no sniffing. It connects to its own
//! origin, plus — when the directory holds a `config.json`, as deploy-page
//! writes it — the origins of that file's `apiUrl` and `auth.signInUrl`,
//! so a page pointed at another API and a sign-in provider runs locally.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `connect-src` comes between these two.
const CSP_BEFORE_CONNECT: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'";
const CSP_AFTER_CONNECT: &str = "; style-src 'self'; img-src 'self' data: blob:; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The headers besides the Content-Security-Policy.
const OTHER_HEADERS: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    // The sign-in popup loses its opener under this policy; the page
    // relays the answer on a BroadcastChannel then (frontend `sign_in`).
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// Why the page's `config.json` cannot be served from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageConfigError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read it: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// Not the JSON object deploy-page writes.
    #[error("{}: not the JSON object deploy-page writes ({reason})", path.display())]
    NotJson { path: PathBuf, reason: String },
    /// A URL the page would connect to is not `http(s)://host[:port][/path]`.
    #[error(
        "{}: {field} is {value:?}, not an http(s) URL; the page could not connect to it",
        path.display()
    )]
    NotHttp {
        path: PathBuf,
        field: &'static str,
        value: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeConfig {
    api_url: Option<String>,
    auth: Option<Auth>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Auth {
    sign_in_url: Option<String>,
}

/// The page's response headers for the built page in `dir`: a fixed set,
/// with `connect-src` widened by `dir/config.json` when it exists, and by
/// `job_files` (the origin of the job bucket's presigned URLs, see
/// [`job_files_source`]) when jobs upload files.
pub fn page_headers(
    dir: &Path,
    job_files: Option<&str>,
) -> Result<[(&'static str, String); 6], PageConfigError> {
    let sources = sources_of(dir, job_files)?;
    let [a, b, c, d, e] = OTHER_HEADERS.map(|(name, value)| (name, value.to_owned()));
    Ok([
        ("content-security-policy", content_security_policy(&sources)),
        a,
        b,
        c,
        d,
        e,
    ])
}

/// The page's `index.html` with the same sources in its `<meta>` policy's
/// `connect-src` as in the header (browsers enforce both; deploy-page
/// widens the deployed page's `<meta>` the same way); `None` without one.
pub fn index_html(dir: &Path, job_files: Option<&str>) -> Result<Option<String>, PageConfigError> {
    let path = dir.join("index.html");
    let html = match std::fs::read_to_string(&path) {
        Ok(html) => html,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(PageConfigError::Unreadable {
                path,
                reason: e.to_string(),
            });
        }
    };
    let sources = sources_of(dir, job_files)?;
    Ok(Some(widen_meta(&html, &sources)))
}

/// `html` with each of `sources` its `<meta>` policy's `connect-src 'self'`
/// lacks added after it.
fn widen_meta(html: &str, sources: &[String]) -> String {
    const DIRECTIVE: &str = "connect-src 'self'";
    let lower = html.to_ascii_lowercase();
    let Some(meta) = lower.find("http-equiv=\"content-security-policy\"") else {
        return html.to_owned();
    };
    let tag_end = lower[meta..].find('>').map_or(html.len(), |i| meta + i);
    let Some(at) = lower[meta..tag_end].find(DIRECTIVE).map(|i| meta + i) else {
        return html.to_owned();
    };
    let end = at + DIRECTIVE.len();
    let directive_end = html[end..].find([';', '"']).map_or(html.len(), |i| end + i);
    let present: Vec<&str> = html[end..directive_end].split_whitespace().collect();
    let mut added = String::new();
    for source in sources.iter().filter(|s| !present.contains(&s.as_str())) {
        added.push(' ');
        added.push_str(source);
    }
    format!("{}{added}{}", &html[..end], &html[end..])
}

/// `connect-src` beyond `'self'`: `config.json`'s origins, then `job_files`.
fn sources_of(dir: &Path, job_files: Option<&str>) -> Result<Vec<String>, PageConfigError> {
    let path = dir.join("config.json");
    let sources = match std::fs::read_to_string(&path) {
        Ok(text) => connect_sources(&text).map_err(|problem| match problem {
            SourceProblem::NotJson(reason) => PageConfigError::NotJson {
                path: path.clone(),
                reason,
            },
            SourceProblem::NotHttp { field, value } => PageConfigError::NotHttp {
                path: path.clone(),
                field,
                value,
            },
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(PageConfigError::Unreadable {
                path,
                reason: e.to_string(),
            });
        }
    };
    let mut sources = sources;
    if let Some(origin) = job_files.and_then(http_origin)
        && !sources.contains(&origin)
    {
        sources.push(origin);
    }
    Ok(sources)
}

/// The policy with `sources` added to `connect-src 'self'`.
pub fn content_security_policy(sources: &[String]) -> String {
    let mut policy = CSP_BEFORE_CONNECT.to_owned();
    for source in sources {
        policy.push(' ');
        policy.push_str(source);
    }
    policy.push_str(CSP_AFTER_CONNECT);
    policy
}

/// What in a `config.json` cannot be used.
#[derive(Debug, PartialEq, Eq)]
enum SourceProblem {
    NotJson(String),
    NotHttp { field: &'static str, value: String },
}

/// The origins a `config.json` makes the page connect to: its `apiUrl`
/// and its `auth.signInUrl` (the token endpoint), each once, when set.
fn connect_sources(config_json: &str) -> Result<Vec<String>, SourceProblem> {
    let config: RuntimeConfig =
        serde_json::from_str(config_json).map_err(|e| SourceProblem::NotJson(e.to_string()))?;
    let urls = [
        ("apiUrl", config.api_url),
        ("auth.signInUrl", config.auth.and_then(|a| a.sign_in_url)),
    ];
    let mut sources: Vec<String> = Vec::new();
    for (field, url) in urls {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            continue;
        };
        let origin = http_origin(&url).ok_or(SourceProblem::NotHttp { field, value: url })?;
        if !sources.contains(&origin) {
            sources.push(origin);
        }
    }
    Ok(sources)
}

/// `scheme://host[:port]` of an `http(s)://` URL whose host is a plain name
/// or address: nothing that could end or extend a CSP directive.
/// Where the page PUTs a job's file and GETs its results: the origin of
/// the presigned URLs this server makes for `bucket`. With an S3 endpoint
/// URL set (moto, locally) they are path-style URLs of that endpoint;
/// otherwise virtual-hosted URLs of the bucket in `region`.
pub fn job_files_source(
    bucket: &str,
    endpoint_url: Option<&str>,
    region: Option<&str>,
) -> Option<String> {
    match (endpoint_url, region) {
        (Some(endpoint), _) => http_origin(endpoint),
        (None, Some(region)) => http_origin(&format!("https://{bucket}.s3.{region}.amazonaws.com")),
        (None, None) => None,
    }
}

fn http_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    host_ok.then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn without_config_json_the_page_connects_to_itself_only() {
        let dir = scratch("none");
        let headers = page_headers(&dir, None).unwrap();
        assert_eq!(headers[0].0, "content-security-policy");
        assert!(
            headers[0].1.contains("connect-src 'self'; style-src"),
            "{}",
            headers[0].1
        );
        assert!(headers[0].1.contains("frame-ancestors 'none'"));
        assert_eq!(
            headers.map(|(name, _)| name)[1..],
            OTHER_HEADERS.map(|(name, _)| name)
        );
    }

    #[test]
    fn config_json_adds_the_api_and_sign_in_origins() {
        let dir = scratch("deployed");
        std::fs::write(
            dir.join("config.json"),
            r#"{"apiUrl":"https://abc.execute-api.ap-northeast-1.amazonaws.com/prod","auth":{
               "issuer":"https://cognito-idp.ap-northeast-1.amazonaws.com/x","clientId":"c",
               "signInUrl":"http://127.0.0.1:4321/"}}"#,
        )
        .unwrap();
        let csp = page_headers(&dir, None).unwrap()[0].1.clone();
        assert!(
            csp.contains(
                "connect-src 'self' https://abc.execute-api.ap-northeast-1.amazonaws.com \
                 http://127.0.0.1:4321; style-src"
            ),
            "{csp}"
        );
    }

    #[test]
    fn the_job_buckets_origin_is_added_once() {
        let dir = scratch("jobs");
        std::fs::write(
            dir.join("config.json"),
            r#"{"apiUrl":"http://127.0.0.1:5000/"}"#,
        )
        .unwrap();
        let local = job_files_source("b", Some("http://127.0.0.1:5000/"), Some("us-east-1"));
        assert_eq!(local.as_deref(), Some("http://127.0.0.1:5000"));
        let csp = page_headers(&dir, local.as_deref()).unwrap()[0].1.clone();
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:5000; style-src"),
            "{csp}"
        );
        let aws = job_files_source("marshal-jobs-1", None, Some("eu-west-1"));
        assert_eq!(
            aws.as_deref(),
            Some("https://marshal-jobs-1.s3.eu-west-1.amazonaws.com")
        );
        let csp = page_headers(&dir, aws.as_deref()).unwrap()[0].1.clone();
        assert!(
            csp.contains(
                "http://127.0.0.1:5000 https://marshal-jobs-1.s3.eu-west-1.amazonaws.com;"
            ),
            "{csp}"
        );
        assert_eq!(job_files_source("b", None, None), None);
        assert_eq!(job_files_source("b", Some("file:///x"), None), None);
    }

    #[test]
    fn the_index_meta_policy_gains_what_the_header_has() {
        let dir = scratch("meta");
        assert_eq!(index_html(&dir, None).unwrap(), None);
        std::fs::write(
            dir.join("index.html"),
            "<!-- connect-src 'self' only -->\n<meta http-equiv=\"Content-Security-Policy\" \
             content=\"default-src 'none'; connect-src 'self' http://127.0.0.1:5000; img-src 'self'\">",
        )
        .unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"apiUrl":"http://127.0.0.1:5000/"}"#,
        )
        .unwrap();
        let html = index_html(&dir, Some("http://127.0.0.1:7000/bucket"))
            .unwrap()
            .unwrap();
        // The comment is not a policy; the API's origin is there once.
        assert!(
            html.starts_with("<!-- connect-src 'self' only -->"),
            "{html}"
        );
        assert!(
            html.contains(
                "connect-src 'self' http://127.0.0.1:7000 http://127.0.0.1:5000; img-src 'self'"
            ),
            "{html}"
        );
        assert_eq!(
            widen_meta("<p>no policy</p>", &["http://x".into()]),
            "<p>no policy</p>"
        );
    }

    #[test]
    fn connect_sources_check_every_url() {
        for (json, sources) in [
            (r#"{}"#, vec![]),
            (r#"{"apiUrl":null,"auth":{"signInUrl":null}}"#, vec![]),
            (
                r#"{"apiUrl":"http://127.0.0.1:8080","auth":{"signInUrl":"http://127.0.0.1:8080/x"}}"#,
                vec!["http://127.0.0.1:8080"],
            ),
            (
                r#"{"apiUrl":"https://[::1]:9/v1"}"#,
                vec!["https://[::1]:9"],
            ),
        ] {
            assert_eq!(connect_sources(json).unwrap(), sources, "{json}");
        }
        for (json, field, value) in [
            (
                r#"{"apiUrl":"ftp://a.example"}"#,
                "apiUrl",
                "ftp://a.example",
            ),
            (r#"{"apiUrl":"a.example"}"#, "apiUrl", "a.example"),
            (r#"{"apiUrl":"https://"}"#, "apiUrl", "https://"),
            (
                r#"{"apiUrl":"https://a.example; script-src *"}"#,
                "apiUrl",
                "https://a.example; script-src *",
            ),
            (
                r#"{"auth":{"signInUrl":"https://u:p@idp.example"}}"#,
                "auth.signInUrl",
                "https://u:p@idp.example",
            ),
            (
                r#"{"auth":{"signInUrl":"javascript:alert(1)"}}"#,
                "auth.signInUrl",
                "javascript:alert(1)",
            ),
        ] {
            assert_eq!(
                connect_sources(json),
                Err(SourceProblem::NotHttp {
                    field,
                    value: value.to_owned()
                }),
                "{json}"
            );
        }
        assert!(matches!(
            connect_sources("<html>"),
            Err(SourceProblem::NotJson(_))
        ));
    }

    #[test]
    fn a_bad_config_json_is_a_clear_error() {
        let dir = scratch("bad");
        std::fs::write(dir.join("config.json"), r#"{"apiUrl":"ftp://x"}"#).unwrap();
        let error = page_headers(&dir, None).unwrap_err().to_string();
        assert!(error.ends_with("config.json: apiUrl is \"ftp://x\", not an http(s) URL; the page could not connect to it"), "{error}");
        std::fs::write(dir.join("config.json"), "{").unwrap();
        let error = page_headers(&dir, None).unwrap_err().to_string();
        assert!(
            error.contains("config.json: not the JSON object deploy-page writes"),
            "{error}"
        );
    }

    /// An empty directory of this test's own.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("marshal-static-page-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
