//! Each target's starting corpus, made from the fixtures in
//! `shared/tests/examples` (files made by openssl, see their README) before
//! every fuzz run and written to `$CARGO_TARGET_DIR/fuzz/seeds/<target>/`.
//! Derived, so not committed: the fixtures' keys stay in the one fixture
//! directory, and `fuzz/corpus/` holds only regression inputs.

use std::{fs, path::Path};

use anyhow::{Context, Result};

use crate::project::Project;

/// Fixture files that are not inputs.
const NOT_INPUTS: &[&str] = &[
    "README.md",
    "make-fixtures.sh",
    "to-ber.py",
    "openssl-fingerprints.txt",
];

/// Writes the seeds of every target under `seeds/<target>/`.
pub(crate) fn seed(project: &Project, seeds: &Path) -> Result<()> {
    let examples = project.root.join("shared/tests/examples");
    let mut fixtures = Vec::new();
    for entry in
        fs::read_dir(&examples).with_context(|| format!("could not read {}", examples.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        if let Some(name) = name.filter(|n| path.is_file() && !NOT_INPUTS.contains(&n.as_str())) {
            let bytes =
                fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
            fixtures.push((name, bytes));
        }
    }
    fixtures.sort();

    let mut corpus = Corpus::default();
    for (name, bytes) in &fixtures {
        corpus.add("import", name, bytes);
        let is_der_certificate = name.ends_with(".cer") || name.ends_with(".cert.der");
        if is_der_certificate {
            corpus.add("certificate_der", name, bytes);
        }
        if name.ends_with(".key.der") {
            corpus.add("private_key", name, bytes);
            corpus.add(
                "key_material",
                &format!("{name}.b64"),
                base64(bytes).as_bytes(),
            );
            corpus.add(
                "key_material",
                &format!("{name}.hex"),
                hex(bytes).as_bytes(),
            );
        }
        if name.ends_with(".p12") || name.ends_with(".pfx") {
            corpus.add("pkcs12", name, bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let blocks = pem_blocks(text);
        if blocks.is_empty() {
            continue;
        }
        corpus.add("pem", name, bytes);
        let mut has_certificate = false;
        let mut has_key = false;
        for (index, (label, der)) in blocks.iter().enumerate() {
            let block = format!("{name}.{index}.der");
            if label.ends_with("CERTIFICATE") {
                has_certificate = true;
                corpus.add("certificate_der", &block, der);
            } else if label.ends_with("PRIVATE KEY") {
                has_key = true;
                corpus.add("private_key", &block, der);
                corpus.add(
                    "key_material",
                    &format!("{block}.b64"),
                    base64(der).as_bytes(),
                );
            }
        }
        if has_certificate {
            corpus.add("certificate_pem", name, bytes);
            corpus.add("key_material", name, bytes);
            corpus.add(
                "api_body",
                &format!("{name}.json"),
                registration(text).as_bytes(),
            );
        }
        if has_key {
            corpus.add("private_key", name, bytes);
            // Refused by the extractor: seeds the refusal's paths.
            corpus.add(
                "api_body",
                &format!("{name}.json"),
                registration(text).as_bytes(),
            );
        }
    }
    corpus.write(seeds)
}

/// Seed files by target, named after the fixture they come from.
#[derive(Debug, Default)]
struct Corpus {
    files: Vec<(&'static str, String, Vec<u8>)>,
}

impl Corpus {
    fn add(&mut self, target: &'static str, name: &str, bytes: &[u8]) {
        debug_assert!(super::TARGETS.contains(&target), "no fuzz target {target}");
        self.files
            .push((target, format!("seed-{name}"), bytes.to_vec()));
    }

    fn write(&self, corpus: &Path) -> Result<()> {
        for &target in super::TARGETS {
            let dir = corpus.join(target);
            fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                if path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("seed-"))
                {
                    fs::remove_file(&path)
                        .with_context(|| format!("could not remove {}", path.display()))?;
                }
            }
            let files: Vec<_> = self.files.iter().filter(|(t, _, _)| *t == target).collect();
            let bytes: usize = files.iter().map(|(_, _, b)| b.len()).sum();
            for (_, name, contents) in &files {
                let path = dir.join(name);
                fs::write(&path, contents)
                    .with_context(|| format!("could not write {}", path.display()))?;
            }
            println!("seeds    {target}: {} files, {bytes} bytes", files.len());
        }
        Ok(())
    }
}

/// The API's registration body carrying `pem` as its certificate.
fn registration(pem: &str) -> String {
    let mut escaped = String::new();
    for c in pem.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            c => escaped.push(c),
        }
    }
    format!(
        r#"{{"certificates":[{{"certificatePem":"{escaped}","thingName":"sensor-1"}}],"targets":["prod-eu"],"policy":"device-telemetry","activate":true}}"#
    )
}

/// Every `-----BEGIN X-----` block's label and decoded contents (blocks
/// whose base64 does not decode are skipped: the fixtures have none).
fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let body: String = lines
            .by_ref()
            .take_while(|l| *l != end)
            .filter(|l| !l.contains(':'))
            .collect();
        if let Some(der) = unbase64(&body) {
            blocks.push((label.to_owned(), der));
        }
    }
    blocks
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|&b| b != b'=') {
        let value = ALPHABET.iter().position(|&a| a == byte)?;
        acc = (acc << 6) | u32::try_from(value).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(unbase64(&base64(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
    }

    #[test]
    fn pem_blocks_are_found_in_text() {
        let text =
            "Bag Attributes\n-----BEGIN CERTIFICATE-----\r\nZm9v\r\n-----END CERTIFICATE-----\n";
        assert_eq!(
            pem_blocks(text),
            vec![("CERTIFICATE".to_owned(), b"foo".to_vec())]
        );
    }
}
