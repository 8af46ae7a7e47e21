//! QR codes, decoded by zbarimg and parsed by Python's ElementTree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use super::*;
use crate::test_support::{TempDir, run};

const CERT_IDS: [&str; 3] = [
    "3c1f0e5a9b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// A binary PGM of `rows` with the quiet zone, `scale` pixels a module.
fn pgm(rows: &[Vec<bool>], scale: usize) -> Vec<u8> {
    let side = (rows.len() + 2 * QUIET_ZONE) * scale;
    let mut image = format!("P5\n{side} {side}\n255\n").into_bytes();
    for py in 0..side {
        for px in 0..side {
            let (x, y) = (px / scale, py / scale);
            let dark = (QUIET_ZONE..QUIET_ZONE + rows.len()).contains(&x)
                && (QUIET_ZONE..QUIET_ZONE + rows.len()).contains(&y)
                && rows[y - QUIET_ZONE][x - QUIET_ZONE];
            image.push(if dark { 0 } else { 255 });
        }
    }
    image
}

fn zbar(path: &Path) -> String {
    run("zbarimg", &["--raw", "-q", path.to_str().unwrap()])
        .trim_end_matches('\n')
        .to_owned()
}

/// The dark modules the SVG's path draws, parsed back from its
/// `M x y h n v1 h-n z` runs, without the quiet zone.
fn modules_drawn(svg: &str, size: usize) -> Vec<Vec<bool>> {
    let start = svg.find(r#" d=""#).unwrap() + 4;
    let d = &svg[start..start + svg[start..].find('"').unwrap()];
    let mut rows = vec![vec![false; size]; size];
    for run in d.split('M').skip(1) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (n, tail) = rest.split_once('v').unwrap();
        let n: usize = n.parse().unwrap();
        assert_eq!(tail, format!("1h-{n}z"), "run {run:?}");
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        for x in x..x + n {
            let cell = &mut rows[y - QUIET_ZONE][x - QUIET_ZONE];
            assert!(!*cell, "module ({x}, {y}) drawn twice");
            *cell = true;
        }
    }
    rows
}

// zbar's ImageMagick here has no SVG renderer, so the SVG's path is
// rasterised by `modules_drawn` and handed over as a PGM.
#[test]
fn zbar_reads_back_certificate_ids_from_the_svg() {
    let dir = TempDir::new("zbar");
    for id in CERT_IDS {
        let size = matrix(id).unwrap().len();
        let drawn = modules_drawn(&svg(id, "label").unwrap(), size);
        let path = dir.write("code.pgm", &pgm(&drawn, 4));
        assert_eq!(zbar(&path), id, "{size} modules a side");
    }
}

#[test]
fn the_path_draws_exactly_the_dark_modules() {
    for id in CERT_IDS {
        let rows = matrix(id).unwrap();
        let svg = svg(id, "label").unwrap();
        assert_eq!(modules_drawn(&svg, rows.len()), rows, "{svg}");
        assert_eq!(svg.matches("<path").count(), 1, "{svg}");
    }
}

#[test]
fn svg_is_well_formed_xml_with_an_escaped_title() {
    const SCRIPT: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
ns = "{http://www.w3.org/2000/svg}"
print(json.dumps({
    "tag": root.tag,
    "attrib": root.attrib,
    "children": [c.tag.replace(ns, "") for c in root],
    "title": root.find(ns + "title").text,
    "rect": root.find(ns + "rect").attrib,
}))
"#;
    let title = "Sensor <01> & \"door\" 'A' \u{1}ドア";
    let id = CERT_IDS[0];
    let svg = svg(id, title).unwrap();
    let output = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(svg.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python could not parse the SVG\n--- svg\n{svg}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let side = matrix(id).unwrap().len() + 2 * QUIET_ZONE;
    let want = serde_json::json!({
        "tag": "{http://www.w3.org/2000/svg}svg",
        "attrib": {
            "viewBox": format!("0 0 {side} {side}"),
            "role": "img",
            "shape-rendering": "crispEdges",
        },
        "children": ["title", "rect", "path"],
        // The control character is dropped: XML 1.0 cannot carry it.
        "title": "Sensor <01> & \"door\" 'A' ドア",
        "rect": {"width": side.to_string(), "height": side.to_string(), "fill": "#fff"},
    });
    assert_eq!(view, want, "{svg}");
}

#[test]
fn text_too_long_for_any_qr_code_is_refused() {
    let text = "x".repeat(3_000);
    assert_eq!(matrix(&text), Err(QrError::TooLong { bytes: 3_000 }));
    let err = svg(&text, "t").unwrap_err();
    assert_eq!(
        err.to_string(),
        "3000 bytes of text do not fit in a QR code"
    );
}
