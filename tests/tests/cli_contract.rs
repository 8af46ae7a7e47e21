//! The `marshal` command-line contract: exit codes (0 ok, 1 a check failed, 2 unreadable input or bad usage), `--json` on every command, no silent overwrites, no secret sent in the clear, least-privilege policies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use marshal_tests::{
    Cmd, FIXTURE_PASSWORD, Run, certificate_id, example, fixture_id, is_certificate_id, keygen,
    keygen_cmd, openssl_certificate_id, password_line,
};
use serde_json::Value;

// --- preflight ---------------------------------------------------------------

/// What AWS IoT refuses outright: preflight must exit 1 with an error finding.
const REFUSED: [&str; 4] = [
    "rsa1024.cert.pem",
    "ed25519.cert.pem",
    "secp256k1.cert.pem",
    "md5-rsa2048.cert.pem",
];

/// What deserves at least a warning; whether it is an error is preflight's call.
const QUESTIONABLE: [&str; 4] = [
    "sha1-rsa2048.cert.pem",
    "expired.cert.pem",
    "not-yet-valid.cert.pem",
    "ca.cert.pem",
];

/// Certificates AWS IoT takes as they are.
const ACCEPTED: [&str; 5] = [
    "p256.cert.pem",
    "p256.cer",
    "p384.cert.pem",
    "p521.cert.pem",
    "rsa2048.cert.pem",
];

/// One file's verdict, after checking the report's shape.
#[derive(Debug)]
struct Verdict {
    accepted: bool,
    errors: Vec<String>,
    warnings: Vec<String>,
}

/// `marshal preflight FILES... --json`, checked against the contract:
/// one entry per file, well-formed findings, `accepted` consistent with
/// them, exit 1 exactly when a file is not accepted.
fn preflight(files: &[PathBuf]) -> (Run, Vec<Verdict>) {
    let run = Cmd::marshal()
        .arg("preflight")
        .args(files)
        .arg("--json")
        .run();
    run.assert_no_private_key();
    if !matches!(run.code(), Some(0 | 1)) {
        run.fail("preflight of readable certificates must exit 0 or 1");
    }
    let report = run.json();
    let Some(entries) = report["files"].as_array() else {
        run.fail("no `files` array in the report")
    };
    if entries.len() != files.len() {
        run.fail(format_args!(
            "{} files in, {} in the report",
            files.len(),
            entries.len()
        ));
    }
    let mut verdicts = Vec::new();
    for (entry, file) in entries.iter().zip(files) {
        let name = file.file_name().unwrap().to_string_lossy();
        if !entry["path"].as_str().is_some_and(|p| p.ends_with(&*name)) {
            run.fail(format_args!("entry {entry} should have path …{name}"));
        }
        let Some(findings) = entry["findings"].as_array() else {
            run.fail(format_args!("entry {entry} has no `findings` array"))
        };
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for finding in findings {
            let code = finding["code"].as_str().unwrap_or_default();
            let snake = !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !snake {
                run.fail(format_args!("finding {finding} has no snake_case `code`"));
            }
            if finding["message"].as_str().is_none_or(str::is_empty) {
                run.fail(format_args!("finding {finding} has no `message`"));
            }
            match finding["severity"].as_str() {
                Some("error") => errors.push(code.to_owned()),
                Some("warning") => warnings.push(code.to_owned()),
                _ => run.fail(format_args!(
                    "finding {finding}: severity must be \"error\" or \"warning\""
                )),
            }
        }
        let Some(accepted) = entry["accepted"].as_bool() else {
            run.fail(format_args!("entry {entry} has no boolean `accepted`"))
        };
        if accepted != errors.is_empty() {
            run.fail(format_args!(
                "entry {entry}: `accepted` must be true exactly when there is no error finding"
            ));
        }
        verdicts.push(Verdict {
            accepted,
            errors,
            warnings,
        });
    }
    // Batch-level findings (duplicates) refuse the batch even when every file passes.
    let batch_ok = report["batchFindings"].as_array().is_none_or(Vec::is_empty);
    let want_exit = if verdicts.iter().all(|v| v.accepted) && batch_ok {
        0
    } else {
        1
    };
    run.assert_exit(want_exit);
    (run, verdicts)
}

#[test]
fn preflight_refuses_rsa1024_with_exit_1() {
    let file = example("rsa1024.cert.pem");
    Cmd::marshal()
        .arg("preflight")
        .arg(&file)
        .run()
        .assert_exit(1);
    let (run, verdicts) = preflight(&[file]);
    if verdicts[0].accepted || verdicts[0].errors.is_empty() {
        run.fail("a 1024-bit RSA key must be an error");
    }
}

#[test]
fn preflight_refuses_what_aws_iot_refuses() {
    for file in REFUSED {
        let (run, verdicts) = preflight(&[example(file)]);
        if verdicts[0].accepted {
            run.fail(format_args!("{file} must not be accepted"));
        }
    }
}

#[test]
fn preflight_flags_questionable_certificates() {
    for file in QUESTIONABLE {
        let (run, verdicts) = preflight(&[example(file)]);
        if verdicts[0].errors.is_empty() && verdicts[0].warnings.is_empty() {
            run.fail(format_args!("{file} deserves at least a warning"));
        }
    }
}

#[test]
fn preflight_accepts_good_certificates() {
    for file in ACCEPTED {
        let (run, verdicts) = preflight(&[example(file)]);
        if !verdicts[0].accepted {
            run.fail(format_args!("{file} is fine for AWS IoT"));
        }
    }
}

#[test]
fn preflight_accepts_what_keygen_makes() {
    let dir = tempfile::tempdir().unwrap();
    let made = keygen("ec-p256", 365, dir.path());
    let (run, verdicts) = preflight(std::slice::from_ref(&made.cert));
    if !verdicts[0].accepted {
        run.fail(format_args!(
            "keygen's own certificate is refused\n\n{}",
            made.run
        ));
    }
}

/// One bad file in a batch never hides the verdict on the others.
#[test]
fn preflight_reports_every_file_of_a_batch() {
    let files = [
        example("p256.cert.pem"),
        example("rsa1024.cert.pem"),
        example("p384.cert.pem"),
    ];
    let (run, verdicts) = preflight(&files);
    run.assert_exit(1);
    let accepted: Vec<bool> = verdicts.iter().map(|v| v.accepted).collect();
    if accepted != [true, false, true] {
        run.fail(format_args!(
            "expected accepted [true, false, true], got {accepted:?}"
        ));
    }
}

/// The same certificate twice (PEM and DER) in one batch is an error of the
/// batch as a whole: each file passes alone, the batch is refused (exit 1).
#[test]
fn preflight_flags_duplicates_in_a_batch() {
    let (run, verdicts) = preflight(&[example("p256.cert.pem"), example("p256.cer")]);
    run.assert_exit(1);
    if !verdicts.iter().all(|v| v.accepted) {
        run.fail("each file alone is acceptable");
    }
    let report = run.json();
    let codes: Vec<&str> = report["batchFindings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str()).collect())
        .unwrap_or_default();
    if codes != ["duplicate_in_batch"] {
        run.fail(format_args!(
            "expected one duplicate_in_batch finding, got {codes:?}"
        ));
    }
}

// --- exit 2: unreadable input and bad usage ----------------------------------

#[test]
fn unreadable_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, b"this is not a certificate\n\x00\xff\x10").unwrap();
    let empty = dir.path().join("empty.cer");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("truncated.cer");
    let der = std::fs::read(example("p256.cert.der")).unwrap();
    std::fs::write(&truncated, &der[..der.len() / 2]).unwrap();
    let missing = dir.path().join("missing.pem");
    let out = dir.path().join("out.cert.pem");

    for input in [&garbage, &empty, &truncated, &missing] {
        for command in [
            Cmd::marshal().arg("fingerprint").arg(input),
            Cmd::marshal().arg("inspect").arg(input),
            Cmd::marshal().arg("preflight").arg(input),
            Cmd::marshal()
                .arg("convert")
                .arg(input)
                .arg("--out-cert")
                .arg(&out),
        ] {
            for command in [command.clone(), command.arg("--json")] {
                let run = command.run();
                run.assert_exit(2).assert_no_private_key();
                if run.stderr.is_empty() {
                    run.fail("an error must be explained on stderr");
                }
                if out.exists() {
                    run.fail("convert wrote output from unreadable input");
                }
            }
        }
    }
}

#[test]
fn bad_usage_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for args in [
        vec!["frobnicate"],
        vec!["keygen", "--out", out],
        vec!["keygen", "--key", "ed448", "--cn", "x", "--out", out],
        vec!["keygen", "--cn", "x", "--days", "many", "--out", out],
        vec!["fingerprint"],
        vec!["policy", "--prefix"],
        vec!["preflight"],
    ] {
        Cmd::marshal().args(&args).run().assert_exit(2);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "bad usage wrote files: {left:?}");
}

// --- --json on every command -------------------------------------------------

fn string_field<'a>(run: &Run, json: &'a Value, field: &str) -> &'a str {
    json[field]
        .as_str()
        .unwrap_or_else(|| run.fail(format_args!("no string `{field}` in {json}")))
}

#[test]
fn keygen_json() {
    let dir = tempfile::tempdir().unwrap();
    let run = Cmd::marshal()
        .args([
            "keygen",
            "--key",
            "ec-p384",
            "--cn",
            "json-device",
            "--days",
            "30",
        ])
        .arg("--out")
        .arg(dir.path())
        .arg("--json")
        .run();
    run.assert_success().assert_no_private_key();
    let json = run.json();
    let id = string_field(&run, &json, "certificateId");
    let cert = Path::new(string_field(&run, &json, "certificatePath"));
    let key = Path::new(string_field(&run, &json, "privateKeyPath"));
    if string_field(&run, &json, "keyType") != "ec-p384" {
        run.fail("keyType should be ec-p384");
    }
    if cert != dir.path().join("json-device.cert.pem") || !cert.is_file() {
        run.fail("certificatePath should be OUT/json-device.cert.pem, written");
    }
    if key != dir.path().join("json-device.private.key") || !key.is_file() {
        run.fail("privateKeyPath should be OUT/json-device.private.key, written");
    }
    let openssl_id = openssl_certificate_id(cert);
    if !is_certificate_id(id) || id != openssl_id {
        run.fail(format_args!(
            "certificateId should be openssl's {openssl_id}"
        ));
    }
}

/// ECDSA P-256 is the default key type (the brief's default).
#[test]
fn keygen_defaults_to_ec_p256() {
    let dir = tempfile::tempdir().unwrap();
    let run = Cmd::marshal()
        .args(["keygen", "--cn", "default-device", "--json", "--out"])
        .arg(dir.path())
        .run();
    run.assert_success();
    if string_field(&run, &run.json(), "keyType") != "ec-p256" {
        run.fail("the default key type should be ec-p256");
    }
}

#[test]
fn fingerprint_json_matches_openssl() {
    let file = example("p256.cert.pem");
    let sha1 = Cmd::openssl()
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&file)
        .run();
    sha1.assert_success();
    let sha256 = Cmd::openssl()
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&file)
        .run();
    sha256.assert_success();
    let colon = sha256
        .stdout_text()
        .rsplit_once('=')
        .map(|(_, v)| v.trim().to_owned())
        .unwrap();

    let inputs = [
        (example("p256.cert.pem"), None),
        (example("p256.cer"), None),
        (example("p256.modern.pw.p12"), Some(FIXTURE_PASSWORD)),
    ];
    for (input, password) in inputs {
        let mut cmd = Cmd::marshal().arg("fingerprint").arg(input).arg("--json");
        if let Some(password) = password {
            cmd = cmd.arg("--password-stdin").stdin(password_line(password));
        }
        let run = cmd.run();
        run.assert_success().assert_no_private_key();
        let json = run.json();
        let want = [
            ("sha256", fixture_id("p256.cert.pem")),
            ("sha1", certificate_id(&sha1.stdout_text())),
            ("sha256Colon", colon.clone()),
        ];
        for (field, want) in want {
            if string_field(&run, &json, field) != want {
                run.fail(format_args!("`{field}` should be {want} (openssl)"));
            }
        }
    }
}

#[test]
fn inspect_json_parses() {
    let inputs = [
        (example("p256.cert.pem"), None),
        (example("p256.cer"), None),
        (example("rsa2048.cert.pem"), None),
        (example("bundle.crlf.pem"), None),
        (example("p256.legacy.p12"), None),
        (example("p256.modern.pw.p12"), Some(FIXTURE_PASSWORD)),
    ];
    for (input, password) in inputs {
        let mut cmd = Cmd::marshal().arg("inspect").arg(input);
        if let Some(password) = password {
            cmd = cmd.arg("--password-stdin").stdin(password_line(password));
        }
        cmd.clone().run().assert_success().assert_no_private_key();
        let run = cmd.arg("--json").run();
        run.assert_success().assert_no_private_key();
        if !run.json().is_object() {
            run.fail("inspect --json should print a JSON object");
        }
    }
}

#[test]
fn convert_json_parses() {
    let dir = tempfile::tempdir().unwrap();
    let run = Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cer"))
        .arg("--out-cert")
        .arg(dir.path().join("out.cert.pem"))
        .arg("--json")
        .run();
    run.assert_success();
    if !run.json().is_object() {
        run.fail("convert --json should print a JSON object");
    }
}

// --- no silent overwrite -----------------------------------------------------

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let first = keygen("ec-p256", 30, dir.path());
    let cert_before = std::fs::read(&first.cert).unwrap();
    let key_before = std::fs::read(&first.key).unwrap();

    let again = keygen_cmd("ec-p256", 30, dir.path()).run();
    again.assert_exit(2).assert_no_private_key();
    if std::fs::read(&first.cert).unwrap() != cert_before
        || std::fs::read(&first.key).unwrap() != key_before
    {
        again.fail("keygen without --force changed existing files");
    }

    let forced = keygen_cmd("ec-p256", 30, dir.path()).arg("--force").run();
    forced.assert_success().assert_no_private_key();
    if std::fs::read(&first.key).unwrap() == key_before {
        forced.fail("keygen --force did not replace the key");
    }
    let id = forced.stdout_field("certificate ID:");
    if id != openssl_certificate_id(&first.cert) {
        forced.fail("the ID printed is not the new certificate's");
    }
}

#[test]
fn keygen_makes_a_missing_output_directory_private_and_refuses_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("creds").join("line-1");
    let made = keygen("ec-p256", 30, &out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        if mode != 0o700 {
            made.run.fail(format_args!(
                "{} has mode {mode:o}, expected 700",
                out.display()
            ));
        }
    }

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let run = keygen_cmd("ec-p256", 30, &file).run();
    run.assert_exit(2);
    if !run.stderr_text().contains("is not a directory") {
        run.fail("keygen --out FILE should say it is not a directory");
    }
}

#[test]
fn convert_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.cert.pem");
    std::fs::write(&out, b"keep me").unwrap();
    let cmd = Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cer"))
        .arg("--out-cert")
        .arg(&out);
    let run = cmd.run();
    run.assert_exit(2);
    if std::fs::read(&out).unwrap() != b"keep me" {
        run.fail("convert without --force changed an existing file");
    }
    cmd.arg("--force").run().assert_success();
    assert_eq!(openssl_certificate_id(&out), fixture_id("p256.cert.pem"));
}

// --- no secret in the clear ---------------------------------------------------

/// `marshal targets --json --api API`, with MARSHAL_TOKEN set to `token`
/// (empty: no token).
fn targets(api: &str, token: &str) -> Cmd {
    Cmd::marshal().env("MARSHAL_TOKEN", token).args([
        "targets",
        "--json",
        "--api-timeout",
        "1",
        "--api",
        api,
    ])
}

#[track_caller]
fn assert_error_code(run: &Run, exit: i32, code: &str) {
    run.assert_exit(exit);
    if run.json()["error"]["code"] != code {
        run.fail(format_args!("expected the error code {code:?}"));
    }
}

/// Finding L5: a bearer token never goes over plain http to another host,
/// and the refusal comes before any connection.
#[test]
fn a_token_is_never_sent_over_plain_http_to_another_host() {
    let refused = targets("http://example.invalid", "x").run();
    assert_error_code(&refused, 2, "insecure_api_url");
    for advice in ["https://", "127.0.0.1"] {
        if !refused.stderr_text().contains(advice) {
            refused.fail(format_args!("the message should suggest {advice}"));
        }
    }

    // 0.0.0.0 is not loopback by name, yet a connection to it reaches this
    // machine's 127.0.0.1, so this listener sees any attempt.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let api = format!("http://0.0.0.0:{}", listener.local_addr().unwrap().port());
    let refused = targets(&api, "x").run();
    assert_error_code(&refused, 2, "insecure_api_url");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => refused.fail(format_args!(
            "marshal connected to {api} before refusing: {other:?}"
        )),
    }
    // Without a token the same URL is tried, and the listener sees it: the
    // check above can tell.
    let tried = targets(&api, "").run();
    tried.assert_exit(1);
    if listener.accept().is_err() {
        tried.fail(format_args!(
            "no connection reached the listener behind {api}, so this test cannot \
             tell whether marshal connects"
        ));
    }
    // Loopback stays usable with a token, for `cargo xtask dev`.
    let local = targets(&api.replace("0.0.0.0", "127.0.0.1"), "x").run();
    assert_error_code(&local, 1, "api_unreachable");
    if listener.accept().is_err() {
        local.fail("marshal did not try the loopback API with a token");
    }
}

/// `marshal convert p256.cert.pem --key p256.key.pem --out-p12 OUT --json`.
fn convert_to_p12(out: &Path) -> Cmd {
    Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cert.pem"))
        .arg("--key")
        .arg(example("p256.key.pem"))
        .arg("--out-p12")
        .arg(out)
        .arg("--json")
}

/// Finding L7: a PKCS#12 with the empty password (its key readable by
/// anyone) is written only when asked for by name.
#[test]
fn an_empty_password_pkcs12_needs_empty_password() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("out.p12");
    for cmd in [
        convert_to_p12(&p12),
        convert_to_p12(&p12)
            .arg("--password-stdin")
            .stdin(password_line("")),
    ] {
        let run = cmd.run();
        assert_error_code(&run, 2, "p12_password_required");
        run.assert_no_private_key();
        if !run.stderr_text().contains("--empty-password") {
            run.fail("the message should name --empty-password");
        }
        if p12.exists() {
            run.fail("a refused convert wrote the PKCS#12");
        }
    }
    // Bad usage: a password and --empty-password, or --empty-password
    // without a PKCS#12 to write.
    let both = convert_to_p12(&p12)
        .args(["--password-stdin", "--empty-password"])
        .stdin(password_line("pw"))
        .run();
    both.assert_exit(2);
    let out_cert = dir.path().join("out.cert.pem");
    let no_p12 = Cmd::marshal()
        .arg("convert")
        .arg(example("p256.cert.pem"))
        .arg("--out-cert")
        .arg(&out_cert)
        .arg("--empty-password")
        .run();
    no_p12.assert_exit(2);
    if p12.exists() || out_cert.exists() {
        no_p12.fail("bad usage wrote files");
    }

    let run = convert_to_p12(&p12).arg("--empty-password").run();
    run.assert_success().assert_no_private_key();
    // openssl, not marshal, confirms what the flag promised: the key comes
    // out with the empty password.
    let opened = Cmd::openssl()
        .args([
            "pkcs12", "-legacy", "-nocerts", "-nodes", "-passin", "pass:", "-in",
        ])
        .arg(&p12)
        .run();
    if !opened.status.success() || !opened.stdout_text().contains("PRIVATE KEY") {
        run.fail(format_args!(
            "openssl cannot open the --empty-password PKCS#12 with the empty password:\n{opened}"
        ));
    }
}

// --- policy --------------------------------------------------------------------

/// Every value under an `Action` or `Resource` key, looking inside strings
/// that hold JSON (a policy document is often carried as a string).
fn collect_policy_values(value: &Value, actions: &mut Vec<String>, resources: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let sink = match key.as_str() {
                    "Action" | "NotAction" => Some(&mut *actions),
                    "Resource" | "NotResource" => Some(&mut *resources),
                    _ => None,
                };
                if let Some(sink) = sink {
                    match value {
                        Value::String(s) => sink.push(s.clone()),
                        Value::Array(items) => sink.extend(
                            items
                                .iter()
                                .map(|i| i.as_str().unwrap_or("<not a string>").to_owned()),
                        ),
                        other => sink.push(other.to_string()),
                    }
                }
                collect_policy_values(value, actions, resources);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_policy_values(item, actions, resources);
            }
        }
        Value::String(s) if s.trim_start().starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                collect_policy_values(&inner, actions, resources);
            }
        }
        _ => {}
    }
}

#[test]
fn policy_is_least_privilege() {
    for json in [false, true] {
        let mut cmd = Cmd::marshal().args(["policy", "--prefix", "factory"]);
        if json {
            cmd = cmd.arg("--json");
        }
        let run = cmd.run();
        run.assert_success();
        let document = run.json();
        let (mut actions, mut resources) = (Vec::new(), Vec::new());
        collect_policy_values(&document, &mut actions, &mut resources);
        if actions.is_empty() || resources.is_empty() {
            run.fail("no Action or Resource found: is this an IoT policy document?");
        }
        if let Some(a) = actions.iter().find(|a| *a == "iot:*" || *a == "*") {
            run.fail(format_args!("wildcard action {a:?}"));
        }
        if resources.iter().any(|r| r == "*") {
            run.fail("wildcard resource \"*\"");
        }
        if run.stdout_text().contains("\"iot:*\"") {
            run.fail("the output contains \"iot:*\"");
        }
        if !run.stdout_text().contains("factory") {
            run.fail("the prefix `factory` is not used");
        }
    }
}
