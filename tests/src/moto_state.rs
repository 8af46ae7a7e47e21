//! Marshal's targets inside a moto server, through boto3 rather than through
//! Marshal: seeding them (`tests/moto/seed.py`) and reading back what they
//! hold (`tests/moto/inspect_state.py`), so tests compare AWS's state with
//! what the API claims instead of taking the API's word for it.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::api::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use crate::{Cmd, python};

/// One account × region, reached by AssumeRole as the API reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    pub external_id: String,
}

impl Target {
    /// A target reached through `arn:aws:iam::<account>:role/<role_name>`.
    pub fn new(
        id: &str,
        account_id: &str,
        region: &str,
        role_name: &str,
        external_id: &str,
    ) -> Self {
        Self {
            id: id.to_owned(),
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            role_arn: format!("arn:aws:iam::{account_id}:role/{role_name}"),
            external_id: external_id.to_owned(),
        }
    }

    /// The target as the scripts read it (with `policies` for `seed.py`).
    pub fn spec(&self) -> Value {
        json!({
            "id": self.id,
            "accountId": self.account_id,
            "region": self.region,
            "roleArn": self.role_arn,
            "externalId": self.external_id,
        })
    }

    /// The target as a `[[targets]]` entry of the API's TOML configuration.
    pub fn config_entry(&self, name: &str) -> String {
        format!(
            "\n[[targets]]\nid = \"{}\"\nname = \"{name}\"\naccountId = \"{}\"\n\
             region = \"{}\"\nroleArn = \"{}\"\nexternalId = \"{}\"\n",
            self.id, self.account_id, self.region, self.role_arn, self.external_id
        )
    }

    /// `arn:aws:iot:<region>:<account>:cert/<id>`.
    pub fn certificate_arn(&self, certificate_id: &str) -> String {
        format!(
            "arn:aws:iot:{}:{}:cert/{certificate_id}",
            self.region, self.account_id
        )
    }
}

/// The two targets most API tests use: account 1 in Tokyo ("a-tokyo") and
/// account 2 in Virginia ("b-virginia"), role `MarshalTarget`, ExternalId
/// `marshal-test`.
pub fn tokyo_and_virginia() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "marshal-test"))
    .collect()
}

/// An `auth = "none"` configuration: `head` (more top-level settings or
/// tables), then `targets` (named "Target <id>") and the one `policy`.
pub fn config_toml(head: &str, targets: &[Target], policy: &str) -> String {
    let mut toml = format!("auth = \"none\"\n{head}");
    for t in targets {
        toml.push_str(&t.config_entry(&format!("Target {}", t.id)));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{policy}\"\n"));
    toml
}

fn script(name: &str) -> PathBuf {
    let path = crate::workspace_dir().join("tests/moto").join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// Runs a script from `tests/moto/` with `input` as JSON on stdin; returns
/// its stdout as JSON. Panics with the whole run when it fails.
fn run_script(name: &str, endpoint: &str, input: &Value) -> Value {
    let run = Cmd::new(python())
        .arg(script(name))
        .args(["--endpoint", endpoint])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .stdin(input.to_string())
        .run();
    run.assert_success();
    run.json()
}

/// Asks `ledger_state.py` (the ledger table, the expiry events' queue)
/// with `request`; see the script for the actions.
pub fn ledger_state(endpoint: &str, request: &Value) -> Value {
    run_script("ledger_state.py", endpoint, request)
}

/// Seeds moto with `seed.py`. `spec` is its input:
/// `{"targets": [{<Target::spec>, "policies": [{"name", "document"}]}]}`.
/// Returns the script's summary.
pub fn seed(endpoint: &str, spec: &Value) -> Value {
    run_script("seed.py", endpoint, spec)
}

/// Seeds every target with its role and `policy`, whose document is the
/// least-privilege one `marshal policy` makes for that account and region.
pub fn seed_with_device_policy(endpoint: &str, targets: &[Target], policy: &str) -> Value {
    let spec = json!({"targets": targets.iter().map(|t| {
        let run = Cmd::marshal()
            .args(["policy", "--region", &t.region, "--account", &t.account_id])
            .run();
        run.assert_success();
        let mut s = t.spec();
        s["policies"] = json!([{"name": policy, "document": run.json()}]);
        s
    }).collect::<Vec<_>>()});
    seed(endpoint, &spec)
}

/// `job_state.py`'s verdict on a large job's certificates (id, thing):
/// per target, those missing, duplicated, not ACTIVE, without `policy`,
/// and of a sample of `sample`, those not attached to their thing alone.
pub fn job_state(
    endpoint: &str,
    targets: &[Target],
    policy: &str,
    certificates: &[(&str, &str)],
    sample: usize,
) -> Value {
    let input = json!({
        "targets": targets.iter().map(Target::spec).collect::<Vec<_>>(),
        "policy": policy,
        "certificates": certificates,
        "sample": sample,
    });
    run_script("job_state.py", endpoint, &input)
}

/// What `targets` hold now, describing only `certificate_ids` in detail.
pub fn inspect(endpoint: &str, targets: &[Target], certificate_ids: &[&str]) -> AwsState {
    let input = json!({
        "targets": targets.iter().map(Target::spec).collect::<Vec<_>>(),
        "certificateIds": certificate_ids,
    });
    AwsState {
        raw: run_script("inspect_state.py", endpoint, &input),
    }
}

/// A certificate as boto3 saw it in one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateState {
    pub id: String,
    pub arn: String,
    pub status: String,
    pub policies: Vec<String>,
    pub things: Vec<String>,
}

/// The output of `inspect_state.py`: per target id, the account moto acted
/// as, the certificates asked about, and every thing and policy name.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsState {
    pub raw: Value,
}

impl AwsState {
    #[track_caller]
    fn target(&self, target: &str) -> &Value {
        let value = &self.raw[target];
        if value.is_null() {
            panic!("boto3 state has no target {target:?}\n{self}");
        }
        value
    }

    /// The account moto acted as in `target` (the assumed role's account,
    /// or 123456789012 if the role mapping was lost).
    #[track_caller]
    pub fn account(&self, target: &str) -> String {
        self.target(target)["account"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Every entry for `id` in `target` (more than one would be a duplicate).
    #[track_caller]
    pub fn certificates(&self, target: &str, id: &str) -> Vec<CertificateState> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        self.target(target)["certificates"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|c| c["id"] == id)
            .map(|c| CertificateState {
                id: c["id"].as_str().unwrap_or_default().to_owned(),
                arn: c["arn"].as_str().unwrap_or_default().to_owned(),
                status: c["status"].as_str().unwrap_or_default().to_owned(),
                policies: strings(&c["policies"]),
                things: strings(&c["things"]),
            })
            .collect()
    }

    /// The one entry for `id` in `target`, if any; panics on duplicates.
    #[track_caller]
    pub fn certificate(&self, target: &str, id: &str) -> Option<CertificateState> {
        let mut found = self.certificates(target, id);
        assert!(
            found.len() <= 1,
            "certificate {id} appears {} times in {target}\n{self}",
            found.len()
        );
        found.pop()
    }

    /// How many times a thing called `name` exists in `target`.
    #[track_caller]
    pub fn thing_count(&self, target: &str, name: &str) -> usize {
        self.target(target)["things"]
            .as_array()
            .map_or(0, |things| things.iter().filter(|t| *t == name).count())
    }

    /// Whether the IoT policy `name` exists in `target`.
    #[track_caller]
    pub fn has_policy(&self, target: &str, name: &str) -> bool {
        self.target(target)["policies"]
            .as_array()
            .is_some_and(|policies| policies.iter().any(|p| p == name))
    }
}

impl fmt::Display for AwsState {
    /// One block per target: the account, one line per certificate asked
    /// about, then every thing and policy name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: &Value| {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| s.as_str().unwrap_or("?"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        writeln!(f, "--- boto3 view of moto ---")?;
        let Some(targets) = self.raw.as_object() else {
            return write!(f, "{}", self.raw);
        };
        for (id, target) in targets {
            writeln!(
                f,
                "{id}: account {}, {} certificate(s) in all",
                target["account"], target["certificateCount"]
            )?;
            for c in target["certificates"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                writeln!(
                    f,
                    "  cert {} {} policies [{}] things [{}]",
                    c["id"].as_str().unwrap_or("?"),
                    c["status"].as_str().unwrap_or("?"),
                    names(&c["policies"]),
                    names(&c["things"]),
                )?;
            }
            writeln!(f, "  things   [{}]", names(&target["things"]))?;
            writeln!(f, "  policies [{}]", names(&target["policies"]))?;
        }
        Ok(())
    }
}
