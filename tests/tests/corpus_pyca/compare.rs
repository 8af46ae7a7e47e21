//! Comparing what marshal said about a file with what `cryptography` read from it.
//!
//! Normalisations here are formatting choices only, each with its reason;
//! anything that changes a value is a finding.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::CorpusFile;
use crate::marshal::{MarshalSide, Outcome};
use crate::names::names_agree;

/// Something about one file that is not plain agreement.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) rel: String,
    pub(crate) what: What,
    /// Both sides' words, for the failure message.
    pub(crate) detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum What {
    /// marshal refused the file (exit 1 or 2 with an error code).
    Refusal { command: String, code: String },
    /// cryptography refuses the file or a field of it, marshal reads it.
    Lenient { field: String },
    /// Both read it and disagree on a field.
    Disagreement { field: String },
    /// A signal, a panic, output that is not JSON, or a hang: never allowed.
    Crash { command: String },
}

struct Findings<'a> {
    rel: &'a str,
    out: Vec<Finding>,
}

impl Findings<'_> {
    fn push(&mut self, what: What, detail: impl Into<String>) {
        self.out.push(Finding {
            rel: self.rel.to_owned(),
            what,
            detail: detail.into(),
        });
    }

    fn disagree(
        &mut self,
        field: &str,
        python: impl std::fmt::Display,
        marshal: impl std::fmt::Display,
    ) {
        self.push(
            What::Disagreement {
                field: field.to_owned(),
            },
            format!("cryptography: {python}\nmarshal:      {marshal}"),
        );
    }

    fn lenient(&mut self, field: &str, python_error: &str, marshal: impl std::fmt::Display) {
        self.push(
            What::Lenient {
                field: field.to_owned(),
            },
            format!("cryptography refuses: {python_error}\nmarshal reads:        {marshal}"),
        );
    }
}

/// Everything about one file.
pub(crate) fn file(file: &CorpusFile, side: &MarshalSide, outputs: Option<&Value>) -> Vec<Finding> {
    let mut f = Findings {
        rel: &file.rel,
        out: Vec::new(),
    };
    let commands = [
        ("fingerprint", side.fingerprint.as_ref()),
        ("inspect", Some(&side.inspect)),
        ("convert", Some(&side.convert)),
    ];
    for (command, outcome) in commands {
        if let Some(Outcome::Crashed(d) | Outcome::Hung(d)) = outcome {
            f.push(
                What::Crash {
                    command: command.to_owned(),
                },
                d.clone(),
            );
        }
    }
    if !f.out.is_empty() {
        return f.out;
    }
    let python = &file.python;
    let python_certs = python["certificates"]
        .as_array()
        .cloned()
        .unwrap_or_default();

    let inspect = match &side.inspect {
        Outcome::Ok(json) => json,
        Outcome::Refused { code, message } => {
            let python_view = if file.python_ok() {
                "cryptography reads it".to_owned()
            } else {
                format!(
                    "cryptography refuses it too: {}",
                    python["error"].as_str().unwrap_or("?")
                )
            };
            f.push(
                What::Refusal {
                    command: "inspect".into(),
                    code: code.clone(),
                },
                format!("marshal: {message}\n{python_view}"),
            );
            // The other commands read the file the same way: only success is news.
            for (command, outcome) in [
                ("fingerprint", side.fingerprint.as_ref()),
                ("convert", Some(&side.convert)),
            ] {
                if let Some(Outcome::Ok(json)) = outcome {
                    f.disagree(
                        &format!("{command} vs inspect"),
                        "-",
                        format!("inspect refuses, {command} says {json}"),
                    );
                }
            }
            return f.out;
        }
        Outcome::Crashed(_) | Outcome::Hung(_) => unreachable!("handled above"),
    };

    if !file.python_ok() {
        f.lenient(
            "file",
            python["error"].as_str().unwrap_or("?"),
            summary_of(inspect),
        );
        return f.out;
    }

    // Certificates, matched by ID.
    let marshal_certs = inspect["certificates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids = |certs: &[Value], key: &str| -> BTreeSet<String> {
        certs
            .iter()
            .filter_map(|c| c[key].as_str().map(str::to_owned))
            .collect()
    };
    let (python_ids, marshal_ids) = (
        ids(&python_certs, "id"),
        ids(&marshal_certs, "certificateId"),
    );
    if python_ids != marshal_ids {
        f.disagree(
            "certificates",
            format!("{python_ids:?}"),
            format!("{marshal_ids:?}"),
        );
    }
    for pc in &python_certs {
        if let Some(mc) = marshal_certs
            .iter()
            .find(|m| m["certificateId"] == pc["id"])
        {
            certificate(&mut f, pc, mc);
        }
    }

    // The private key.
    let python_key = &python["private_key"];
    let marshal_key = &inspect["privateKey"];
    match (python_key.is_object(), marshal_key.is_object()) {
        (true, true) => {
            let (p, m) = (
                python_key_name(&python_key["key"]),
                marshal_key_name(&marshal_key["algorithm"]),
            );
            if p != m {
                f.disagree("private key type", p, m);
            }
            let python_match = (!python_certs.is_empty())
                .then(|| python_certs.iter().any(|c| c["spki"] == python_key["spki"]));
            let marshal_match = marshal_key["matchesCertificate"].as_bool();
            if python_match != marshal_match {
                f.disagree(
                    "key matches certificate",
                    format!("{python_match:?}"),
                    format!("{marshal_match:?}"),
                );
            }
        }
        (false, true) => match python["private_key_error"].as_str() {
            Some(error) => f.lenient("private key", error, &marshal_key["algorithm"]),
            None => f.disagree("private key", "no private key", &marshal_key["algorithm"]),
        },
        (true, false) => f.disagree("private key", &python_key["key"], "no private key"),
        (false, false) => {}
    }

    // The certificate ID fingerprint prints: the one matching the key, else the first.
    let leaf = expected_leaf(&python_certs, python_key);
    match (&side.fingerprint, &leaf) {
        (Some(Outcome::Ok(json)), Leaf::One(id)) if json["certificateId"] != *id.as_str() => {
            f.disagree("fingerprint", id, &json["certificateId"]);
        }
        (Some(Outcome::Ok(json)), Leaf::AnyOf(ids))
            if !json["certificateId"]
                .as_str()
                .is_some_and(|id| ids.contains(id)) =>
        {
            f.disagree(
                "fingerprint",
                format!("one of {ids:?}"),
                &json["certificateId"],
            );
        }
        (Some(Outcome::Ok(json)), Leaf::None) => f.disagree("fingerprint", "no certificate", json),
        // No certificate, and marshal says exactly that: agreement.
        (Some(Outcome::Refused { code, .. }), Leaf::None) if code == "no_certificate" => {}
        (Some(Outcome::Refused { code, message }), _) => f.push(
            What::Refusal {
                command: "fingerprint".into(),
                code: code.clone(),
            },
            format!("marshal: {message}\ncryptography reads it"),
        ),
        _ => {}
    }

    // What convert wrote, as cryptography reads it back.
    match &side.convert {
        Outcome::Refused { code, message } => f.push(
            What::Refusal {
                command: "convert".into(),
                code: code.clone(),
            },
            format!("marshal: {message}\n(inspect read the file)"),
        ),
        Outcome::Ok(_) => {
            if let Some(outputs) = outputs {
                converted(&mut f, side, outputs, &marshal_ids, &leaf, python_key);
            }
        }
        Outcome::Crashed(_) | Outcome::Hung(_) => {}
    }
    f.out
}

fn summary_of(inspect: &Value) -> String {
    let certs: Vec<&str> = inspect["certificates"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["certificateId"].as_str())
                .collect()
        })
        .unwrap_or_default();
    format!(
        "certificates {certs:?}, private key {}",
        inspect["privateKey"]["algorithm"]
    )
}

fn certificate(f: &mut Findings<'_>, python: &Value, marshal: &Value) {
    for field in ["subject", "issuer"] {
        let m = marshal[field].as_str().unwrap_or_default();
        if let Some(error) = python[format!("{field}_error")].as_str() {
            f.lenient(field, error, m);
        } else if let Err(why) = names_agree(m, &python[field]) {
            f.disagree(field, format!("{} ({why})", python[field]), m);
        }
    }
    // marshal prints the serial in hex (a negative one as `-` and its
    // magnitude): a positive serial whose top bit is set carries a leading
    // 00 byte, and leading zeros do not change a number. The sign does.
    let serial = marshal["serial"].as_str().unwrap_or_default();
    let (sign, digits) = match serial.strip_prefix('-') {
        Some(magnitude) => ("-", magnitude),
        None => ("", serial),
    };
    let digits = digits.trim_start_matches('0');
    let trimmed = match (digits.is_empty(), serial.is_empty()) {
        (true, false) => "0".to_owned(),
        _ => format!("{sign}{digits}"),
    };
    let trimmed = trimmed.as_str();
    if python["serial"].as_str() != Some(trimmed) {
        f.disagree("serial", &python["serial"], serial);
    }
    for (p, m) in [("not_before", "notBefore"), ("not_after", "notAfter")] {
        if let Some(error) = python[format!("{p}_error")].as_str() {
            f.lenient(p, error, &marshal[m]);
        } else if python[p] != marshal[m] {
            f.disagree(p, &python[p], &marshal[m]);
        }
    }
    let marshal_key = marshal_key_name(&marshal["key"]);
    if let Some(error) = python["spki_error"].as_str() {
        f.lenient("key", error, marshal_key);
    } else if python_key_name(&python["key"]) != marshal_key {
        f.disagree("key", python_key_name(&python["key"]), marshal_key);
    }
}

/// marshal's key JSON as one word: `rsa-2048`, `rsa-pss-2048`,
/// `ec-secp256r1`, `ed25519`, `ed448`, `dsa`, `other-<oid>`. Curves get
/// cryptography's names: P-256 and secp256r1 are one curve.
pub(crate) fn marshal_key_name(key: &Value) -> String {
    let bits = &key["bits"];
    match key["type"].as_str().unwrap_or_default() {
        t @ ("rsa" | "rsa-pss") => format!("{t}-{bits}"),
        "ec" => {
            let curve = match &key["curve"] {
                Value::String(c) => match c.as_str() {
                    "p256" | "p-256" => "secp256r1".to_owned(),
                    "p384" | "p-384" => "secp384r1".to_owned(),
                    "p521" | "p-521" => "secp521r1".to_owned(),
                    other => other.to_owned(),
                },
                other => other["other"]
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
            };
            format!("ec-{curve}")
        }
        "other" => format!("other-{}", key["oid"].as_str().unwrap_or_default()),
        t => t.to_owned(),
    }
}

/// cryptography's key facts in the same words. DSA without its size:
/// marshal does not report one, and that absence is not a disagreement.
pub(crate) fn python_key_name(key: &Value) -> String {
    match key["type"].as_str().unwrap_or_default() {
        t @ ("rsa" | "rsa-pss") => format!("{t}-{}", key["bits"]),
        "ec" => format!("ec-{}", key["curve"].as_str().unwrap_or_default()),
        t => t.to_owned(),
    }
}

#[derive(Debug)]
enum Leaf {
    One(String),
    /// Several certificates and no key to pick one: which comes first is
    /// the file's (PKCS#12 bag) order, which the two read differently.
    AnyOf(BTreeSet<String>),
    None,
}

fn expected_leaf(certs: &[Value], key: &Value) -> Leaf {
    let id = |c: &Value| c["id"].as_str().unwrap_or_default().to_owned();
    if key.is_object()
        && let Some(c) = certs.iter().find(|c| c["spki"] == key["spki"])
    {
        return Leaf::One(id(c));
    }
    match certs {
        [] => Leaf::None,
        [one] => Leaf::One(id(one)),
        many => Leaf::AnyOf(many.iter().map(id).collect()),
    }
}

fn converted(
    f: &mut Findings<'_>,
    side: &MarshalSide,
    outputs: &Value,
    marshal_ids: &BTreeSet<String>,
    leaf: &Leaf,
    python_key: &Value,
) {
    if side.out_cert.is_some() {
        match outputs["cert_ids"].as_array() {
            Some(ids) => {
                let written: Vec<&str> = ids.iter().filter_map(Value::as_str).collect();
                let set: BTreeSet<String> = written.iter().map(|s| (*s).to_owned()).collect();
                let first_ok = match leaf {
                    Leaf::One(id) => written.first() == Some(&id.as_str()),
                    _ => true,
                };
                if &set != marshal_ids || !first_ok {
                    f.disagree(
                        "convert --out-cert",
                        format!("certificates {marshal_ids:?}, leaf {leaf:?} first"),
                        format!("wrote {written:?}"),
                    );
                }
            }
            None => f.disagree("convert --out-cert", &outputs["cert_error"], "wrote it"),
        }
    }
    let same_key = |written: &Value| {
        python_key.is_object()
            && written["spki"] == python_key["spki"]
            && written["pkcs8_sha256"] == python_key["pkcs8_sha256"]
    };
    if side.out_key.is_some() && python_key.is_object() {
        match &outputs["key"] {
            written if written.is_object() => {
                if !same_key(written) {
                    f.disagree(
                        "convert --out-key",
                        format!(
                            "{} with public key {}",
                            python_key["key"], python_key["spki"]
                        ),
                        format!(
                            "wrote {} with public key {}",
                            written["key"], written["spki"]
                        ),
                    );
                }
            }
            _ => f.disagree(
                "convert --out-key",
                &outputs["key_error"],
                "wrote a PKCS#8 key",
            ),
        }
    }
    if side.out_p12.is_some() {
        let p12 = &outputs["p12"];
        if p12.is_object() {
            let ids: BTreeSet<String> = p12["certificates"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c["id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let leaf_in = match leaf {
                Leaf::One(id) => ids.contains(id),
                _ => !ids.is_empty(),
            };
            if !leaf_in || (python_key.is_object() && !same_key(&p12["private_key"])) {
                f.disagree(
                    "convert --out-p12",
                    format!("leaf {leaf:?} and key {}", python_key["key"]),
                    format!("certificates {ids:?}, key {}", p12["private_key"]["key"]),
                );
            }
        } else {
            f.disagree(
                "convert --out-p12",
                &outputs["p12_error"],
                "wrote a PKCS#12",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_names() {
        assert_eq!(
            marshal_key_name(&json!({"type": "ec", "curve": "p256"})),
            "ec-secp256r1"
        );
        assert_eq!(
            python_key_name(&json!({"type": "ec", "curve": "secp256r1"})),
            "ec-secp256r1"
        );
        assert_eq!(
            marshal_key_name(&json!({"type": "rsa", "bits": 2048})),
            "rsa-2048"
        );
        assert_eq!(
            python_key_name(&json!({"type": "dsa", "bits": 2048})),
            "dsa"
        );
    }
}
