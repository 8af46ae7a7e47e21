//! The zip writer, read back by unzip, zipinfo and Python's zipfile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;

use super::*;
use crate::test_support::{TempDir, run};

/// 2023-11-14 22:13:20 UTC.
const MODIFIED: i64 = 1_700_000_000;

/// What Python's zipfile reads from the archive at `path`.
fn python_view(path: &Path) -> Value {
    const SCRIPT: &str = r#"
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({
        "testzip": z.testzip(),
        "names": z.namelist(),
        "entries": [{
            "name": i.filename,
            "data": z.read(i).decode("latin-1"),
            "date_time": list(i.date_time),
            "mode": i.external_attr >> 16,
            "create_system": i.create_system,
            "utf8": bool(i.flag_bits & 0x800),
            "compress_type": i.compress_type,
        } for i in z.infolist()],
    }))
"#;
    let out = run("python3", &["-c", SCRIPT, path.to_str().unwrap()]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: python printed {out}"))
}

fn device_kit() -> Vec<(&'static str, &'static [u8], FileMode)> {
    vec![
        (
            "sensor-01/certificate.pem.crt",
            b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            FileMode::Public,
        ),
        (
            "sensor-01/private.pem.key",
            b"key bytes: stands in for a device key, mode 0600\n",
            FileMode::Private,
        ),
        (
            "sensor-01/AmazonRootCA1.pem",
            b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
            FileMode::Public,
        ),
        (
            "sensor-01/README.txt",
            "Marshal — device kit\n".as_bytes(),
            FileMode::Public,
        ),
        ("sensor-01/センサー.txt", b"", FileMode::Public),
        (
            "sensor-01/sensor-01.p12",
            &[0x30, 0x82, 0x00, 0xff, 0x00],
            FileMode::Private,
        ),
    ]
}

fn archive(entries: &[(&str, &[u8], FileMode)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(MODIFIED);
    for (path, data, mode) in entries {
        zip.add(path, data, *mode).unwrap();
    }
    zip.finish().unwrap()
}

#[test]
fn device_kit_passes_unzip_test() {
    let dir = TempDir::new("unzip");
    let path = dir.write("kit.zip", &archive(&device_kit()));
    let out = run("unzip", &["-t", path.to_str().unwrap()]);
    assert!(out.contains("No errors detected"), "unzip -t said:\n{out}");
}

#[test]
fn zipinfo_shows_unix_permissions() {
    let dir = TempDir::new("zipinfo");
    let path = dir.write("kit.zip", &archive(&device_kit()));
    let out = run("zipinfo", &[path.to_str().unwrap()]);
    let line = |name: &str| {
        out.lines()
            .find(|l| l.ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in zipinfo output:\n{out}"))
            .to_owned()
    };
    for (name, perms) in [
        ("private.pem.key", "-rw-------"),
        ("sensor-01.p12", "-rw-------"),
        ("certificate.pem.crt", "-rw-r--r--"),
    ] {
        let line = line(name);
        assert!(
            line.starts_with(perms),
            "{name}: expected {perms}, zipinfo said:\n{line}"
        );
        assert!(line.contains(" unx "), "{name}: not made on Unix:\n{line}");
        assert!(line.contains(" stor "), "{name}: not stored:\n{line}");
    }
}

#[test]
fn python_zipfile_reads_names_contents_dates_and_modes() {
    let kit = device_kit();
    let dir = TempDir::new("python");
    let view = python_view(&dir.write("kit.zip", &archive(&kit)));
    assert_eq!(view["testzip"], Value::Null, "{view:#}");
    let names: Vec<&str> = kit.iter().map(|(p, _, _)| *p).collect();
    assert_eq!(view["names"], serde_json::json!(names), "{view:#}");
    for ((path, data, mode), entry) in kit.iter().zip(view["entries"].as_array().unwrap()) {
        let latin1: String = data.iter().map(|&b| char::from(b)).collect();
        assert_eq!(entry["data"], latin1.as_str(), "{path}: {entry:#}");
        assert_eq!(
            entry["date_time"],
            serde_json::json!([2023, 11, 14, 22, 13, 20]),
            "{path}"
        );
        assert_eq!(entry["mode"], mode.unix_mode(), "{path}: {entry:#}");
        assert_eq!(entry["create_system"], 3, "{path}: {entry:#}");
        assert_eq!(entry["utf8"], true, "{path}: {entry:#}");
        assert_eq!(entry["compress_type"], 0, "{path}: {entry:#}");
    }
}

#[test]
fn an_empty_archive_is_valid() {
    let zip = ZipWriter::new(MODIFIED);
    assert!(zip.is_empty());
    let dir = TempDir::new("empty");
    let view = python_view(&dir.write("empty.zip", &zip.finish().unwrap()));
    assert_eq!(view["names"], serde_json::json!([]), "{view:#}");
}

#[test]
fn dos_dates_are_utc_and_clamped() {
    // (unix seconds, (year, month, day, hour, minute, second))
    let cases = [
        (1_700_000_000, (2023, 11, 14, 22, 13, 20)),
        // Odd seconds round down: DOS keeps two-second steps.
        (1_764_374_401, (2025, 11, 29, 0, 0, 0)),
        (951_827_697, (2000, 2, 29, 12, 34, 56)),
        (315_532_800, (1980, 1, 1, 0, 0, 0)),
        (0, (1980, 1, 1, 0, 0, 0)),
        (-1, (1980, 1, 1, 0, 0, 0)),
        (i64::MIN, (1980, 1, 1, 0, 0, 0)),
        (4_354_819_199, (2107, 12, 31, 23, 59, 58)),
        (4_354_819_200, (2107, 12, 31, 23, 59, 58)),
        (i64::MAX, (2107, 12, 31, 23, 59, 58)),
    ];
    for (secs, (y, mo, d, h, mi, s)) in cases {
        let date = ((y - 1980) << 9) | (mo << 5) | d;
        let time = (h << 11) | (mi << 5) | (s / 2);
        assert_eq!(
            dos_date_time(secs),
            (date, time),
            "{secs}: want {y}-{mo}-{d} {h}:{mi}:{s}"
        );
    }
}

#[test]
fn bad_paths_are_refused_and_the_writer_stays_usable() {
    let owned = |p: &str| p.to_owned();
    let long = "a".repeat(65_536);
    let cases = [
        ("", ZipError::EmptyPath),
        (
            "/etc/passwd",
            ZipError::AbsolutePath {
                path: owned("/etc/passwd"),
            },
        ),
        (
            "C:/x.pem",
            ZipError::AbsolutePath {
                path: owned("C:/x.pem"),
            },
        ),
        (
            "../x.pem",
            ZipError::BadComponent {
                path: owned("../x.pem"),
            },
        ),
        (
            "a/../../x.pem",
            ZipError::BadComponent {
                path: owned("a/../../x.pem"),
            },
        ),
        (
            "a/..",
            ZipError::BadComponent {
                path: owned("a/.."),
            },
        ),
        (
            "./x.pem",
            ZipError::BadComponent {
                path: owned("./x.pem"),
            },
        ),
        (
            "a//x.pem",
            ZipError::BadComponent {
                path: owned("a//x.pem"),
            },
        ),
        (
            "folder/",
            ZipError::BadComponent {
                path: owned("folder/"),
            },
        ),
        (
            "a\\x.pem",
            ZipError::Backslash {
                path: owned("a\\x.pem"),
            },
        ),
        (
            "..\\x.pem",
            ZipError::Backslash {
                path: owned("..\\x.pem"),
            },
        ),
        (
            "x\0.pem",
            ZipError::ControlCharacter {
                path: owned("x\0.pem"),
            },
        ),
        (
            "x\n.pem",
            ZipError::ControlCharacter {
                path: owned("x\n.pem"),
            },
        ),
        (long.as_str(), ZipError::PathTooLong { path: long.clone() }),
    ];
    let mut zip = ZipWriter::new(MODIFIED);
    for (path, want) in cases {
        let got = zip.add(path, b"x", FileMode::Public);
        assert_eq!(
            got.as_ref(),
            Err(&want),
            "{:?}",
            &path[..path.len().min(20)]
        );
        assert!(!want.to_string().is_empty());
    }
    assert!(zip.is_empty());
    // Names that look odd but are fine.
    for path in ["..x", "a/.hidden", "thing:name/cert.pem", "x..y/z"] {
        zip.add(path, b"ok", FileMode::Public).unwrap();
    }
    let dir = TempDir::new("refusals");
    let view = python_view(&dir.write("ok.zip", &zip.finish().unwrap()));
    assert_eq!(
        view["names"],
        serde_json::json!(["..x", "a/.hidden", "thing:name/cert.pem", "x..y/z"]),
        "{view:#}"
    );
}

#[test]
fn duplicates_and_file_folder_clashes_are_refused() {
    let mut zip = ZipWriter::new(MODIFIED);
    zip.add("kit/cert.pem", b"1", FileMode::Public).unwrap();
    let cases = [
        (
            "kit/cert.pem",
            ZipError::DuplicatePath {
                path: "kit/cert.pem".to_owned(),
            },
        ),
        (
            "KIT/Cert.PEM",
            ZipError::DuplicatePath {
                path: "KIT/Cert.PEM".to_owned(),
            },
        ),
        (
            "kit",
            ZipError::FileFolderClash {
                path: "kit".to_owned(),
            },
        ),
        (
            "Kit",
            ZipError::FileFolderClash {
                path: "Kit".to_owned(),
            },
        ),
        (
            "kit/cert.pem/x",
            ZipError::FileFolderClash {
                path: "kit/cert.pem/x".to_owned(),
            },
        ),
    ];
    for (path, want) in cases {
        assert_eq!(zip.add(path, b"2", FileMode::Public), Err(want), "{path}");
    }
    zip.add("kit/key.pem", b"3", FileMode::Private).unwrap();
    assert_eq!(zip.len(), 2);
}

#[test]
fn entry_count_stops_below_the_zip64_marker() {
    let mut zip = ZipWriter::new(MODIFIED);
    for i in 0..MAX_ENTRIES {
        zip.add(&format!("{i:05}"), b"", FileMode::Public).unwrap();
    }
    assert_eq!(
        zip.add("one-more", b"", FileMode::Public),
        Err(ZipError::TooManyEntries)
    );
    let dir = TempDir::new("count");
    let view = python_view(&dir.write("full.zip", &zip.finish().unwrap()));
    assert_eq!(view["names"].as_array().unwrap().len(), MAX_ENTRIES);
    assert_eq!(view["names"][MAX_ENTRIES - 1], "65533");
}

#[test]
fn archives_stop_before_4_gib() {
    // Exactly fills the archive to MAX_OFFSET: 30 + 1 + data + 46 + 1 + 22.
    let data = MAX_OFFSET - 100;
    assert_eq!(fit(0, 0, 1, data), Ok((0, u32::try_from(data).unwrap(), 1)));
    assert_eq!(fit(0, 0, 1, data + 1), Err(ZipError::TooLarge));
    assert_eq!(fit(MAX_OFFSET - 99, 0, 1, 0), Err(ZipError::TooLarge));
    assert_eq!(fit(0, MAX_OFFSET, 1, 0), Err(ZipError::TooLarge));
    assert_eq!(fit(u64::from(u32::MAX), 0, 1, 0), Err(ZipError::TooLarge));
}

#[test]
fn a_batch_of_3000_entries_is_valid() {
    // Its speed is measured by the page's batch benchmark, not here.
    let cert = vec![b'c'; 1_400];
    let key = vec![b'k'; 250];
    let ca = vec![b'a'; 1_200];
    let mut zip = ZipWriter::new(MODIFIED);
    for i in 0..1_000 {
        zip.add(
            &format!("batch/device-{i:04}/certificate.pem.crt"),
            &cert,
            FileMode::Public,
        )
        .unwrap();
        zip.add(
            &format!("batch/device-{i:04}/private.pem.key"),
            &key,
            FileMode::Private,
        )
        .unwrap();
        zip.add(
            &format!("batch/device-{i:04}/AmazonRootCA1.pem"),
            &ca,
            FileMode::Public,
        )
        .unwrap();
    }
    let bytes = zip.finish().unwrap();

    let dir = TempDir::new("batch");
    let path = dir.write("batch.zip", &bytes);
    let out = run("unzip", &["-t", path.to_str().unwrap()]);
    assert!(out.contains("No errors detected"), "unzip -t said:\n{out}");
    let view = python_view(&path);
    assert_eq!(view["testzip"], Value::Null);
    let entries = view["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3_000);
    assert_eq!(entries[2_998]["name"], "batch/device-0999/private.pem.key");
    assert_eq!(entries[2_998]["mode"], 0o100_600);
    assert_eq!(entries[2_998]["data"], "k".repeat(250));
}

#[test]
fn crc32_matches_the_standard_check_values() {
    // The CRC-32 catalogue's check value, and the empty input.
    assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(super::crc32(b""), 0);
    assert_eq!(
        super::crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
}
