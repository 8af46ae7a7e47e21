//! The onboarding page end to end: the built page (`cargo xtask page`,
//! `MARSHAL_PAGE_DIR`) served by the built `marshal-lambda --static-dir`
//! against moto, driven in Debian's Chromium by `tests/e2e/onboarding.cjs`
//! (playwright-core from `MARSHAL_NODE_MODULES`). What the page claims is
//! checked with other tools: the certificate with openssl, the key against
//! the certificate with openssl, AWS's state with boto3.
//!
//! Screenshots, downloads and the script's `result.json` stay in
//! `<target>/tmp/page-e2e/` (paths printed), to be looked at.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use marshal_tests::api::Api;
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::page::{self, PageTest};
use marshal_tests::{Cmd, openssl_certificate_id, workspace_dir};
use serde_json::{Value, json};

const ROLE_NAME: &str = "MarshalTarget";
const EXTERNAL_ID: &str = "marshal-test";
const POLICY: &str = "MarshalDevice";
const THING: &str = "e2e-sensor-01";

/// (id, account, region, display name).
const TARGETS: [(&str, &str, &str, &str); 4] = [
    (
        "a-tokyo",
        "111111111111",
        "ap-northeast-1",
        "Factory A, Tokyo",
    ),
    (
        "a-virginia",
        "111111111111",
        "us-east-1",
        "Factory A, N. Virginia",
    ),
    (
        "b-tokyo",
        "222222222222",
        "ap-northeast-1",
        "Field B, Tokyo",
    ),
    (
        "b-virginia",
        "222222222222",
        "us-east-1",
        "Field B, N. Virginia",
    ),
];

fn targets() -> Vec<Target> {
    TARGETS
        .iter()
        .map(|(id, account, region, _)| Target::new(id, account, region, ROLE_NAME, EXTERNAL_ID))
        .collect()
}

/// The two targets the test registers into: different accounts and regions.
const CHOSEN: [&str; 2] = ["a-tokyo", "b-virginia"];
/// Credentials the batch step makes (the benchmark size).
const BATCH: usize = 1_000;
/// SHA-256 of Amazon Root CA 1, as Amazon publishes it.
const AMAZON_ROOT_CA_1_SHA256: &str = "8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E";

fn fixtures_dir() -> PathBuf {
    workspace_dir().join("shared/tests/examples")
}

fn config_toml() -> String {
    let mut toml = String::from(
        "auth = \"none\"\nthingNamePattern = \"[a-zA-Z0-9_-]{1,64}\"\n\n[limits]\nmaxTargetsPerRequest = 4\n",
    );
    for (t, (_, _, _, name)) in targets().iter().zip(TARGETS) {
        toml.push_str(&format!(
            "\n[[targets]]\nid = \"{}\"\nname = \"{name}\"\naccountId = \"{}\"\n\
             region = \"{}\"\nroleArn = \"{}\"\nexternalId = \"{}\"\n",
            t.id, t.account_id, t.region, t.role_arn, t.external_id
        ));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

fn seed(moto: &Moto) {
    let spec = json!({
        "targets": targets().iter().map(|t| {
            let run = Cmd::marshal()
                .args(["policy", "--prefix", "devices", "--region"])
                .arg(&t.region)
                .arg("--account")
                .arg(&t.account_id)
                .run();
            run.assert_success();
            let mut spec = t.spec();
            spec["policies"] = json!([{"name": POLICY, "document": run.json()}]);
            spec
        }).collect::<Vec<_>>(),
    });
    moto_state::seed(&moto.endpoint(), &spec);
}

/// The base64 body lines of a PEM.
fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn generate_p256_register_in_two_targets_and_no_key_leaves_the_page() {
    let setup = PageTest::prepare(Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-e2e"));
    let artifacts = &setup.artifacts;

    let moto = Moto::start();
    seed(&moto);
    let api = Api::start_serving(&config_toml(), &moto.endpoint(), Some(&setup.built));
    let result = setup
        .script("onboarding.cjs", &format!("{}/", api.url()))
        .env("MARSHAL_TARGETS", CHOSEN.join(","))
        .env("MARSHAL_THING", THING)
        .env("MARSHAL_FIXTURES", fixtures_dir())
        .env("MARSHAL_BATCH", BATCH.to_string())
        .run();
    let explain = || page::explain(&result, &[], &api);
    setup.print_screenshots("page e2e", &result);
    eprintln!(
        "click → certificate ID shown: {:.1} ms (P-256, in the worker, timed in the page)",
        result["generateMs"].as_f64().unwrap_or(f64::NAN)
    );

    // The ID the page shows is openssl's SHA-256 of the downloaded certificate.
    let id = result["certificateId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let cert_file = artifacts.join("certificate.pem");
    let key_file = artifacts.join("private.key");
    assert_eq!(
        openssl_certificate_id(&cert_file),
        id,
        "page ID vs openssl\n{}",
        explain()
    );
    assert_eq!(result["preflightClean"], true, "{}", explain());
    assert_eq!(result["download-certificate"], format!("{THING}.cert.pem"));
    assert_eq!(result["download-key"], format!("{THING}.private.key"));

    // The downloaded key belongs to the certificate (openssl's view).
    let public_of = |args: &[&str], file: &Path| {
        let run = Cmd::openssl().args(args).arg(file).run();
        run.assert_success();
        run.stdout_text()
    };
    assert_eq!(
        public_of(&["x509", "-noout", "-pubkey", "-in"], &cert_file),
        public_of(&["pkey", "-pubout", "-in"], &key_file),
        "the downloaded key does not match the certificate"
    );
    let key_pem = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        key_pem.starts_with(concat!("-----", "BEGIN PRIVATE KEY", "-----")),
        "PKCS#8 PEM expected"
    );

    // No request carried the key, in any form the page holds it.
    let key_lines = pem_body_lines(&key_pem);
    let key_joined: String = key_lines.concat();
    let requests = result["requests"].as_array().cloned().unwrap_or_default();
    assert!(!requests.is_empty(), "no requests captured\n{}", explain());
    for request in &requests {
        let text = format!("{} {}", request["url"], request["body"]);
        let leaked = text.contains("PRIVATE KEY")
            || text.contains(&key_joined)
            || key_lines.iter().any(|line| text.contains(line.as_str()));
        assert!(
            !leaked,
            "a request carried private key material: {request}\n{}",
            explain()
        );
    }
    let registration = requests
        .iter()
        .find(|r| {
            r["method"] == "POST"
                && r["url"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/v1/registrations")
        })
        .unwrap_or_else(|| panic!("no POST /v1/registrations captured\n{}", explain()));
    let body: Value = serde_json::from_str(registration["body"].as_str().unwrap_or("")).unwrap();
    assert_eq!(body["targets"], json!(CHOSEN), "{}", explain());
    assert_eq!(body["certificates"][0]["thingName"], THING);
    assert_eq!(
        body["certificates"][0].as_object().map(|o| o.len()),
        Some(2),
        "only certificatePem and thingName: {body}"
    );

    // The page's table: both ACTIVE with an ATS endpoint of the target's region.
    let rows = result["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), CHOSEN.len(), "{}", explain());
    let all = targets();
    for target_id in CHOSEN {
        let target = all.iter().find(|t| t.id == target_id).unwrap();
        let row = rows
            .iter()
            .find(|r| r["target"] == target_id)
            .unwrap_or_else(|| panic!("no row for {target_id}\n{}", explain()));
        assert_eq!(row["status"], "ACTIVE", "{target_id}\n{}", explain());
        assert_eq!(row["arn"], target.certificate_arn(&id), "{}", explain());
        let endpoint = row["endpoint"].as_str().unwrap_or_default();
        assert!(
            endpoint.ends_with(&format!("-ats.iot.{}.amazonaws.com", target.region)),
            "endpoint {endpoint:?} for {target_id}\n{}",
            explain()
        );
    }

    // boto3's view: ACTIVE with the policy and the thing where chosen, absent elsewhere.
    let aws = moto_state::inspect(&moto.endpoint(), &all, &[&id]);
    for target in &all {
        let cert = aws.certificate(&target.id, &id);
        if CHOSEN.contains(&target.id.as_str()) {
            let cert = cert.unwrap_or_else(|| panic!("{id} not in {}\n{aws}", target.id));
            assert_eq!(cert.status, "ACTIVE", "{aws}");
            assert_eq!(cert.policies, [POLICY], "{aws}");
            assert_eq!(cert.things, [THING], "{aws}");
        } else {
            assert!(cert.is_none(), "{id} should not be in {}\n{aws}", target.id);
        }
    }

    // Nothing kept in the browser's storage.
    assert_eq!(
        result["storage"],
        json!({"localStorage": 0, "sessionStorage": 0, "indexedDB": [], "cookies": ""}),
        "{}",
        explain()
    );
    assert_eq!(result["emptyFormError"], "Enter a common name.");

    // Accessibility: no serious or critical axe-core violations.
    let serious = page::serious_violations(&result["axeViolations"]);
    assert!(
        serious.is_empty(),
        "axe-core: {}",
        serde_json::to_string_pretty(&serious).unwrap_or_default()
    );
    assert_eq!(result["japaneseHeading"], "1. デバイスの認証情報");

    // The page's security headers (CloudFront sets the same when deployed).
    let headers = &result["pageHeaders"];
    let csp = headers["content-security-policy"]
        .as_str()
        .unwrap_or_default();
    for directive in [
        "frame-ancestors 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {headers}");
    }
    assert_eq!(headers["x-frame-options"], "DENY", "{headers}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{headers}");

    check_device_kit(&result, artifacts, &id);
    check_pkcs12_and_qr(&result, artifacts, &id);
    check_rsa(&result, artifacts);
    check_imports_and_manage(&result, &moto, &requests);
    check_batch(&result, artifacts);
    // Local mode: no config.json (404), so the same origin and no sign-in.
    assert_eq!(result["configJson404"], true, "{}", explain());
    assert_eq!(
        result["consoleErrors"],
        json!([]),
        "the page logged errors\n{}",
        explain()
    );
}

fn openssl(args: &[&str]) -> String {
    let run = Cmd::openssl().args(args).run();
    run.assert_success();
    run.stdout_text()
}

fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}): `cargo xtask install` installs it")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The kit the page zipped, unzipped by unzip and checked by openssl.
fn check_device_kit(result: &Value, artifacts: &Path, id: &str) {
    assert_eq!(result["kitName"], format!("{THING}-device-kit.zip"));
    let zip = artifacts.join("device-kit.zip");
    tool("unzip", &["-t", path_str(&zip)]);
    let listing = tool("zipinfo", &[path_str(&zip)]);
    let key_line = listing
        .lines()
        .find(|l| l.ends_with(".private.key"))
        .unwrap_or_else(|| panic!("no key in the kit:\n{listing}"));
    assert!(key_line.starts_with("-rw-------"), "{key_line}");
    let out = artifacts.join("kit");
    let _ = std::fs::remove_dir_all(&out);
    tool("unzip", &["-q", path_str(&zip), "-d", path_str(&out)]);
    let kit = out.join(format!("{THING}-device-kit"));
    let cert = kit.join(format!("{THING}.cert.pem"));
    let key = kit.join(format!("{THING}.private.key"));
    assert_eq!(openssl_certificate_id(&cert), id, "the kit's certificate");
    assert_eq!(
        openssl(&["x509", "-noout", "-pubkey", "-in", path_str(&cert)]),
        openssl(&["pkey", "-pubout", "-in", path_str(&key)]),
        "the kit's key does not match its certificate"
    );
    let ca = openssl(&[
        "x509",
        "-noout",
        "-fingerprint",
        "-sha256",
        "-in",
        path_str(&kit.join("AmazonRootCA1.pem")),
    ]);
    assert!(ca.contains(AMAZON_ROOT_CA_1_SHA256), "{ca}");
    let readme = std::fs::read_to_string(kit.join("README.md")).unwrap();
    for row in result["rows"].as_array().unwrap() {
        let endpoint = row["endpoint"].as_str().unwrap();
        assert!(
            readme.contains(endpoint),
            "README lacks {endpoint}:\n{readme}"
        );
    }
    assert!(readme.contains("-servername"), "{readme}");
    assert!(readme.contains("mosquitto_sub"), "{readme}");
    assert!(readme.contains("SNI is required"), "{readme}");
}

/// The PKCS#12 opened by openssl with the password typed on the page; the
/// QR code read back by zbarimg from a screenshot.
fn check_pkcs12_and_qr(result: &Value, artifacts: &Path, id: &str) {
    assert_eq!(result["p12Name"], format!("{THING}.p12"));
    let p12 = artifacts.join("device.p12");
    let pass = format!("pass:{}", result["p12Password"].as_str().unwrap());
    let cert = artifacts.join("p12.cert.pem");
    let key = artifacts.join("p12.key.pem");
    openssl(&[
        "pkcs12",
        "-in",
        path_str(&p12),
        "-passin",
        &pass,
        "-nokeys",
        "-out",
        path_str(&cert),
    ]);
    openssl(&[
        "pkcs12",
        "-in",
        path_str(&p12),
        "-passin",
        &pass,
        "-nocerts",
        "-noenc",
        "-out",
        path_str(&key),
    ]);
    assert_eq!(
        openssl_certificate_id(&cert),
        id,
        "the PKCS#12's certificate"
    );
    assert_eq!(
        openssl(&["x509", "-noout", "-pubkey", "-in", path_str(&cert)]),
        openssl(&["pkey", "-pubout", "-in", path_str(&key)]),
    );
    let wrong = Cmd::openssl()
        .args(["pkcs12", "-noout", "-passin", "pass:wrong", "-in"])
        .arg(&p12)
        .run();
    assert_ne!(
        wrong.code(),
        Some(0),
        "the PKCS#12 opened with a wrong password"
    );
    let qr = tool(
        "zbarimg",
        &["--raw", "-q", path_str(&artifacts.join("qr.png"))],
    );
    assert_eq!(qr.trim(), id, "the QR code");
}

/// RSA-2048 made by WebCrypto and signed in the worker, checked by openssl.
fn check_rsa(result: &Value, artifacts: &Path) {
    let cert = artifacts.join("rsa.cert.pem");
    assert_eq!(
        openssl_certificate_id(&cert),
        result["rsaId"].as_str().unwrap()
    );
    let text = openssl(&["x509", "-noout", "-text", "-in", path_str(&cert)]);
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    eprintln!(
        "RSA-2048 click → ID: {} ms (WebCrypto key, signed in the worker)",
        result["rsaMs"]
    );
}

/// Each fixture form imported, then the imported certificate registered,
/// deactivated and deleted through the manage section; boto3 agrees.
fn check_imports_and_manage(result: &Value, moto: &Moto, requests: &[Value]) {
    let fixture_id = openssl_certificate_id(&fixtures_dir().join("p256.cert.pem"));
    let imports = &result["imports"];
    for form in ["cer", "legacy", "modern"] {
        assert_eq!(
            imports[form]["id"],
            fixture_id.as_str(),
            "{form}: {imports}"
        );
    }
    assert_eq!(imports["cer"]["keyDownload"], 0, "{imports}");
    assert!(
        imports["cer"]["keyCheck"]
            .as_str()
            .unwrap()
            .contains("Certificate only")
    );
    for form in ["legacy", "modern"] {
        assert_eq!(imports[form]["keyDownload"], 1, "{form}: {imports}");
        assert_eq!(
            imports[form]["keyCheck"], "The private key belongs to this certificate.",
            "{form}"
        );
    }
    let problem = imports["passwordProblem"].as_str().unwrap();
    assert!(
        problem.contains("p256.legacy.pw.p12") && problem.contains("password"),
        "{problem}"
    );

    for row in result["importedRows"].as_array().unwrap() {
        assert_eq!(row["status"], "ACTIVE", "{row}");
    }
    let manage = &result["manage"];
    for t in CHOSEN {
        assert_eq!(manage["lookedUp"][t], "ACTIVE", "{manage}");
        // Registered through the page by this caller: theirs to change.
        assert_eq!(manage["owner"][t], "yours", "{manage}");
        assert_eq!(manage["afterDelete"][t], "not registered", "{manage}");
    }
    assert_eq!(manage["afterDeactivate"][CHOSEN[0]], "INACTIVE", "{manage}");
    assert_eq!(manage["afterDeactivate"][CHOSEN[1]], "ACTIVE", "{manage}");
    let names = |ids: &[&str]| -> Vec<&str> {
        TARGETS
            .iter()
            .filter(|t| ids.contains(&t.0))
            .map(|t| t.3)
            .collect()
    };
    let deactivate = manage["deactivateConfirm"].as_str().unwrap();
    for name in names(&CHOSEN[..1]) {
        assert!(deactivate.contains(name), "{deactivate}");
    }
    let delete = manage["deleteConfirm"].as_str().unwrap();
    for name in names(&CHOSEN) {
        assert!(delete.contains(name), "{delete}");
    }
    // What the page did, as boto3 sees it: gone everywhere.
    let aws = moto_state::inspect(&moto.endpoint(), &targets(), &[&fixture_id]);
    for target in targets() {
        assert!(
            aws.certificate(&target.id, &fixture_id).is_none(),
            "{fixture_id} still in {}\n{aws}",
            target.id
        );
    }
    // The fixture's key never left the page either.
    let key_pem = openssl(&[
        "pkey",
        "-inform",
        "DER",
        "-in",
        path_str(&fixtures_dir().join("p256.key.der")),
    ]);
    for request in requests {
        let text = format!("{} {}", request["url"], request["body"]);
        for line in pem_body_lines(&key_pem) {
            assert!(
                !text.contains(&line),
                "the imported key was sent: {request}"
            );
        }
    }
}

/// The batch zip: every credential there, openssl-checked samples, and
/// the figures for the closing note.
fn check_batch(result: &Value, artifacts: &Path) {
    assert_eq!(result["batchCount"], BATCH, "{}", result["batchCount"]);
    assert_eq!(result["batchTyped"], "typed during the batch");
    assert_eq!(result["batchCancelled"], true);
    let zip = artifacts.join("batch.zip");
    tool("unzip", &["-tq", path_str(&zip)]);
    let names = tool("zipinfo", &["-1", path_str(&zip)]);
    let certs = names.lines().filter(|l| l.contains("/certs/")).count();
    let keys = names.lines().filter(|l| l.contains("/keys/")).count();
    assert_eq!((certs, keys), (BATCH, BATCH));
    let out = artifacts.join("batch");
    let _ = std::fs::remove_dir_all(&out);
    tool("unzip", &["-q", path_str(&zip), "-d", path_str(&out)]);
    let root = out.join(format!("marshal-batch-{BATCH}"));
    let manifest = std::fs::read_to_string(root.join("manifest.csv")).unwrap();
    assert_eq!(manifest.lines().count(), BATCH + 1);
    for row in manifest.lines().skip(1).step_by(BATCH / 4) {
        let cols: Vec<&str> = row.split(',').collect();
        let cert = root.join(cols[2]);
        assert_eq!(openssl_certificate_id(&cert), cols[1], "{row}");
        assert_eq!(
            openssl(&["x509", "-noout", "-pubkey", "-in", path_str(&cert)]),
            openssl(&["pkey", "-pubout", "-in", path_str(&root.join(cols[3]))]),
            "{row}"
        );
    }
    eprintln!(
        "batch of {BATCH} P-256: click → zip ready {:.0} ms (worker {:.0} ms); \
         longest stall of the page meanwhile {:.1} ms",
        result["batchClickToDoneMs"].as_f64().unwrap_or(f64::NAN),
        result["batchWorkerMs"].as_f64().unwrap_or(f64::NAN),
        result["batchMaxGapMs"].as_f64().unwrap_or(f64::NAN),
    );
}
