//! The API's configuration: targets, allowed policies, limits and auth mode,
//! read from TOML or JSON and checked field by field at start.

mod jwt;

use std::{collections::HashSet, path::Path};

use marshal_shared::{policy::PolicyTemplate, validate};
use serde::Deserialize;

pub use jwt::{JwtConfig, MAX_CLOCK_SKEW_SECONDS};

/// How callers are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// A JWT identifies the caller: in AWS Lambda, API Gateway's JWT
    /// authorizer checked it and its claims come in the request context;
    /// the local server checks the bearer token itself (`[jwt]`). The default.
    #[default]
    Jwt,
    /// Nobody is identified; every target is visible. Only for loopback.
    None,
}

/// One place a certificate can be registered: an account and a region.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    /// Stable id used in requests (e.g. `dev-tokyo`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// AWS account ID.
    pub account_id: String,
    /// AWS region.
    pub region: String,
    /// Role to assume in the target account; absent = the function's own credentials.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// ExternalId for AssumeRole.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Only callers in one of these groups may use the target; absent = everyone.
    #[serde(default)]
    pub allowed_groups: Option<Vec<String>>,
    /// Members of these groups administer the target: they may REVOKE, adopt
    /// certificates registered outside Marshal, and manage what others
    /// registered there. Absent = nobody (with `auth = "none"`, the local
    /// caller).
    #[serde(default)]
    pub admin_groups: Vec<String>,
    /// The pace of factory jobs here, in registrations per second (each
    /// makes one call of each AWS IoT API it uses); absent =
    /// `jobs.callsPerSecond`. Raise it with the account's quotas.
    #[serde(default)]
    pub job_calls_per_second: Option<f64>,
}

/// A policy callers may attach, optionally created from a template when missing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyConfig {
    /// The IoT policy name.
    pub name: String,
    /// When set, the API creates the policy in a target where it is missing.
    #[serde(default)]
    pub template: Option<TemplateConfig>,
}

/// The inputs of [`PolicyTemplate`] (region and account come from the target).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateConfig {
    /// Topics under `<prefix>/<thing name>/`.
    pub topic_prefix: String,
    /// Also allow the thing's shadow topics.
    #[serde(default)]
    pub allow_shadow: bool,
}

impl TemplateConfig {
    /// The policy document for `target`.
    pub fn document_for(&self, target: &Target) -> Result<String, marshal_shared::Error> {
        PolicyTemplate {
            topic_prefix: self.topic_prefix.clone(),
            region: Some(target.region.clone()),
            account_id: Some(target.account_id.clone()),
            allow_shadow: self.allow_shadow,
        }
        .to_json()
    }
}

/// Limits the server enforces whatever the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most targets in one request.
    pub max_targets_per_request: usize,
    /// Most certificates in one request.
    pub max_certificates_per_request: usize,
    /// Concurrent (certificate, target) jobs per request.
    pub concurrency: usize,
    /// Timeout of one AWS call, in milliseconds.
    pub aws_call_timeout_ms: u64,
    /// How long one request may work, in milliseconds: below the Lambda
    /// timeout, so no (certificate, target) pair is cut off mid-way. A pair
    /// starts only while two AWS call timeouts are left; the others come
    /// back as `not_attempted`.
    pub request_deadline_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_targets_per_request: 16,
            max_certificates_per_request: 100,
            concurrency: 16,
            aws_call_timeout_ms: 3_000,
            request_deadline_ms: 25_000,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// How callers are identified.
    #[serde(default)]
    pub auth: AuthMode,
    /// Where certificates may be registered.
    pub targets: Vec<Target>,
    /// Policies callers may attach.
    pub policies: Vec<PolicyConfig>,
    /// Thing names must match this pattern (a regular expression, anchored).
    #[serde(default = "default_thing_pattern")]
    pub thing_name_pattern: String,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// The DynamoDB table of ownership records (in the function's own account
    /// and region). `MARSHAL_OWNERSHIP_TABLE` overrides it.
    #[serde(default = "default_ownership_table")]
    pub ownership_table: String,
    /// The DynamoDB table of ledger events (beside the ownership table).
    /// `MARSHAL_LEDGER_TABLE` overrides it.
    #[serde(default = "default_ledger_table")]
    pub ledger_table: String,
    /// The scheduled expiry report.
    #[serde(default)]
    pub expiry: ExpiryConfig,
    /// Factory jobs: the queue, table and bucket, and the pace.
    #[serde(default)]
    pub jobs: JobsConfig,
    /// How the local server checks tokens (`auth = "jwt"` outside Lambda,
    /// where API Gateway's authorizer has not); unused in Lambda.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
}

fn default_ownership_table() -> String {
    "marshal-ownership".to_owned()
}

/// `[expiry]`: what the scheduled report lists and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpiryConfig {
    /// Certificates whose `notAfter` is within this many days (1 to 3650).
    #[serde(default = "default_within_days")]
    pub within_days: u32,
    /// The EventBridge bus of the function's account (a name or ARN).
    /// `MARSHAL_EXPIRY_EVENT_BUS` overrides it.
    #[serde(default = "default_event_bus")]
    pub event_bus: String,
    /// The most certificates one event lists (1 to 500: an event carries
    /// at most 256 KB); `count` always says how many there are.
    #[serde(default = "default_max_listed")]
    pub max_listed: usize,
}

impl Default for ExpiryConfig {
    fn default() -> ExpiryConfig {
        ExpiryConfig {
            within_days: default_within_days(),
            event_bus: default_event_bus(),
            max_listed: default_max_listed(),
        }
    }
}

fn default_within_days() -> u32 {
    30
}

fn default_event_bus() -> String {
    "default".to_owned()
}

fn default_max_listed() -> usize {
    500
}

/// `[jobs]`: factory jobs (`POST /v1/jobs`) and their workers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct JobsConfig {
    /// The SQS queue of job messages; absent = no jobs (503 `jobs_unavailable`).
    /// `MARSHAL_JOBS_QUEUE_URL` overrides it.
    pub queue_url: Option<String>,
    /// The DynamoDB table of jobs, chunks and paces. `MARSHAL_JOBS_TABLE` overrides it.
    pub table: String,
    /// The S3 bucket of uploads and results. `MARSHAL_JOBS_BUCKET` overrides it.
    pub bucket: Option<String>,
    /// Certificates per chunk, the unit a worker takes (1 to 100).
    pub chunk_size: usize,
    /// The most certificates in one job.
    pub max_certificates: u64,
    /// The most jobs one caller may have that have not ended (awaiting
    /// their upload, splitting or running): one user cannot fill the queue
    /// and every target's pace ahead of everyone else.
    pub max_active_per_caller: usize,
    /// The largest upload, in bytes. It is read a row at a time; 2 GiB
    /// holds a million certificates with room (an RSA-2048 one is a line
    /// of about 1.2 KB).
    pub max_upload_bytes: u64,
    /// The default pace per target: registrations per second. AWS IoT Core
    /// allows 10 RegisterCertificateWithoutCA and 10 UpdateCertificate calls
    /// per second per account and region (AttachPolicy, AttachThingPrincipal
    /// and CreateThing: 15), and each registration makes one of each, so 10.
    pub calls_per_second: f64,
    /// Pairs one worker registers at once within its pace.
    pub pairs_in_flight: usize,
    /// A job's chunks on the queue and not done, at most: the next goes out
    /// as one is done, so jobs submitted later take turns with a large one
    /// instead of waiting behind all of it. Above the workers' concurrency
    /// (the template's `WorkerConcurrency`, 4 by default), so one job alone
    /// keeps every worker busy.
    pub chunks_queued_per_job: usize,
    /// How long presigned URLs work, in seconds (60 to 3600).
    pub url_seconds: u64,
}

impl Default for JobsConfig {
    fn default() -> JobsConfig {
        JobsConfig {
            queue_url: None,
            table: "marshal-jobs".to_owned(),
            bucket: None,
            chunk_size: 25,
            max_certificates: 1_000_000,
            max_active_per_caller: 3,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            calls_per_second: 10.0,
            pairs_in_flight: 8,
            chunks_queued_per_job: 8,
            url_seconds: 900,
        }
    }
}

impl JobsConfig {
    /// The pace of jobs in `target`, registrations per second.
    pub fn pace_of(&self, target: &Target) -> f64 {
        target.job_calls_per_second.unwrap_or(self.calls_per_second)
    }
}

fn default_ledger_table() -> String {
    "marshal-ledger".to_owned()
}

/// Whether `name` can name a DynamoDB table.
fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// The steps of one (certificate, target) pair in sequence at worst: the
/// ownership claim, register, describe, attach policy and thing, activate,
/// and the release. A pair must fit in the deadline at the call timeout.
pub const SEQUENTIAL_CALLS_PER_PAIR: u64 = 8;

fn default_thing_pattern() -> String {
    "[a-zA-Z0-9:_-]{1,128}".to_owned()
}

/// A configuration that cannot be used; the message names the field.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `MARSHAL_CONFIG_JSON` (content) or the file named by `MARSHAL_CONFIG`.
    pub fn from_env() -> Result<Config, ConfigError> {
        if let Ok(json) = std::env::var("MARSHAL_CONFIG_JSON") {
            return Config::parse(&json, Format::Json);
        }
        let path = std::env::var("MARSHAL_CONFIG").map_err(|_| {
            ConfigError("set MARSHAL_CONFIG (a TOML or JSON file) or MARSHAL_CONFIG_JSON".into())
        })?;
        Config::from_file(Path::new(&path))
    }

    /// The configuration with what the deployment sets in the environment:
    /// `MARSHAL_OWNERSHIP_TABLE` and `MARSHAL_LEDGER_TABLE` (the tables the stack made) and
    /// `MARSHAL_REQUEST_DEADLINE_MS` (below the function's timeout), checked again.
    pub fn with_env_overrides(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        if let Some(table) = env("MARSHAL_OWNERSHIP_TABLE").filter(|t| !t.is_empty()) {
            self.ownership_table = table;
        }
        if let Some(table) = env("MARSHAL_LEDGER_TABLE").filter(|t| !t.is_empty()) {
            self.ledger_table = table;
        }
        if let Some(bus) = env("MARSHAL_EXPIRY_EVENT_BUS").filter(|t| !t.is_empty()) {
            self.expiry.event_bus = bus;
        }
        if let Some(table) = env("MARSHAL_JOBS_TABLE").filter(|t| !t.is_empty()) {
            self.jobs.table = table;
        }
        if let Some(url) = env("MARSHAL_JOBS_QUEUE_URL").filter(|t| !t.is_empty()) {
            self.jobs.queue_url = Some(url);
        }
        if let Some(bucket) = env("MARSHAL_JOBS_BUCKET").filter(|t| !t.is_empty()) {
            self.jobs.bucket = Some(bucket);
        }
        if let Some(raw) = env("MARSHAL_REQUEST_DEADLINE_MS").filter(|t| !t.is_empty()) {
            self.limits.request_deadline_ms = raw.parse().map_err(|_| {
                ConfigError(format!(
                    "MARSHAL_REQUEST_DEADLINE_MS: \"{raw}\" is not a number of milliseconds"
                ))
            })?;
        }
        self.check()?;
        Ok(self)
    }

    /// Reads a `.toml` or `.json` file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let format = if path.extension().is_some_and(|e| e == "json") {
            Format::Json
        } else {
            Format::Toml
        };
        Config::parse(&text, format)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// Parses and checks a configuration.
    pub fn parse(text: &str, format: Format) -> Result<Config, ConfigError> {
        let config: Config = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| ConfigError(e.to_string()))?,
            Format::Toml => toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let fail = |field: String, why: String| Err(ConfigError(format!("{field}: {why}")));
        if self.targets.is_empty() {
            return fail("targets".into(), "at least one target is needed".into());
        }
        match (&self.jwt, self.auth) {
            (Some(jwt), AuthMode::Jwt) => jwt.check()?,
            (Some(_), AuthMode::None) => {
                return fail(
                    "jwt".into(),
                    "only used with auth = \"jwt\"; remove it or set auth = \"jwt\"".into(),
                );
            }
            (None, _) => {}
        }
        let mut ids = HashSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            let at = |f: &str| format!("targets[{i}].{f}");
            if t.id.is_empty()
                || !t
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                || t.id.len() > 64
            {
                return fail(
                    at("id"),
                    format!("\"{}\" must be 1-64 letters, digits, '-' or '_'", t.id),
                );
            }
            if !ids.insert(t.id.as_str()) {
                return fail(at("id"), format!("\"{}\" is used twice", t.id));
            }
            if let Err(e) = validate::account_id(&t.account_id) {
                return fail(at("accountId"), e.to_string());
            }
            if let Err(e) = validate::region(&t.region) {
                return fail(at("region"), e.to_string());
            }
            if let Some(arn) = &t.role_arn {
                let prefix = format!(":iam::{}:role/", t.account_id);
                if !arn.starts_with("arn:") || !arn.contains(&prefix) {
                    return fail(
                        at("roleArn"),
                        format!(
                            "\"{arn}\" must be an IAM role ARN in account {}",
                            t.account_id
                        ),
                    );
                }
            }
            if let Some(ext) = &t.external_id
                && (ext.len() < 2 || ext.len() > 1224)
            {
                return fail(at("externalId"), "must be 2 to 1224 characters".into());
            }
            if t.external_id.is_some() && t.role_arn.is_none() {
                return fail(at("externalId"), "only makes sense with roleArn".into());
            }
            if let Some(groups) = &t.allowed_groups {
                check_group_names(&at("allowedGroups"), groups)?;
            }
            check_group_names(&at("adminGroups"), &t.admin_groups)?;
        }
        if self.policies.is_empty() {
            return fail(
                "policies".into(),
                "at least one allowed policy is needed".into(),
            );
        }
        for (i, p) in self.policies.iter().enumerate() {
            if let Err(e) = validate::policy_name(&p.name) {
                return fail(format!("policies[{i}].name"), e.to_string());
            }
            if let Some(template) = &p.template {
                let check = PolicyTemplate {
                    topic_prefix: template.topic_prefix.clone(),
                    ..PolicyTemplate::default()
                };
                if let Err(e) = check.validate() {
                    return fail(format!("policies[{i}].template.topicPrefix"), e.to_string());
                }
            }
        }
        if let Err(e) = anchored(&self.thing_name_pattern) {
            return fail("thingNamePattern".into(), e);
        }
        let l = &self.limits;
        for (field, value) in [
            ("limits.maxBodyBytes", l.max_body_bytes as u64),
            (
                "limits.maxTargetsPerRequest",
                l.max_targets_per_request as u64,
            ),
            (
                "limits.maxCertificatesPerRequest",
                l.max_certificates_per_request as u64,
            ),
            ("limits.concurrency", l.concurrency as u64),
            ("limits.awsCallTimeoutMs", l.aws_call_timeout_ms),
            ("limits.requestDeadlineMs", l.request_deadline_ms),
        ] {
            if value == 0 {
                return fail(field.into(), "must be greater than 0".into());
            }
        }
        // API Gateway gives up after 29 s: work past that is never answered.
        if l.request_deadline_ms > 28_000 {
            return fail(
                "limits.requestDeadlineMs".into(),
                "must be at most 28000: API Gateway stops waiting after 29 s".into(),
            );
        }
        let pair = l
            .aws_call_timeout_ms
            .saturating_mul(SEQUENTIAL_CALLS_PER_PAIR);
        if pair > l.request_deadline_ms {
            return fail(
                "limits.awsCallTimeoutMs".into(),
                format!(
                    "{} ms × {SEQUENTIAL_CALLS_PER_PAIR} sequential calls of one certificate in one target \
                     does not fit in limits.requestDeadlineMs ({} ms)",
                    l.aws_call_timeout_ms, l.request_deadline_ms
                ),
            );
        }
        for (field, table) in [
            ("ownershipTable", &self.ownership_table),
            ("ledgerTable", &self.ledger_table),
            ("jobs.table", &self.jobs.table),
        ] {
            if !is_table_name(table) {
                return fail(
                    field.into(),
                    "must be a DynamoDB table name: 3-255 letters, digits, '_', '-' or '.'".into(),
                );
            }
        }
        let expiry = &self.expiry;
        if !(1..=3650).contains(&expiry.within_days) {
            return fail("expiry.withinDays".into(), "must be 1 to 3650 days".into());
        }
        if !(1..=500).contains(&expiry.max_listed) {
            return fail(
                "expiry.maxListed".into(),
                "must be 1 to 500 (an EventBridge event carries at most 256 KB)".into(),
            );
        }
        if expiry.event_bus.is_empty() || expiry.event_bus.len() > 1600 {
            return fail(
                "expiry.eventBus".into(),
                "must be an EventBridge bus name or ARN".into(),
            );
        }
        self.check_jobs()?;
        if self.ownership_table == self.ledger_table {
            return fail(
                "ledgerTable".into(),
                "must not be the ownership table: ledger events are append-only".into(),
            );
        }
        Ok(())
    }

    fn check_jobs(&self) -> Result<(), ConfigError> {
        let fail = |field: &str, why: &str| Err(ConfigError(format!("{field}: {why}")));
        let jobs = &self.jobs;
        let pace_ok = |p: f64| p.is_finite() && (0.1..=10_000.0).contains(&p);
        if !pace_ok(jobs.calls_per_second) {
            return fail("jobs.callsPerSecond", "must be 0.1 to 10000");
        }
        for (i, t) in self.targets.iter().enumerate() {
            if t.job_calls_per_second.is_some_and(|p| !pace_ok(p)) {
                return fail(
                    &format!("targets[{i}].jobCallsPerSecond"),
                    "must be 0.1 to 10000",
                );
            }
        }
        if !(1..=100).contains(&jobs.chunk_size) {
            return fail(
                "jobs.chunkSize",
                "must be 1 to 100 (a chunk is one DynamoDB item of at most 400 KB)",
            );
        }
        if jobs.max_certificates == 0 || jobs.max_upload_bytes == 0 || jobs.pairs_in_flight == 0 {
            return fail(
                "jobs",
                "maxCertificates, maxUploadBytes and pairsInFlight must be greater than 0",
            );
        }
        if !(1..=1000).contains(&jobs.chunks_queued_per_job) {
            return fail("jobs.chunksQueuedPerJob", "must be 1 to 1000");
        }
        if !(1..=100).contains(&jobs.max_active_per_caller) {
            return fail("jobs.maxActivePerCaller", "must be 1 to 100");
        }
        if !(60..=3600).contains(&jobs.url_seconds) {
            return fail("jobs.urlSeconds", "must be 60 to 3600");
        }
        if jobs
            .queue_url
            .as_deref()
            .is_some_and(|u| !u.starts_with("http"))
        {
            return fail("jobs.queueUrl", "must be an SQS queue URL (http or https)");
        }
        if [&self.ownership_table, &self.ledger_table].contains(&&jobs.table) {
            return fail(
                "jobs.table",
                "must be a table of its own, not the ownership or ledger table",
            );
        }
        Ok(())
    }

    /// The compiled thing-name pattern (checked at start, so it compiles).
    pub fn thing_name_regex(&self) -> Option<regex_lite::Regex> {
        anchored(&self.thing_name_pattern).ok()
    }
}

/// `pattern` matching whole names only: `^(?:pattern)$`. A pattern that
/// closes that group itself (`a)|(?:.*`) would escape the anchors, so the
/// pattern must also compile alone: then its groups balance and none of its
/// `)` can close ours.
fn anchored(pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| e.to_string())
}

/// Refuses group names that a groups claim cannot carry unambiguously:
/// API Gateway flattens a claim's array to `[a b]`, so a name with
/// whitespace would be read as two groups, and `,`, `"`, `[`, `]` are the
/// other list punctuation a claim may arrive in (see `identity`). `field`
/// names the list in the error (e.g. `targets[2].allowedGroups`).
pub fn check_group_names(field: &str, names: &[String]) -> Result<(), ConfigError> {
    for (i, name) in names.iter().enumerate() {
        let why = if name.is_empty() {
            "must not be empty"
        } else if name.chars().any(char::is_whitespace) {
            "must not contain whitespace (API Gateway passes groups as \"[a b]\")"
        } else if name.contains([',', '"', '[', ']']) {
            "must not contain ',', '\"', '[' or ']'"
        } else {
            continue;
        };
        return Err(ConfigError(format!("{field}[{i}]: {name:?} {why}")));
    }
    Ok(())
}

/// Whether `name` passes [`check_group_names`] (an `ownerGroup` in a request).
pub fn is_group_name(name: &str) -> bool {
    name.len() <= 128
        && !name.chars().any(char::is_control)
        && check_group_names("", &[name.to_owned()]).is_ok()
}

/// Configuration file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thing_name_patterns_stay_inside_their_anchors() {
        for escaping in ["a)|(?:.*", "a)|(.*", ")(", "(?x)a#", "a)(?x)#"] {
            assert!(
                anchored(escaping).is_err(),
                "{escaping:?} was accepted: {:?}",
                anchored(escaping).map(|r| r.is_match("zzz"))
            );
        }
        for (pattern, name, matches) in [
            ("a|ab", "ab", true),
            ("a|ab", "abc", false),
            ("[a-z]+", "zzz", true),
            ("(?m)a$", "a\nb", false),
            ("(?x) a # comment\n | b", "b", true),
        ] {
            let regex = anchored(pattern).map_err(|e| format!("{pattern:?}: {e}"));
            assert_eq!(
                regex.map(|r| r.is_match(name)),
                Ok(matches),
                "{pattern:?} on {name:?}"
            );
        }
    }

    #[test]
    fn group_names_that_claims_carry_unambiguously() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(
            check_group_names("adminGroups", &names(&["factory", "ops-prod", "Ünïcode"])).is_ok()
        );
        for bad in [
            "",
            "Factory Admins",
            "a\u{a0}b",
            "ops,prod",
            "\"q\"",
            "[x",
            "y]",
        ] {
            let err = check_group_names("adminGroups", &names(&["ok", bad]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("adminGroups[1]"), "{bad:?}: {err}");
        }
    }
}
