//! The `marshal` CLI's online commands against the local stack: the built
//! `marshal-lambda` API on loopback, a real moto server behind it, and every
//! claim checked through boto3 (`moto_state`), not through the CLI's output.
//!
//! One moto and one API serve the whole file; tests use their own
//! certificates so they stay apart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use marshal_tests::api::Api;
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, AwsState, Target};
use marshal_tests::{Cmd, Run, example, fixture_id, is_certificate_id};
use serde_json::Value;

const POLICY: &str = "MarshalDevice";
/// Small, so a batch of 100 needs several requests.
const MAX_CERTIFICATES: usize = 30;
const TWO: [&str; 2] = ["a-tokyo", "b-virginia"];

fn targets() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
        ("b-tokyo", "222222222222", "ap-northeast-1"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "cli-test"))
    .collect()
}

fn config_toml() -> String {
    let mut toml = format!(
        "auth = \"none\"\nthingNamePattern = \"[A-Za-z0-9_-]+\"\n\n[limits]\n\
         maxBodyBytes = 65536\nmaxTargetsPerRequest = 4\n\
         maxCertificatesPerRequest = {MAX_CERTIFICATES}\nconcurrency = 8\n"
    );
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

    /// `marshal <command> --api URL <args>`.
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

/// `marshal keygen --cn CN --out DIR`; the certificate's path and ID.
fn keygen(dir: &Path, cn: &str) -> (PathBuf, String) {
    let run = Cmd::marshal()
        .args(["keygen", "--cn", cn, "--json", "--out"])
        .arg(dir)
        .run();
    run.assert_success();
    let id = run.json()["certificateId"].as_str().unwrap().to_owned();
    assert!(is_certificate_id(&id), "{run}");
    (dir.join(format!("{cn}.cert.pem")), id)
}

#[track_caller]
fn assert_registered(state: &AwsState, target: &str, id: &str, thing: &str) {
    let found = state.certificates(target, id);
    assert_eq!(found.len(), 1, "{id} in {target}: {found:?}");
    let cert = &found[0];
    assert_eq!(cert.status, "ACTIVE", "{id} in {target}");
    assert_eq!(cert.policies, [POLICY], "{id} in {target}");
    assert_eq!(cert.things, [thing], "{id} in {target}");
    assert_eq!(state.thing_count(target, thing), 1, "{thing} in {target}");
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_factory_batch_of_100_registers_reruns_unchanged_and_deletes() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let factory = dir.path().join("factory");
    fs::create_dir(&factory).unwrap();
    let mut csv = String::from("thing_name,certificate_path\n");
    let mut devices = Vec::new();
    for n in 0..100 {
        let (cert, id) = keygen(&factory, &format!("factory-cn-{n:03}"));
        let thing = format!("factory-thing-{n:03}");
        csv.push_str(&format!(
            "{thing},factory/{}\n",
            cert.file_name().unwrap().to_string_lossy()
        ));
        devices.push((thing, id));
    }
    let list = dir.path().join("devices.csv");
    fs::write(&list, csv).unwrap();
    let results = dir.path().join("results.csv");
    let ids: Vec<&str> = devices.iter().map(|(_, id)| id.as_str()).collect();

    let register = || {
        stack
            .marshal(&[
                "register",
                "--target",
                "a-tokyo,b-virginia",
                "--json",
                "--batch",
            ])
            .arg(&list)
            .arg("--results")
            .arg(&results)
            .run()
    };
    let first = register();
    first.assert_success().assert_no_private_key();
    let body = first.json();
    assert_eq!(body["summary"]["succeeded"], 200, "{first}");
    assert_eq!(body["summary"]["failed"], 0, "{first}");
    // Four requests of at most 30 certificates, each reported as progress.
    assert!(
        first.stderr_text().contains("registering: 100/100"),
        "{first}"
    );

    let state = stack.aws(&ids);
    for (thing, id) in &devices {
        for target in TWO {
            assert_registered(&state, target, id, thing);
        }
    }
    let rows = csv_rows(&results);
    assert_eq!(rows.len(), 100);
    for (row, (thing, id)) in rows.iter().zip(&devices) {
        assert_eq!(&row[0], thing);
        assert_eq!(&row[1], id);
        assert_eq!(row[3], "ACTIVE", "{row:?}");
        assert!(row[4].contains("iot.ap-northeast-1"), "{row:?}");
        assert_eq!(row[6], "ACTIVE", "{row:?}");
        assert!(row[7].contains("iot.us-east-1"), "{row:?}");
    }

    // The same batch again: nothing new, nothing duplicated.
    let again = register();
    again.assert_success();
    let body = again.json();
    assert_eq!(body["summary"]["succeeded"], 200, "{again}");
    let newly: Vec<&Value> = body["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["results"].as_array().unwrap())
        .filter(|r| r["registration"]["newlyRegistered"] == true)
        .collect();
    assert!(newly.is_empty(), "a re-run registered again: {newly:?}");
    let state = stack.aws(&ids);
    for (thing, id) in &devices {
        for target in TWO {
            assert_registered(&state, target, id, thing);
        }
    }

    let delete = stack
        .marshal(&["delete", "--target", "a-tokyo,b-virginia", "--batch"])
        .arg(&list)
        .run();
    delete.assert_success();
    assert!(
        delete
            .stdout_text()
            .contains("deleted 100 certificate(s) from 2 target(s) (0 failed)"),
        "{delete}"
    );
    let state = stack.aws(&ids);
    for id in &ids {
        for target in TWO {
            assert!(
                state.certificate(target, id).is_none(),
                "{id} still in {target}"
            );
        }
    }
}

#[test]
fn one_certificate_through_its_whole_life() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let (cert, id) = keygen(dir.path(), "life-cycle-1");

    let register = stack
        .marshal(&["register", "--target", "a-tokyo", "--thing", "life-thing"])
        .arg(&cert)
        .run();
    register.assert_success();
    let out = register.stdout_text();
    assert!(out.contains(&format!("certificate {id}")), "{register}");
    assert!(
        out.contains("a-tokyo") && out.contains("ACTIVE"),
        "{register}"
    );
    assert!(out.contains("iot.ap-northeast-1"), "{register}");
    assert_registered(&stack.aws(&[&id]), "a-tokyo", &id, "life-thing");

    // By file or by ID, `status` sees every target.
    let status = stack.marshal(&["status", "--json"]).arg(&cert).run();
    status.assert_success();
    let body = status.json();
    assert_eq!(body["certificateId"], id.as_str());
    let present: Vec<&str> = body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["present"] == true)
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(present, ["a-tokyo"]);

    stack
        .marshal(&["deactivate", &id, "--target", "a-tokyo"])
        .run()
        .assert_success();
    let state = stack.aws(&[&id]);
    assert_eq!(
        state.certificate("a-tokyo", &id).unwrap().status,
        "INACTIVE"
    );
    stack
        .marshal(&["activate", &id, "--target", "all"])
        .run()
        .assert_exit(1)
        .assert_stdout_contains("not registered");
    assert_eq!(
        stack
            .aws(&[&id])
            .certificate("a-tokyo", &id)
            .unwrap()
            .status,
        "ACTIVE"
    );

    let transfer = stack
        .marshal(&["transfer", &id, "--from", "a-tokyo", "--to", "b-virginia"])
        .args(["--mode", "move-delete", "--thing", "life-thing"])
        .run();
    transfer.assert_success();
    let state = stack.aws(&[&id]);
    assert!(state.certificate("a-tokyo", &id).is_none(), "{transfer}");
    assert_registered(&state, "b-virginia", &id, "life-thing");

    let status = stack.marshal(&["status", &id]).run();
    status.assert_success();
    assert!(
        status
            .stdout_text()
            .contains("registered in 1 of 3 target(s)"),
        "{status}"
    );

    stack
        .marshal(&["delete", &id, "--target", "all"])
        .run()
        .assert_success()
        .assert_stdout_contains("was not registered");
    assert!(stack.aws(&[&id]).certificate("b-virginia", &id).is_none());
}

#[test]
fn invalid_certificates_stop_the_batch_unless_skipped() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("mixed");
    fs::create_dir(&batch).unwrap();
    let (_, good) = keygen(&batch, "mixed-good-1");
    fs::copy(example("expired.cert.pem"), batch.join("expired.cert.pem")).unwrap();
    let results = dir.path().join("mixed.csv");

    let refused = stack
        .marshal(&["register", "--target", "b-tokyo", "--batch"])
        .arg(&batch)
        .run();
    refused.assert_exit(1);
    let out = refused.stdout_text();
    assert!(
        out.contains("expired.cert.pem") && out.contains("nothing was sent"),
        "{refused}"
    );
    assert!(stack.aws(&[&good]).certificate("b-tokyo", &good).is_none());

    let skipped = stack
        .marshal(&[
            "register",
            "--target",
            "b-tokyo",
            "--skip-invalid",
            "--batch",
        ])
        .arg(&batch)
        .arg("--results")
        .arg(&results)
        .run();
    skipped.assert_success();
    assert!(
        skipped.stdout_text().contains("1 certificate(s) left out"),
        "{skipped}"
    );
    assert_registered(&stack.aws(&[&good]), "b-tokyo", &good, "mixed-good-1");
    let rows = csv_rows(&results);
    let expired = rows
        .iter()
        .find(|r| r[2].ends_with("expired.cert.pem"))
        .unwrap();
    assert_eq!(expired[3], "SKIPPED", "{rows:?}");
    assert!(expired[5].contains("expired"), "{rows:?}");
}

#[test]
fn a_pem_bundle_and_a_file_with_its_key_send_only_certificates() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let mut bundle = String::from("certificates from the factory\n");
    let mut ids = Vec::new();
    for n in 0..3 {
        let (cert, id) = keygen(dir.path(), &format!("bundle-dev-{n}"));
        bundle.push_str(&fs::read_to_string(cert).unwrap());
        ids.push(id);
    }
    // A key in the bundle too: it is never read into a request (the API
    // would refuse the whole body with key_material_refused).
    bundle.push_str(&fs::read_to_string(dir.path().join("bundle-dev-0.private.key")).unwrap());
    let path = dir.path().join("bundle.pem");
    fs::write(&path, bundle).unwrap();

    let run = stack
        .marshal(&["register", "--target", "b-tokyo", "--batch"])
        .arg(&path)
        .arg("--results")
        .arg(dir.path().join("bundle.csv"))
        .run();
    run.assert_success().assert_no_private_key();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let state = stack.aws(&refs);
    for (n, id) in ids.iter().enumerate() {
        assert_registered(&state, "b-tokyo", id, &format!("bundle-dev-{n}"));
    }
    assert!(
        !stack.api.log().contains("PRIVATE KEY"),
        "the API saw key material"
    );
}

#[track_caller]
fn assert_error(run: &Run, exit: i32, code: &str) {
    run.assert_exit(exit);
    let body = run.json();
    assert_eq!(body["error"]["code"], code, "{run}");
}

#[test]
fn refusals_and_unreachable_apis_are_explained() {
    let stack = stack();
    let fixture = example("p256.cert.pem");

    let unknown = stack
        .marshal(&["register", "--target", "nowhere", "--json"])
        .arg(&fixture)
        .run();
    assert_error(&unknown, 1, "forbidden_target");
    assert!(
        unknown
            .stderr_text()
            .contains("the API refused the request"),
        "{unknown}"
    );

    let policy = stack
        .marshal(&[
            "register", "--target", "a-tokyo", "--policy", "Admin", "--json",
        ])
        .arg(&fixture)
        .run();
    assert_error(&policy, 1, "policy_not_allowed");

    let bad_thing = stack
        .marshal(&[
            "register",
            "--target",
            "a-tokyo",
            "--thing",
            "no spaces allowed",
        ])
        .arg(&fixture)
        .run();
    bad_thing.assert_exit(1);
    assert!(
        bad_thing.stdout_text().contains("thing_name_not_allowed"),
        "{bad_thing}"
    );
    assert!(
        stack
            .aws(&[&fixture_id("p256.cert.pem")])
            .certificate("a-tokyo", &fixture_id("p256.cert.pem"))
            .is_none(),
        "a refused request changed AWS"
    );

    let weak = stack
        .marshal(&["register", "--target", "a-tokyo"])
        .arg(example("rsa1024.cert.pem"))
        .run();
    weak.assert_exit(1);
    assert!(weak.stdout_text().contains("nothing was sent"), "{weak}");

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = Cmd::marshal()
        .args([
            "targets",
            "--json",
            "--api",
            &format!("http://127.0.0.1:{port}"),
        ])
        .run();
    assert_error(&down, 1, "api_unreachable");
    assert!(down.stderr_text().contains("is the API running?"), "{down}");

    let no_api = Cmd::marshal().args(["targets", "--api", "not a url"]).run();
    no_api.assert_exit(2);

    let not_an_id = stack.marshal(&["status", "abc123"]).run();
    not_an_id.assert_exit(2);
    assert!(
        not_an_id.stderr_text().contains("neither a certificate ID"),
        "{not_an_id}"
    );
}

#[test]
fn targets_lists_what_the_api_allows() {
    let stack = stack();
    let run = stack.marshal(&["targets"]).run();
    run.assert_success();
    let out = run.stdout_text();
    for t in targets() {
        assert!(out.contains(&t.id) && out.contains(&t.account_id), "{run}");
    }
    assert!(out.contains(&format!("policies: {POLICY}")), "{run}");
    assert!(!out.contains("arn:aws:iam"), "role ARNs leaked: {run}");
    let json = stack.marshal(&["targets", "--json"]).run();
    json.assert_success();
    assert_eq!(json.json()["targets"].as_array().unwrap().len(), 3);
}
