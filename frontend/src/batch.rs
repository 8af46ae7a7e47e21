//! Batches: a list of thing names in (typed, pasted or a CSV), one key and
//! certificate per name out, all in one zip. The list is checked here
//! before any key is made; the worker runs [`BatchJob`]s and writes the zip
//! with [`BatchZip`]. Pure, so it is tested natively.

use std::collections::HashSet;
use std::fmt::Write as _;

use marshal_shared::{AMAZON_ROOT_CA_1_PEM, Certificate, PrivateKey};
use serde::{Deserialize, Serialize};

use crate::generation::GenerateJob;
use crate::i18n::Text;
use crate::zip::{FileMode, ZipError, ZipWriter};

/// Names in one batch. Each credential is made in about a millisecond
/// (P-256), so this is a minute of RSA-2048 or a few seconds of ECDSA.
pub const MAX_BATCH: usize = 5_000;
/// A thing name becomes the certificate's common name, which X.509 caps at 64.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a list of names cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchProblem {
    /// 1-based line of the list.
    pub line: Option<usize>,
    pub name: Option<String>,
    pub reason: Text,
}

/// The names in `text`: one per line, or a CSV whose first column is the
/// name (a header row `thing_name`/`name` is skipped). Blank lines and
/// `#` comments are ignored. Every name must be a valid thing name that fits
/// a common name, and appear once.
pub fn parse_names(text: &str) -> Result<Vec<String>, BatchProblem> {
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let first = line.split([',', ';', '\t']).next().unwrap_or_default();
        let name = first.trim().trim_matches('"').trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if names.is_empty()
            && seen.is_empty()
            && ["thing_name", "thingname", "name", "thing"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let problem = |reason| BatchProblem {
            line: Some(line_no),
            name: Some(name.to_owned()),
            reason,
        };
        if marshal_shared::validate::thing_name(name).is_err()
            || name.chars().count() > MAX_NAME_CHARS
        {
            return Err(problem(Text::BatchBadName));
        }
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(problem(Text::BatchDuplicate));
        }
        if names.len() == MAX_BATCH {
            return Err(BatchProblem {
                line: Some(line_no),
                name: None,
                reason: Text::BatchTooMany,
            });
        }
        names.push(name.to_owned());
    }
    if names.is_empty() {
        return Err(BatchProblem {
            line: None,
            name: None,
            reason: Text::BatchNoNames,
        });
    }
    Ok(names)
}

/// What the page sends the worker: the names, and the form's settings
/// (key type, validity, organisation; its common name is unused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJob {
    pub names: Vec<String>,
    pub settings: GenerateJob,
}

/// The batch's zip, filled one credential at a time:
///
/// ```text
/// marshal-batch-<n>/
///   README.md          what is inside, and how to register it all
///   manifest.csv       thing_name,certificate_id,certificate,private_key
///   certificates.csv   thing_name,certificate_path (for `marshal register --batch`)
///   AmazonRootCA1.pem
///   certs/<name>.cert.pem
///   keys/<name>.private.key   (mode 0600)
/// ```
#[derive(Debug)]
pub struct BatchZip {
    zip: ZipWriter,
    dir: String,
    manifest: String,
    certificates: String,
    /// The certificates as a job file (`POST /v1/jobs`, NDJSON): public
    /// parts only, so the page may send it.
    job_file: String,
    count: usize,
}

impl BatchZip {
    /// An empty batch of `total` names, files dated `now_unix_secs`.
    pub fn new(total: usize, now_unix_secs: i64) -> BatchZip {
        BatchZip {
            zip: ZipWriter::new(now_unix_secs),
            dir: format!("marshal-batch-{total}"),
            manifest: "thing_name,certificate_id,certificate,private_key\n".to_owned(),
            certificates: String::new(),
            job_file: String::new(),
            count: 0,
        }
    }

    /// The folder inside the zip, also the zip's name without `.zip`.
    pub fn name(&self) -> &str {
        &self.dir
    }

    /// How many credentials were added.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds one device's credentials.
    pub fn add(
        &mut self,
        name: &str,
        certificate: &Certificate,
        key: &PrivateKey,
    ) -> Result<(), ZipError> {
        let pem = certificate.to_pem();
        let cert_path = format!("certs/{name}.cert.pem");
        let key_path = format!("keys/{name}.private.key");
        let dir = &self.dir;
        self.zip.add(
            &format!("{dir}/{cert_path}"),
            pem.as_bytes(),
            FileMode::Public,
        )?;
        self.zip.add(
            &format!("{dir}/{key_path}"),
            key.to_pkcs8_pem().as_bytes(),
            FileMode::Private,
        )?;
        let id = certificate.id();
        let _ = writeln!(self.manifest, "{name},{id},{cert_path},{key_path}");
        let _ = writeln!(self.certificates, "{name},{cert_path}");
        let line = serde_json::json!({ "thingName": name, "certificatePem": pem });
        let _ = writeln!(self.job_file, "{line}");
        self.count += 1;
        Ok(())
    }

    /// The batch's certificates as a job file: one NDJSON line
    /// `{"thingName", "certificatePem"}` per device, no key.
    pub fn job_file(&self) -> &str {
        &self.job_file
    }

    /// The finished zip (it holds private keys: straight to a download).
    pub fn finish(mut self) -> Result<Vec<u8>, ZipError> {
        let dir = self.dir.clone();
        let readme = readme(self.count);
        for (file, data) in [
            ("README.md", readme.as_str()),
            ("manifest.csv", self.manifest.as_str()),
            ("certificates.csv", self.certificates.as_str()),
            ("AmazonRootCA1.pem", AMAZON_ROOT_CA_1_PEM),
        ] {
            self.zip
                .add(&format!("{dir}/{file}"), data.as_bytes(), FileMode::Public)?;
        }
        self.zip.finish()
    }
}

fn readme(count: usize) -> String {
    format!(
        "# {count} device credentials made by Marshal\n\n\
         - `certs/`: one self-signed certificate per device, `<thing name>.cert.pem`.\n\
         - `keys/`: the matching private keys (PKCS#8 PEM). Keep them secret: copy each \
         to its device only, then delete this folder.\n\
         - `manifest.csv`: thing name, certificate ID (as AWS IoT shows it) and both files.\n\
         - `certificates.csv`: thing name and certificate, the list `marshal` reads.\n\
         - `AmazonRootCA1.pem`: the CA of AWS IoT's `iot:Data-ATS` endpoints.\n\n\
         Register them all (only certificates are sent, never keys):\n\n\
         ```sh\nmarshal register --batch certificates.csv --target all\n```\n\n\
         Devices must send SNI (the endpoint's host name) when they connect: AWS IoT \
         accepts certificates registered without a CA only then.\n"
    )
}

/// "0.85 s (2.3 MB)": how long a batch took and how big its zip is, with
/// integer arithmetic (formatting floats would add ~10 KB of wasm).
pub fn duration_and_size(ms: f64, zip_bytes: usize) -> String {
    // Saturating casts: a negative or NaN duration shows as 0.
    let centiseconds = (ms / 10.0).round() as u64;
    let tenths_of_mb = (zip_bytes as u64 + 50_000) / 100_000;
    format!(
        "{}.{:02} s ({}.{} MB)",
        centiseconds / 100,
        centiseconds % 100,
        tenths_of_mb / 10,
        tenths_of_mb % 10
    )
}

// Native only: reads the zip back with unzip and openssl.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
