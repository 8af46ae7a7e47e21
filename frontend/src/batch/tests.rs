//! Name lists, and the batch zip read back by unzip and openssl.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::{TempDir, openssl_certificate_id, run};

fn settings() -> GenerateJob {
    GenerateJob {
        id: 1,
        key_type: "ec-p256".to_owned(),
        common_name: String::new(),
        organization: Some("ACME".to_owned()),
        organizational_unit: None,
        country: None,
        validity_days: 365,
        now_unix_ms: 1_764_374_400_000.0,
    }
}

#[test]
fn names_come_from_lines_or_the_first_csv_column() {
    let names = parse_names(
        "thing_name,certificate\nsensor-01,x.pem\n\n# spare\n\"sensor-02\"\nline:3;a\n",
    )
    .unwrap();
    assert_eq!(names, ["sensor-01", "sensor-02", "line:3"]);
    assert_eq!(parse_names("a\r\nb\r\n").unwrap(), ["a", "b"]);
}

#[test]
fn bad_lists_are_refused_with_the_line() {
    let bad = parse_names("ok-1\nnot ok\n").unwrap_err();
    assert_eq!((bad.line, bad.reason), (Some(2), Text::BatchBadName));
    assert_eq!(bad.name.as_deref(), Some("not ok"));
    let long = format!("{}\n", "x".repeat(MAX_NAME_CHARS + 1));
    assert_eq!(parse_names(&long).unwrap_err().reason, Text::BatchBadName);
    let twice = parse_names("Pump-1\npump-1\n").unwrap_err();
    assert_eq!((twice.line, twice.reason), (Some(2), Text::BatchDuplicate));
    assert_eq!(
        parse_names(" \n# only a comment\n").unwrap_err().reason,
        Text::BatchNoNames
    );
    let many: String = (0..=MAX_BATCH).map(|i| format!("d-{i}\n")).collect();
    let too_many = parse_names(&many).unwrap_err();
    assert_eq!(
        (too_many.line, too_many.reason),
        (Some(MAX_BATCH + 1), Text::BatchTooMany)
    );
}

#[test]
fn the_zip_holds_matching_pairs_and_lists_them() {
    let job = settings();
    let names = ["pump-1", "pump-2", "valve-1"];
    let mut batch = BatchZip::new(names.len(), 1_764_374_400);
    let mut ids = Vec::new();
    for name in names {
        let (cert, key) = job.credentials(name, None).unwrap();
        ids.push(cert.id());
        batch.add(name, &cert, &key).unwrap();
    }
    assert_eq!(batch.len(), 3);
    let dir_name = batch.name().to_owned();
    let bytes = batch.finish().unwrap();

    let dir = TempDir::new("batch");
    let zip = dir.write("batch.zip", &bytes);
    let zip = zip.to_str().unwrap();
    run("unzip", &["-t", zip]);
    let listing = run("zipinfo", &[zip]);
    for line in listing.lines().filter(|l| l.contains("/keys/")) {
        assert!(line.starts_with("-rw-------"), "{line}");
    }
    let out = dir.0.join("out");
    run("unzip", &["-q", zip, "-d", out.to_str().unwrap()]);
    let root = out.join(&dir_name);
    let manifest = std::fs::read_to_string(root.join("manifest.csv")).unwrap();
    let rows: Vec<&str> = manifest.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    for (row, id) in rows.iter().zip(&ids) {
        let cols: Vec<&str> = row.split(',').collect();
        assert_eq!(cols[1], id);
        let cert = root.join(cols[2]).to_str().unwrap().to_owned();
        let key = root.join(cols[3]).to_str().unwrap().to_owned();
        assert_eq!(openssl_certificate_id(&cert), *id);
        let subject = run(
            "openssl",
            &[
                "x509", "-in", &cert, "-noout", "-subject", "-nameopt", "RFC2253",
            ],
        );
        assert!(subject.contains(&format!("CN={}", cols[0])), "{subject}");
        assert!(subject.contains("O=ACME"), "{subject}");
        assert_eq!(
            run("openssl", &["pkey", "-in", &key, "-pubout"]),
            run("openssl", &["x509", "-in", &cert, "-noout", "-pubkey"])
        );
    }
    let for_cli = std::fs::read_to_string(root.join("certificates.csv")).unwrap();
    assert_eq!(for_cli.lines().next(), Some("pump-1,certs/pump-1.cert.pem"));
    assert!(root.join("AmazonRootCA1.pem").is_file());
    assert!(
        std::fs::read_to_string(root.join("README.md"))
            .unwrap()
            .contains("marshal register --batch certificates.csv")
    );
}

#[test]
fn duration_and_size_read_like_the_float_formatting_they_replace() {
    for (ms, bytes, want) in [
        (845.4, 2_345_678, "0.85 s (2.3 MB)"),
        (12_345.0, 49_999, "12.35 s (0.0 MB)"),
        (0.0, 0, "0.00 s (0.0 MB)"),
        (-3.0, 150_000, "0.00 s (0.2 MB)"),
        (f64::NAN, 1_000_000, "0.00 s (1.0 MB)"),
    ] {
        assert_eq!(duration_and_size(ms, bytes), want, "{ms} ms, {bytes} bytes");
    }
}
