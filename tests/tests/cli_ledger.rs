//! The `marshal` CLI's ledger commands (`inventory`, `history`, `rotate`,
//! `retire`, `reconcile`) against the local stack: the built `marshal-lambda` API on
//! loopback, a real moto server behind it, and every claim about AWS checked
//! through boto3 (`moto_state`), not through the CLI's output.
//!
//! One moto and one API serve the whole file; each test uses its own
//! certificates and things, and filters the inventory by them. Reconcile
//! lists whole accounts, so its test has a target (account) to itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use marshal_tests::api::{ACCESS_KEY_ID, Api, HUB_REGION, SECRET_ACCESS_KEY};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, AwsState, Target};
use marshal_tests::{Cmd, Run, is_certificate_id};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
const TWO: [&str; 2] = ["a-tokyo", "b-virginia"];

fn targets() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
        // Only for the reconcile test.
        ("c-oregon", "333333333333", "us-west-2"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "ledger-test"))
    .collect()
}

fn config_toml() -> String {
    let mut toml = String::from("auth = \"none\"\nthingNamePattern = \"[A-Za-z0-9_-]+\"\n");
    for t in targets() {
        toml.push_str(&t.config_entry(&format!("Target {}", t.id)));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

struct Stack {
    // Dropped first: the API goes before moto.
    api: Api,
    moto: Moto,
}

impl Stack {
    fn aws(&self, ids: &[&str]) -> AwsState {
        moto_state::inspect(&self.moto.endpoint(), &targets(), ids)
    }

    /// `marshal <command> --api URL <args>`; every run is checked for key
    /// material on stdout and stderr and for Debug text where words belong.
    fn marshal(&self, args: &[&str]) -> Cmd {
        let (command, rest) = args.split_first().expect("a command");
        Cmd::marshal()
            .arg(command)
            .args(["--api", &self.api.url()])
            .args(rest)
    }
}

fn stack() -> Arc<Stack> {
    static SHARED: Mutex<Weak<Stack>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(stack) = shared.upgrade() {
        return stack;
    }
    let moto = Moto::start();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets(), POLICY);
    let api = Api::start(&config_toml(), &moto.endpoint());
    let stack = Arc::new(Stack { api, moto });
    *shared = Arc::downgrade(&stack);
    stack
}

/// Runs and checks what every ledger command must do whatever it prints.
#[track_caller]
fn run(cmd: Cmd) -> Run {
    let run = cmd.run();
    run.assert_no_private_key().assert_words();
    run
}

/// `marshal keygen --cn CN --days DAYS --out DIR`; the certificate's path and ID.
fn keygen(dir: &Path, cn: &str, days: u32) -> (PathBuf, String) {
    let run = Cmd::marshal()
        .args([
            "keygen",
            "--cn",
            cn,
            "--json",
            "--days",
            &days.to_string(),
            "--out",
        ])
        .arg(dir)
        .run();
    run.assert_success();
    let id = run.json()["certificateId"].as_str().unwrap().to_owned();
    assert!(is_certificate_id(&id), "{run}");
    (dir.join(format!("{cn}.cert.pem")), id)
}

#[track_caller]
fn assert_registered(state: &AwsState, target: &str, id: &str, thing: &str) {
    let cert = state
        .certificate(target, id)
        .unwrap_or_else(|| panic!("{id} is not in {target}\n{state}"));
    assert_eq!(cert.status, "ACTIVE", "{id} in {target}\n{state}");
    assert_eq!(cert.policies, [POLICY], "{id} in {target}\n{state}");
    assert_eq!(cert.things, [thing], "{id} in {target}\n{state}");
}

/// `inventory --json` entries, as (certificate ID, target) pairs in order.
#[track_caller]
fn pairs(run: &Run) -> Vec<(String, String)> {
    run.assert_success();
    run.json()
        .as_array()
        .unwrap_or_else(|| run.fail("--json must print an array"))
        .iter()
        .map(|e| {
            (
                e["certificateId"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The cursor a page's note names, if any.
fn cursor_in_note(run: &Run) -> Option<String> {
    run.stderr_text()
        .lines()
        .find_map(|l| l.split_once("--cursor ").map(|(_, c)| c.trim().to_owned()))
}

#[test]
fn inventory_history_rotate_and_retire_through_the_cli() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    // Two devices: the first expires sooner, so it comes first.
    let (soon, soon_id) = keygen(dir.path(), "ledger-soon", 30);
    let (later, later_id) = keygen(dir.path(), "ledger-later", 400);
    run(stack
        .marshal(&["register", "--target", "a-tokyo,b-virginia"])
        .arg(&soon)
        .args(["--thing", "ledger-thing-soon"]))
    .assert_success();
    run(stack
        .marshal(&["register", "--target", "a-tokyo"])
        .arg(&later)
        .args(["--thing", "ledger-thing-later"]))
    .assert_success();

    // The inventory, for scripts: the API's entries, soonest notAfter first.
    let mine = |extra: &[&str]| {
        let mut args = vec!["inventory", "--json", "--registered-by", "local"];
        args.extend_from_slice(extra);
        run(stack.marshal(&args))
    };
    let all = mine(&["--all"]);
    let ours: Vec<(String, String)> = pairs(&all)
        .into_iter()
        .filter(|(id, _)| *id == soon_id || *id == later_id)
        .collect();
    assert_eq!(
        ours,
        [
            (soon_id.clone(), "a-tokyo".to_owned()),
            (soon_id.clone(), "b-virginia".to_owned()),
            (later_id.clone(), "a-tokyo".to_owned()),
        ],
        "{all}"
    );
    let entry = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["certificateId"] == soon_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(entry["thing"], "ledger-thing-soon", "{all}");
    assert_eq!(entry["policy"], POLICY, "{all}");
    assert_eq!(entry["status"], "ACTIVE", "{all}");
    assert_eq!(entry["managed"], true, "{all}");

    // For people: short IDs, days left, thing, policy, who.
    let table = run(stack.marshal(&["inventory", "--thing", "ledger-thing-soon"]));
    table.assert_success();
    let text = table.stdout_text();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{}…  a-tokyo", &soon_id[..12])))
        .unwrap_or_else(|| table.fail("no row for the first device in a-tokyo"));
    assert!(line.contains("ACTIVE"), "{table}");
    assert!(
        line.contains("  29  ") || line.contains("  30  "),
        "30 days of validity must show 29 or 30 days left: {table}"
    );
    assert!(
        line.contains("ledger-thing-soon") && line.contains(POLICY) && line.contains("local"),
        "{table}"
    );
    assert!(text.ends_with("2 entries\n"), "{table}");
    let wide = run(stack.marshal(&["inventory", "--wide", "--thing", "ledger-thing-soon"]));
    wide.assert_stdout_contains(&soon_id);

    // Filters.
    let by_thing = run(stack.marshal(&["inventory", "--json", "--thing", "ledger-thing-later"]));
    assert_eq!(pairs(&by_thing), [(later_id.clone(), "a-tokyo".to_owned())]);
    let by_target = mine(&["--target", "b-virginia", "--all"]);
    assert!(
        pairs(&by_target)
            .iter()
            .all(|(id, target)| target == "b-virginia" && *id != later_id),
        "{by_target}"
    );
    let soon_only: Vec<String> = pairs(&mine(&["--expires-within", "60", "--all"]))
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| *id == soon_id || *id == later_id)
        .collect();
    assert_eq!(soon_only, [soon_id.clone(), soon_id.clone()]);
    let nobody = run(stack.marshal(&["inventory", "--json", "--registered-by", "nobody & co"]));
    assert!(pairs(&nobody).is_empty(), "{nobody}");

    // Paging: one entry a page; the note names the next cursor; --all follows them.
    let first = mine(&["--limit", "1"]);
    assert_eq!(pairs(&first).len(), 1, "{first}");
    let cursor = cursor_in_note(&first).unwrap_or_else(|| first.fail("no --cursor in the note"));
    let second = mine(&["--limit", "1", "--cursor", &cursor]);
    assert_eq!(pairs(&second).len(), 1, "{second}");
    assert_ne!(pairs(&first), pairs(&second), "{second}");
    let paged = mine(&["--all", "--limit", "1"]);
    assert_eq!(pairs(&paged), pairs(&all), "{paged}");
    assert!(cursor_in_note(&paged).is_none(), "{paged}");

    // History: register's intent and outcome in each target, oldest first.
    let history = run(stack.marshal(&["history", "--json"]).arg(&soon));
    history.assert_success();
    let events = history.json()["events"].as_array().unwrap().clone();
    for target in TWO {
        let phases: Vec<&str> = events
            .iter()
            .filter(|e| e["target"] == target && e["action"] == "register")
            .map(|e| e["phase"].as_str().unwrap())
            .collect();
        assert_eq!(phases, ["intent", "outcome"], "{target}: {history}");
    }
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{history}");
    let history_text = run(stack.marshal(&["history", &soon_id]));
    history_text.assert_success();
    assert!(
        history_text
            .stdout_text()
            .lines()
            .any(|l| l.contains("register") && l.contains("outcome") && l.contains(" ok ")),
        "{history_text}"
    );

    // Rotate: a file with the key in it is refused before anything is sent.
    let next_dir = dir.path().join("next");
    let (next, next_id) = keygen(&next_dir, "ledger-soon", 365);
    let with_key = dir.path().join("with-key.pem");
    fs::write(
        &with_key,
        [
            fs::read_to_string(&next).unwrap(),
            fs::read_to_string(next_dir.join("ledger-soon.private.key")).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let refused = run(stack
        .marshal(&["rotate", &soon_id, "--json", "--cert"])
        .arg(&with_key));
    refused.assert_exit(2);
    assert_eq!(
        refused.json()["error"]["code"],
        "key_material_in_file",
        "{refused}"
    );
    assert!(
        !stack.api.log().contains("PRIVATE KEY"),
        "the API saw key material"
    );
    let state = stack.aws(&[&next_id]);
    for target in TWO {
        assert!(state.certificate(target, &next_id).is_none(), "{state}");
    }

    // Rotate: the successor in every target, with the old one's thing and policy.
    let rotate = run(stack
        .marshal(&["rotate"])
        .arg(&soon)
        .arg("--cert")
        .arg(&next));
    rotate.assert_success();
    let out = rotate.stdout_text();
    assert!(out.contains(&format!("successor   {next_id}")), "{rotate}");
    assert!(
        out.contains("iot.ap-northeast-1") && out.contains("iot.us-east-1"),
        "{rotate}"
    );
    assert!(out.contains("marshal retire"), "{rotate}");
    let state = stack.aws(&[&soon_id, &next_id]);
    for target in TWO {
        assert_registered(&state, target, &next_id, "ledger-thing-soon");
        assert_eq!(
            state.certificate(target, &soon_id).map(|c| c.status),
            Some("ACTIVE".to_owned()),
            "the old certificate must stay ACTIVE until retired\n{state}"
        );
    }
    let rotated = run(stack.marshal(&["inventory", "--json", "--thing", "ledger-thing-soon"]));
    let rotated_json = rotated.json();
    let successors: Vec<&Value> = rotated_json
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["certificateId"] == soon_id.as_str())
        .map(|e| &e["successor"])
        .collect();
    assert_eq!(successors.len(), 2, "{rotated}");
    assert!(
        successors.iter().all(|s| *s == next_id.as_str()),
        "{rotated}"
    );
    let rotated_table = run(stack.marshal(&["inventory", "--thing", "ledger-thing-soon"]));
    rotated_table.assert_stdout_contains(&format!("rotated to {}…", &next_id[..12]));

    // Retire: the old one is only retired where rotated; `later` never was.
    let not_rotated = run(stack.marshal(&["retire", &later_id, "--target", "a-tokyo"]));
    not_rotated.assert_exit(1);
    assert!(
        not_rotated
            .stdout_text()
            .contains("run `marshal rotate` first"),
        "{not_rotated}"
    );
    assert_registered(
        &stack.aws(&[&later_id]),
        "a-tokyo",
        &later_id,
        "ledger-thing-later",
    );

    let retire = run(stack.marshal(&["retire", "--json"]).arg(&soon));
    retire.assert_success();
    let results = retire.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2, "{retire}");
    assert!(results.iter().all(|r| r["ok"] == true), "{retire}");
    let state = stack.aws(&[&soon_id, &next_id]);
    for target in TWO {
        assert!(state.certificate(target, &soon_id).is_none(), "{state}");
        assert_registered(&state, target, &next_id, "ledger-thing-soon");
    }
    let again = run(stack.marshal(&["retire", &soon_id]));
    again.assert_success();
    again.assert_stdout_contains("nothing left to retire");

    let history = run(stack.marshal(&["history", "--json", &soon_id]));
    // The ledger table itself, read with boto3: rotate and retire outcomes
    // in both targets, as `history` said.
    let items = moto_state::ledger_state(
        &stack.moto.endpoint(),
        &json!({"action": "ledger", "region": HUB_REGION, "table": "marshal-ledger",
                "certificateId": soon_id}),
    );
    for action in ["rotate", "retire"] {
        for target in TWO {
            let ok = items["items"].as_array().unwrap().iter().any(|i| {
                let e = &i["event"];
                e["action"] == action
                    && e["target"] == target
                    && e["phase"] == "outcome"
                    && e["ok"] == true
                    && e["related"] == next_id.as_str()
            });
            assert!(
                ok,
                "no {action} outcome in {target} in the ledger table: {items}"
            );
        }
    }
    let history_json = history.json();
    let actions: Vec<&str> = history_json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["phase"] == "outcome" && e["target"] == "a-tokyo")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"register") && actions.contains(&"retire"),
        "{history}"
    );
    let still_listed = pairs(&run(stack.marshal(&[
        "inventory",
        "--json",
        "--thing",
        "ledger-thing-soon",
    ])));
    assert!(
        still_listed.iter().all(|(id, _)| *id == next_id),
        "the retired certificate is still listed: {still_listed:?}"
    );
}

#[test]
fn refusals_are_explained_and_send_nothing() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let (cert, id) = keygen(dir.path(), "ledger-stranger", 30);
    let (next, next_id) = keygen(&dir.path().join("next"), "ledger-stranger", 30);

    // Never registered: nothing to rotate.
    let rotate = run(stack
        .marshal(&["rotate", &id, "--json", "--cert"])
        .arg(&next));
    rotate.assert_exit(1);
    assert_eq!(
        rotate.json()["error"]["code"],
        "certificate_not_found",
        "{rotate}"
    );
    assert!(
        stack
            .aws(&[&next_id])
            .certificate("a-tokyo", &next_id)
            .is_none()
    );

    // The same certificate as its own successor.
    let same = run(stack.marshal(&["rotate", &id, "--cert"]).arg(&cert));
    same.assert_exit(2);

    // Bad input is refused before any request.
    for (args, code) in [
        (
            vec!["inventory", "--json", "--expires-before", "31/03/2027"],
            "invalid_time",
        ),
        (vec!["inventory", "--json", "--thing", ""], "invalid_filter"),
        (vec!["history", "--json", "abc123"], "invalid_certificate"),
    ] {
        let refused = run(stack.marshal(&args));
        refused.assert_exit(2);
        assert_eq!(refused.json()["error"]["code"], code, "{refused}");
    }
    let limit = run(stack.marshal(&["inventory", "--limit", "101"]));
    limit.assert_exit(2);

    // A history of nothing is empty, not an error.
    let empty = run(stack.marshal(&["history", &id]));
    empty.assert_success();
    empty.assert_stdout_contains("no events");
}

/// Sets a certificate's status in a target with boto3, as someone working
/// in the AWS console would: outside Marshal.
fn set_status_outside_marshal(stack: &Stack, target: &str, id: &str, status: &str) {
    const SCRIPT: &str = "
import json, sys, boto3
a = json.load(sys.stdin)
sts = boto3.client('sts', region_name=a['region'], endpoint_url=a['endpoint'])
c = sts.assume_role(RoleArn=a['roleArn'], RoleSessionName='console', ExternalId=a['externalId'])['Credentials']
iot = boto3.client('iot', region_name=a['region'], endpoint_url=a['endpoint'],
    aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'],
    aws_session_token=c['SessionToken'])
iot.update_certificate(certificateId=a['id'], newStatus=a['status'])
";
    let target = targets().into_iter().find(|t| t.id == target).unwrap();
    let mut input = target.spec();
    input["endpoint"] = stack.moto.endpoint().into();
    input["id"] = id.into();
    input["status"] = status.into();
    Cmd::python(SCRIPT)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .stdin(input.to_string())
        .run()
        .assert_success();
}

#[test]
fn reconcile_names_drift_and_signals_it_with_exit_3() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let (cert, id) = keygen(dir.path(), "ledger-drift", 90);
    run(stack
        .marshal(&[
            "register",
            "--target",
            "c-oregon",
            "--thing",
            "ledger-drift-thing",
        ])
        .arg(&cert))
    .assert_success();

    let clean = run(stack.marshal(&["reconcile", "--targets", "c-oregon"]));
    clean.assert_success();
    assert_eq!(
        clean.stdout_text(),
        "c-oregon: 1 certificate(s) compared, inventory and AWS agree\nno drift\n",
        "{clean}"
    );

    set_status_outside_marshal(&stack, "c-oregon", &id, "INACTIVE");
    let found = run(stack.marshal(&["reconcile", "--target", "c-oregon"]));
    found.assert_exit(3);
    let out = found.stdout_text();
    assert!(
        out.contains(&format!("  {id}  status changed outside Marshal: ")),
        "{found}"
    );
    assert!(out.contains("nothing was changed"), "{found}");
    let json = run(stack.marshal(&["reconcile", "--target", "c-oregon", "--json"]));
    json.assert_exit(3);
    let body = json.json();
    let drift = &body["targets"][0]["drift"];
    assert_eq!(drift.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(drift[0]["certificateId"], id.as_str(), "{json}");
    assert_eq!(drift[0]["kind"], "status_changed", "{json}");
    assert_eq!(drift[0]["applied"], false, "{json}");

    let apply = run(stack.marshal(&["reconcile", "--target", "c-oregon", "--apply"]));
    apply.assert_exit(3);
    assert!(
        apply.stdout_text().contains("[inventory updated]")
            && apply
                .stdout_text()
                .contains("1 difference(s) found, 1 brought in line"),
        "{apply}"
    );
    // AWS is never changed: the status set outside stays.
    assert_eq!(
        stack
            .aws(&[&id])
            .certificate("c-oregon", &id)
            .map(|c| c.status),
        Some("INACTIVE".to_owned())
    );
    let after = run(stack.marshal(&["reconcile", "--target", "c-oregon"]));
    after.assert_success();
    after.assert_stdout_contains("no drift");
    let listed = run(stack.marshal(&["inventory", "--json", "--thing", "ledger-drift-thing"]));
    listed.assert_success();
    assert_eq!(listed.json()[0]["status"], "INACTIVE", "{listed}");
}
