//! The deploy templates grant nothing wider than the API's calls.
//!
//! `template.yaml` (the hub) and `deploy/target-role.yaml` are read with
//! cfn-lint's own loader (`tests/deploy/template_json.py`, run by the deploy
//! virtualenv's Python, `MARSHAL_DEPLOY_PYTHON`) and every IAM statement is
//! checked against [`API_CALLS`], the one list of AWS calls the API makes,
//! for a few deployments each template accepts. That list is checked
//! against the SDK calls in `lambda/src/aws/`, so a new SDK call without its
//! IAM action fails here, and so does an IAM action the code no longer needs.
//! The settings the security review asked for (parameter values refused,
//! MFA, token lifetimes, concurrency, deadline, the ownership table) are
//! checked too. Each rule is shown to bite on a mutated copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// A crate root looks for modules beside itself; this one keeps its own folder.
#[path = "deploy_templates/iam.rs"]
mod iam;
#[path = "deploy_templates/intrinsics.rs"]
mod intrinsics;
#[path = "deploy_templates/settings.rs"]
mod settings;
// Each rule shown to bite on a mutated copy.
#[path = "deploy_templates/caught.rs"]
mod caught;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
};

use iam::{ApiCall, Kind, Scope};
use marshal_tests::workspace_dir;
use serde_json::{Value, json};
use settings::{LEDGER_TABLE, NINE_NAMES, OWNERSHIP_TABLE};

/// The ownership table's inventory index.
const INVENTORY_INDEX: &str = "OwnershipTable/index/inventory";

/// Every AWS call of the API (`lambda/src/aws/`), its IAM action and the
/// resources the action may be granted on, from the Service Authorization
/// Reference ("Actions defined by AWS IoT": RegisterCertificateWithoutCA,
/// ListAttachedPolicies, ListCertificates and DescribeEndpoint have no
/// resource type).
/// `op.param` is a call that needs one more action when it sets `param`.
const API_CALLS: &[ApiCall] = &[
    call(
        "register_certificate_without_ca",
        "iot:RegisterCertificateWithoutCA",
        Scope::Any,
    ),
    call(
        "describe_certificate",
        "iot:DescribeCertificate",
        Scope::Cert,
    ),
    call("update_certificate", "iot:UpdateCertificate", Scope::Cert),
    call("delete_certificate", "iot:DeleteCertificate", Scope::Cert),
    call("get_policy", "iot:GetPolicy", Scope::PolicyNames),
    call("create_policy", "iot:CreatePolicy", Scope::PolicyNames),
    call("attach_policy", "iot:AttachPolicy", Scope::Cert),
    call("detach_policy", "iot:DetachPolicy", Scope::Cert),
    call(
        "list_attached_policies",
        "iot:ListAttachedPolicies",
        Scope::Any,
    ),
    call("describe_thing", "iot:DescribeThing", Scope::Thing),
    call("create_thing", "iot:CreateThing", Scope::Thing),
    call("delete_thing", "iot:DeleteThing", Scope::Thing),
    // Ownership: who is attached to a thing before it is taken over or
    // deleted. (AttachThingPrincipal's EXCLUSIVE_THING needs no other action.)
    call(
        "list_thing_principals",
        "iot:ListThingPrincipals",
        Scope::Thing,
    ),
    call(
        "attach_thing_principal",
        "iot:AttachThingPrincipal",
        Scope::Cert,
    ),
    call(
        "detach_thing_principal",
        "iot:DetachThingPrincipal",
        Scope::Cert,
    ),
    call(
        "list_principal_things",
        "iot:ListPrincipalThings",
        Scope::Cert,
    ),
    // Reconciling: every certificate of the account and region.
    call("list_certificates", "iot:ListCertificates", Scope::Any),
    call("describe_endpoint", "iot:DescribeEndpoint", Scope::Any),
    call(
        "assume_role",
        "sts:AssumeRole",
        Scope::Parameter("TargetRoleArns"),
    ),
    // The session's SourceIdentity is the caller's JWT sub (L10).
    call(
        "assume_role.source_identity",
        "sts:SetSourceIdentity",
        Scope::Parameter("TargetRoleArns"),
    ),
    // The ownership records by key, the ledger appended to: no scan, no
    // update, and nothing deletes a ledger event.
    call(
        "get_item",
        "dynamodb:GetItem",
        Scope::Tables(&[OWNERSHIP_TABLE, JOBS_TABLE]),
    ),
    call(
        "put_item",
        "dynamodb:PutItem",
        Scope::Tables(&[OWNERSHIP_TABLE, LEDGER_TABLE, JOBS_TABLE]),
    ),
    // Jobs: state changes and counts, and a chunk marked done in the
    // transaction that counts it (TransactWriteItems needs the actions of
    // its items, here UpdateItem).
    call(
        "update_item",
        "dynamodb:UpdateItem",
        Scope::Tables(&[JOBS_TABLE]),
    ),
    call(
        "transact_write_items",
        "dynamodb:UpdateItem",
        Scope::Tables(&[JOBS_TABLE]),
    ),
    // The job queue: the API and the split send, the worker's event
    // source (or the local poller) receives and deletes.
    call(
        "send_message_batch",
        "sqs:SendMessage",
        Scope::Own(&[JOBS_QUEUE]),
    ),
    call(
        "receive_message",
        "sqs:ReceiveMessage",
        Scope::Own(&[JOBS_QUEUE]),
    ),
    call(
        "delete_message_batch",
        "sqs:DeleteMessage",
        Scope::Own(&[JOBS_QUEUE]),
    ),
    // Job files: the upload URL and results written and handed out by the
    // API, the upload streamed by the split.
    call("put_object", "s3:PutObject", Scope::Own(JOB_FILES)),
    call("get_object", "s3:GetObject", Scope::Own(JOB_FILES)),
    call(
        "delete_item",
        "dynamodb:DeleteItem",
        Scope::Tables(&[OWNERSHIP_TABLE]),
    ),
    // The expiry report's one event per run.
    call(
        "put_events",
        "events:PutEvents",
        Scope::Sub(
            "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${ExpiryEventBus}",
        ),
    ),
    // The inventory index, and one certificate's events.
    call(
        "query",
        "dynamodb:Query",
        Scope::Tables(&[INVENTORY_INDEX, LEDGER_TABLE, JOBS_TABLE]),
    ),
];

/// The jobs' table, queue and files (the bucket's two prefixes).
const JOBS_TABLE: &str = "JobsTable";
const JOBS_QUEUE: &str = "JobsQueue";
const JOB_FILES: &[&str] = &["${JobsBucket.Arn}/uploads/*", "${JobsBucket.Arn}/results/*"];

/// Where `lambda/src/aws/` makes SDK calls: `<receiver><operation>(`, in any
/// of its files. A client kept under another name needs its receiver here.
const SDK_RECEIVERS: &[&str] = &["client.", "sts."];

/// Eight IoT policy names, the most the templates' Policies statements take.
const EIGHT_NAMES: &str = "MarshalDevice,p2,p3,p4,p5,p6,p7,p8";

/// Deployments of the hub an engineer might make. The IAM rules hold for
/// each; the settings' refusals change the first.
const HUB_DEPLOYMENTS: &[&[(&str, &str)]] = &[
    &[(
        "TargetRoleArns",
        "arn:aws:iam::111111111111:role/MarshalTarget,arn:aws:iam::222222222222:role/Marshal.Target-2",
    )],
    &[
        ("HubAccountTargets", "true"),
        ("AllowedRegions", "ap-northeast-1,us-east-1"),
        ("AllowedPolicyNames", "MarshalDevice"),
    ],
    &[
        (
            "TargetRoleArns",
            "arn:aws:iam::111111111111:role/MarshalTarget",
        ),
        ("HubAccountTargets", "true"),
        ("AllowedRegions", "eu-west-1"),
        ("AllowedPolicyNames", EIGHT_NAMES),
        ("JwtIssuer", "https://issuer.example"),
        ("JwtAudience", "page-client,cli-client"),
    ],
];

/// Deployments of a target role.
const TARGET_DEPLOYMENTS: &[&[(&str, &str)]] = &[
    &[
        (
            "HubRoleArn",
            "arn:aws:iam::999999999999:role/marshal-ApiFunctionRole-AbC123",
        ),
        ("ExternalId", "0123456789abcdef"),
        ("AllowedRegions", "ap-northeast-1,us-east-1"),
        ("AllowedPolicyNames", "MarshalDevice"),
    ],
    &[
        (
            "HubRoleArn",
            "arn:aws-us-gov:iam::999999999999:role/marshal-ApiFunctionRole-AbC123",
        ),
        ("ExternalId", "0123456789abcdef"),
        ("AllowedRegions", "us-gov-west-1"),
        ("AllowedPolicyNames", EIGHT_NAMES),
    ],
];

const fn call(sdk: &'static str, action: &'static str, scope: Scope) -> ApiCall {
    ApiCall { sdk, action, scope }
}

const HUB: &str = "template.yaml";
const TARGET: &str = "deploy/target-role.yaml";

// ------------------------------------------------------------ the templates

#[test]
fn hub_template_grants_only_the_api_calls() {
    let findings = iam::check(&template(HUB), Kind::Hub, API_CALLS, HUB_DEPLOYMENTS);
    assert_clean(HUB, &findings);
}

#[test]
fn target_role_grants_only_the_api_calls_to_the_hub_with_an_external_id() {
    let findings = iam::check(
        &template(TARGET),
        Kind::Target,
        API_CALLS,
        TARGET_DEPLOYMENTS,
    );
    assert_clean(TARGET, &findings);
}

#[test]
fn hub_template_refuses_unsafe_parameters_and_keeps_the_reviewed_settings() {
    let findings = settings::check(&template(HUB), Kind::Hub, HUB_DEPLOYMENTS);
    assert_clean(HUB, &findings);
}

#[test]
fn jobs_expire_by_the_attribute_the_code_writes() {
    let source = read(&workspace_dir().join("lambda/src/aws/jobs.rs"));
    let written = format!("const EXPIRES_AT: &str = \"{}\";", settings::JOBS_EXPIRY);
    assert!(
        source.contains(&written),
        "lambda/src/aws/jobs.rs must write {} on jobs and chunks: the template's TTL names it",
        settings::JOBS_EXPIRY
    );
}

#[test]
fn target_role_refuses_unsafe_parameters() {
    let findings = settings::check(&template(TARGET), Kind::Target, TARGET_DEPLOYMENTS);
    assert_clean(TARGET, &findings);
}

#[test]
fn api_calls_are_exactly_the_sdk_calls_of_lambda() {
    let aws = workspace_dir().join("lambda/src/aws");
    let sources: Vec<String> = rust_files(&aws).iter().map(|f| read(f)).collect();
    let mut called = BTreeSet::new();
    for source in &sources {
        for receiver in SDK_RECEIVERS {
            called.extend(sdk_calls(source, receiver));
        }
    }
    // `client.config()` reads the client's settings; it is no AWS call.
    called.remove("config");
    // A call that needs another action when it sets a parameter.
    for listed in API_CALLS.iter().filter_map(|c| c.sdk.split_once('.')) {
        if sources.iter().any(|s| sets(s, listed.0, listed.1)) {
            called.insert(format!("{}.{}", listed.0, listed.1));
        }
    }
    let listed: BTreeSet<String> = API_CALLS.iter().map(|c| c.sdk.to_owned()).collect();
    let unlisted: Vec<&String> = called.difference(&listed).collect();
    let uncalled: Vec<&String> = listed.difference(&called).collect();
    assert!(
        unlisted.is_empty() && uncalled.is_empty(),
        "lambda/src/aws and API_CALLS differ:\n  called but not in API_CALLS: {unlisted:?}\n  in \
         API_CALLS but not called: {uncalled:?}\nGive every SDK call its IAM action in API_CALLS \
         and in both templates, and drop actions no longer called. Calls are found as \
         `<receiver><operation>(` with the receivers {SDK_RECEIVERS:?} in every file under \
         lambda/src/aws, and `op.param` as `.param(` or `.set_param(` between `op(` and the next \
         `;`."
    );
}

#[test]
fn http_api_routes_are_the_routers_routes() {
    let routes = read(&workspace_dir().join("lambda/src/routes.rs"));
    let compact: String = routes.split_whitespace().collect();
    assert!(
        compact.contains(".nest(\"/v1\",v1)"),
        "the router no longer nests its routes under /v1; update this test"
    );
    let router: BTreeSet<String> = router_routes(&compact)
        .into_iter()
        .map(|(method, path)| format!("{method} /v1{path}"))
        .collect();
    let hub = template(HUB);
    let events = hub
        .pointer("/Resources/ApiFunction/Properties/Events")
        .and_then(Value::as_object)
        .expect("ApiFunction has Events");
    let mut routed = BTreeSet::new();
    let mut public = BTreeSet::new();
    for event in events.values() {
        let properties = &event["Properties"];
        let route = format!(
            "{} {}",
            properties["Method"].as_str().unwrap().to_uppercase(),
            properties["Path"].as_str().unwrap()
        );
        if properties.pointer("/Auth/Authorizer") == Some(&json!("NONE")) {
            public.insert(route.clone());
        }
        routed.insert(route);
    }
    assert_eq!(
        routed, router,
        "template.yaml's HttpApi events (left) and lambda/src/routes.rs (right) differ"
    );
    let expected_public: BTreeSet<String> = ["GET /v1/health", "GET /v1/openapi.json"]
        .map(String::from)
        .into();
    assert_eq!(
        public, expected_public,
        "only the routes that need no caller may skip the JWT authorizer"
    );
}

#[test]
fn every_checkov_skip_says_why() {
    for path in [HUB, TARGET] {
        let template = template(path);
        for (name, resource) in template["Resources"].as_object().unwrap() {
            let skips = resource.pointer("/Metadata/checkov/skip");
            for skip in skips.and_then(Value::as_array).into_iter().flatten() {
                let id = skip["id"].as_str().unwrap_or_default();
                let reason = skip["comment"].as_str().unwrap_or_default();
                assert!(
                    id.starts_with("CKV") && reason.len() >= 40,
                    "{path}: Resources.{name} skips checkov's {skip} without a reason worth \
                     reading: say why the check does not apply"
                );
            }
        }
    }
}

#[test]
fn every_listed_deployment_is_accepted_and_nine_policy_names_are_not() {
    for (path, deployments) in [(HUB, HUB_DEPLOYMENTS), (TARGET, TARGET_DEPLOYMENTS)] {
        let template = template(path);
        for given in deployments {
            if let Err(refused) = intrinsics::deploy(&template, given) {
                panic!("{path} refuses {given:?}:\n{}", refused.join("\n"));
            }
        }
        let mut given = deployments[0].to_vec();
        given.retain(|(name, _)| *name != "AllowedPolicyNames");
        given.push(("AllowedPolicyNames", NINE_NAMES));
        assert!(
            intrinsics::deploy(&template, &given).is_err(),
            "{path} accepts nine policy names, one more than its Policies statement has slots for"
        );
    }
}

#[test]
fn a_new_sdk_call_is_found_in_the_source() {
    let source = "let x = self\n  .client\n  .create_keys_and_certificate()\n  .send();";
    assert_eq!(
        sdk_calls(source, "client."),
        BTreeSet::from(["create_keys_and_certificate".to_owned()])
    );
    assert!(sdk_calls("//! the IoT client.\n\nuse std::time;", "client.").is_empty());
    let source = "let call = sts\n  .assume_role()\n  .role_arn(arn)\n  .set_source_identity(Some(sub))\n  .customize();\nx.source_identity(y);";
    assert!(sets(source, "assume_role", "source_identity"));
    let source = "sts.assume_role().role_arn(arn).customize();\nx.source_identity(y);";
    assert!(!sets(source, "assume_role", "source_identity"));
}

// ------------------------------------------------------------------ helpers

/// A template as cfn-lint reads it (long-form intrinsics), read once per
/// test process (loading cfn-lint takes a second).
fn template(relative: &str) -> Value {
    static READ: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
    let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    read.entry(relative.to_owned())
        .or_insert_with(|| decode(relative))
        .clone()
}

/// Runs cfn-lint's loader on a template, or panics showing the command and
/// its output.
fn decode(relative: &str) -> Value {
    let python = deploy_python();
    let script = workspace_dir().join("tests/deploy/template_json.py");
    let path = workspace_dir().join(relative);
    let output = Command::new(&python)
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`{} {} {}` failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
        python.display(),
        script.display(),
        path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{relative} did not come out as JSON ({e}):\n{stdout}"))
}

/// The deploy virtualenv's Python, which has cfn-lint. Never skips.
fn deploy_python() -> PathBuf {
    let Some(path) = std::env::var_os("MARSHAL_DEPLOY_PYTHON") else {
        panic!(
            "MARSHAL_DEPLOY_PYTHON is not set: it must name the Python of the deploy virtualenv \
             (deploy/requirements.txt, which has cfn-lint). `cargo xtask test` sets it; by hand: \
             MARSHAL_DEPLOY_PYTHON=$HOME/.cache/marshal/venv-deploy/bin/python cargo test -p \
             marshal-tests --test deploy_templates"
        );
    };
    PathBuf::from(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn assert_clean(path: &str, findings: &[String]) {
    assert!(
        findings.is_empty(),
        "{path} grants more than the API's calls need:\n{}",
        findings.join("\n")
    );
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Whether some call `op(` in `source` sets `param` (`.param(` or
/// `.set_param(`) before the statement ends (`;`), whitespace ignored.
fn sets(source: &str, op: &str, param: &str) -> bool {
    let compact: String = source.split_whitespace().collect();
    let call = format!(".{op}(");
    compact.match_indices(&call).any(|(at, _)| {
        let chain = compact[at..].split(';').next().unwrap_or_default();
        chain.contains(&format!(".{param}(")) || chain.contains(&format!(".set_{param}("))
    })
}

/// The method names called right after `receiver` (e.g. `client.`),
/// whitespace ignored, as rustfmt splits call chains over lines. A name not
/// followed by `(` is no call (prose such as "the IoT client." is not).
fn sdk_calls(source: &str, receiver: &str) -> BTreeSet<String> {
    let compact: String = source.split_whitespace().collect();
    compact
        .match_indices(receiver)
        .filter_map(|(at, _)| {
            let rest = &compact[at + receiver.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let called = rest[name.len()..].starts_with('(');
            (called && !name.is_empty()).then_some(name)
        })
        .collect()
}

/// `(METHOD, path)` of every `.route("path", get(..).delete(..))` in the
/// whitespace-free source of the router.
fn router_routes(compact: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (at, _) in compact.match_indices(".route(\"") {
        let rest = &compact[at + ".route(\"".len()..];
        let Some((path, rest)) = rest.split_once('"') else {
            continue;
        };
        // The route's arguments end where its parenthesis closes.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .unwrap_or(rest.len());
        let arguments = &rest[..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = [format!(",{method}("), format!(".{method}(")]
                .iter()
                .any(|needle| arguments.contains(needle.as_str()));
            if called {
                routes.push((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    routes
}
