//! A job's file: NDJSON or CSV of thing names and certificate PEMs, read
//! into the same inputs a registration request carries; and the results
//! file written back.

use marshal_shared::api::{CertificateInput, JOB_RESULTS_HEADER, UploadFormat};
use serde::Deserialize;

use super::ResultRow;

/// Why an upload cannot be read; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UploadProblem {
    /// Where (1-based line of the file).
    pub(super) line: u64,
    /// What.
    pub(super) message: String,
}

/// One NDJSON line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Line {
    certificate_pem: String,
    #[serde(default)]
    thing_name: Option<String>,
}

/// The certificates of a file, each with the line it starts on.
pub(super) fn parse(
    format: UploadFormat,
    text: &str,
) -> Result<Vec<(u64, CertificateInput)>, UploadProblem> {
    match format {
        UploadFormat::Ndjson => parse_ndjson(text),
        UploadFormat::Csv => parse_csv(text),
    }
}

fn parse_ndjson(text: &str) -> Result<Vec<(u64, CertificateInput)>, UploadProblem> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| UploadProblem {
            line: number,
            // serde_json's message names the field and column, never the value.
            message: format!("not a JSON object with certificatePem and thingName: {e}"),
        })?;
        out.push((
            number,
            CertificateInput {
                certificate_pem: parsed.certificate_pem,
                thing_name: parsed.thing_name.filter(|t| !t.is_empty()),
            },
        ));
    }
    Ok(out)
}

fn parse_csv(text: &str) -> Result<Vec<(u64, CertificateInput)>, UploadProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| UploadProblem {
        line: 1,
        message: format!("the header cannot be read: {}", csv_reason(&e)),
    })?;
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(thing), Some(pem)) = (find("thing_name"), find("certificate_pem")) else {
        return Err(UploadProblem {
            line: 1,
            message: "the header must name the columns thing_name and certificate_pem".into(),
        });
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| UploadProblem {
            line: e.position().map_or(0, csv::Position::line),
            message: csv_reason(&e),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        out.push((
            line,
            CertificateInput {
                certificate_pem: field(pem),
                thing_name: Some(field(thing)).filter(|t| !t.trim().is_empty()),
            },
        ));
    }
    Ok(out)
}

/// A CSV error in words, without the row's content.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
        _ => "not CSV as RFC 4180 writes it".into(),
    }
}

/// The results file: [`JOB_RESULTS_HEADER`], then one row per pair. A
/// cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
/// is prefixed with `'`.
pub(super) fn results_csv(rows: &[&ResultRow]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = JOB_RESULTS_HEADER.split(',').collect();
    let mut lines = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for row in rows {
        lines.push(
            [
                row.index.to_string(),
                row.thing.clone(),
                row.certificate_id.clone(),
                row.target.clone(),
                row.outcome.clone(),
                row.status.clone().unwrap_or_default(),
                row.arn.clone().unwrap_or_default(),
                row.endpoint.clone().unwrap_or_default(),
                row.error_code.clone().unwrap_or_default(),
                row.error_message.clone().unwrap_or_default(),
            ]
            .into_iter()
            .map(guard)
            .collect(),
        );
    }
    for line in lines {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&line);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

fn guard(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn ndjson_lines_and_their_numbers() {
        let text = format!(
            "{}\n\n{}\n",
            serde_json::json!({"thingName": "a", "certificatePem": PEM}),
            serde_json::json!({"certificatePem": PEM})
        );
        let parsed = parse(UploadFormat::Ndjson, &text).expect("parses");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, 1);
        assert_eq!(parsed[0].1.thing_name.as_deref(), Some("a"));
        assert_eq!(parsed[1].0, 3);
        assert_eq!(parsed[1].1.thing_name, None);
        let bad = parse(UploadFormat::Ndjson, "{\"certificatePem\": 1}\n").unwrap_err();
        assert_eq!(bad.line, 1);
        let unknown = parse(
            UploadFormat::Ndjson,
            "{\"certificatePem\":\"x\",\"key\":\"y\"}",
        )
        .unwrap_err();
        assert!(
            unknown.message.contains("unknown field"),
            "{}",
            unknown.message
        );
        assert!(!unknown.message.contains("\"y\""), "{}", unknown.message);
    }

    #[test]
    fn csv_with_quoted_pem_over_lines() {
        let text = format!("thing_name,certificate_pem\ndev-1,\"{PEM}\"\ndev-2,\"{PEM}\"\n");
        let parsed = parse(UploadFormat::Csv, &text).expect("parses");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].1.certificate_pem, PEM);
        assert_eq!(parsed[1].1.thing_name.as_deref(), Some("dev-2"));
        // Rows start on lines 2 and 6: each quoted PEM ends with a line
        // break, so its closing quote is on a fourth line.
        assert_eq!((parsed[0].0, parsed[1].0), (2, 6));
        let short = parse(UploadFormat::Csv, "thing_name,certificate_pem\nonly-one\n").unwrap_err();
        assert_eq!(short.line, 2);
        assert!(short.message.contains("1 fields"), "{}", short.message);
        let header = parse(UploadFormat::Csv, "name,pem\na,b\n").unwrap_err();
        assert!(header.message.contains("thing_name"), "{}", header.message);
    }

    #[test]
    fn results_are_guarded_against_formulas() {
        let row = ResultRow {
            index: 0,
            thing: "=cmd".into(),
            certificate_id: "ab".into(),
            target: "t".into(),
            outcome: "failed".into(),
            status: None,
            arn: None,
            endpoint: None,
            error_code: Some("aws_invalid_request".into()),
            error_message: Some("-1, \"quoted\"".into()),
        };
        let text = results_csv(&[&row]);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(JOB_RESULTS_HEADER));
        assert_eq!(
            lines.next(),
            Some("0,'=cmd,ab,t,failed,,,,aws_invalid_request,\"'-1, \"\"quoted\"\"\"")
        );
    }
}
