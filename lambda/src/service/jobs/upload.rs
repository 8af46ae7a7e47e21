//! A job's file: NDJSON or CSV of thing names and certificate PEMs, read
//! a line or row at a time into the same inputs a registration request
//! carries; and the results file written back.

use marshal_shared::api::{CertificateInput, JOB_RESULTS_HEADER, UploadFormat};
use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

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

/// The longest line (NDJSON) or row (CSV) read: a certificate's PEM is a
/// few KB, and a file without line breaks must not be read whole.
pub(super) const MAX_RECORD_BYTES: usize = 64 * 1024;

/// One certificate of a file, as read.
#[derive(Debug)]
pub(super) struct Record {
    /// The line it starts on, from 1.
    pub(super) line: u64,
    /// The line or row's text (for the key-material check).
    pub(super) raw: String,
    pub(super) input: CertificateInput,
}

/// The certificates of a file, read one line (NDJSON) or row (CSV) at a
/// time, so a file of a million certificates is never held whole.
pub(super) struct Records<R> {
    reader: R,
    format: UploadFormat,
    /// Lines read so far.
    line: u64,
    /// CSV: the header's width and where `thing_name` and
    /// `certificate_pem` are, once read.
    columns: Option<(usize, usize, usize)>,
}

impl<R: AsyncBufRead + Unpin> Records<R> {
    pub(super) fn new(reader: R, format: UploadFormat) -> Records<R> {
        Records {
            reader,
            format,
            line: 0,
            columns: None,
        }
    }

    /// The next certificate, `None` at the end of the file.
    pub(super) async fn next(&mut self) -> Result<Option<Record>, UploadProblem> {
        match self.format {
            UploadFormat::Ndjson => self.next_ndjson().await,
            UploadFormat::Csv => self.next_csv().await,
        }
    }

    /// Appends the next line, its break included, to `buf`; false at the end.
    async fn read_line(&mut self, buf: &mut Vec<u8>) -> Result<bool, UploadProblem> {
        let room = (MAX_RECORD_BYTES + 1).saturating_sub(buf.len()) as u64;
        let read = (&mut self.reader)
            .take(room)
            .read_until(b'\n', buf)
            .await
            .map_err(|e| UploadProblem {
                line: self.line + 1,
                message: format!("the file could not be read: {e}"),
            })?;
        if read == 0 {
            return Ok(false);
        }
        self.line += 1;
        if buf.len() > MAX_RECORD_BYTES {
            return Err(UploadProblem {
                line: self.line,
                message: format!("longer than {MAX_RECORD_BYTES} bytes: not one certificate"),
            });
        }
        Ok(true)
    }

    async fn next_ndjson(&mut self) -> Result<Option<Record>, UploadProblem> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if !self.read_line(&mut buf).await? {
                return Ok(None);
            }
            let line = self.line;
            let Ok(text) = String::from_utf8(std::mem::take(&mut buf)) else {
                return Err(UploadProblem {
                    line,
                    message: "not UTF-8".into(),
                });
            };
            if text.trim().is_empty() {
                continue;
            }
            let parsed: Line = serde_json::from_str(&text).map_err(|e| UploadProblem {
                line,
                // serde_json's message names the field and column, never the value.
                message: format!("not a JSON object with certificatePem and thingName: {e}"),
            })?;
            return Ok(Some(Record {
                line,
                input: CertificateInput {
                    certificate_pem: parsed.certificate_pem,
                    thing_name: parsed.thing_name.filter(|t| !t.is_empty()),
                },
                raw: text,
            }));
        }
    }

    /// A row: lines until its quotes are balanced (RFC 4180 doubles a quote
    /// inside a quoted field, so an odd count means a field goes on).
    async fn read_row(&mut self) -> Result<Option<(u64, String)>, UploadProblem> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if !self.read_line(&mut buf).await? {
                return Ok(None);
            }
            let start = self.line;
            while buf.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
                if !self.read_line(&mut buf).await? {
                    return Err(UploadProblem {
                        line: start,
                        message: "a quoted field is not closed before the end of the file".into(),
                    });
                }
            }
            let Ok(text) = String::from_utf8(std::mem::take(&mut buf)) else {
                return Err(UploadProblem {
                    line: start,
                    message: "not UTF-8".into(),
                });
            };
            if !text.trim().is_empty() {
                return Ok(Some((start, text)));
            }
        }
    }

    async fn next_csv(&mut self) -> Result<Option<Record>, UploadProblem> {
        let (thing, pem, width) = match self.columns {
            Some(columns) => columns,
            None => {
                let Some((line, text)) = self.read_row().await? else {
                    return Ok(None);
                };
                let header = csv_row(line, &text)?;
                let find = |name: &str| header.iter().position(|h| h.trim() == name);
                let (Some(thing), Some(pem)) = (find("thing_name"), find("certificate_pem")) else {
                    return Err(UploadProblem {
                        line,
                        message: "the header must name the columns thing_name and certificate_pem"
                            .into(),
                    });
                };
                let columns = (thing, pem, header.len());
                self.columns = Some(columns);
                columns
            }
        };
        let Some((line, text)) = self.read_row().await? else {
            return Ok(None);
        };
        let row = csv_row(line, &text)?;
        if row.len() != width {
            return Err(UploadProblem {
                line,
                message: format!("{} fields where the header has {width}", row.len()),
            });
        }
        let field = |i: usize| row.get(i).unwrap_or_default().to_owned();
        Ok(Some(Record {
            line,
            input: CertificateInput {
                certificate_pem: field(pem),
                thing_name: Some(field(thing)).filter(|t| !t.trim().is_empty()),
            },
            raw: text,
        }))
    }
}

/// One row's fields.
fn csv_row(line: u64, text: &str) -> Result<csv::StringRecord, UploadProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record),
        Ok(false) => Err(UploadProblem {
            line,
            message: "an empty row".into(),
        }),
        Err(e) => Err(UploadProblem {
            line,
            message: csv_reason(&e),
        }),
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

    /// Every record of `text`, or the first problem.
    async fn parse(format: UploadFormat, text: &str) -> Result<Vec<Record>, UploadProblem> {
        let mut records = Records::new(std::io::Cursor::new(text.as_bytes().to_vec()), format);
        let mut out = Vec::new();
        while let Some(record) = records.next().await? {
            out.push(record);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn ndjson_lines_and_their_numbers() {
        let text = format!(
            "{}\n\n{}\r\n",
            serde_json::json!({"thingName": "a", "certificatePem": PEM}),
            serde_json::json!({"certificatePem": PEM})
        );
        let parsed = parse(UploadFormat::Ndjson, &text).await.expect("parses");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].line, 1);
        assert_eq!(parsed[0].input.thing_name.as_deref(), Some("a"));
        assert_eq!(parsed[0].input.certificate_pem, PEM);
        assert_eq!(parsed[1].line, 3);
        assert_eq!(parsed[1].input.thing_name, None);
        assert!(parsed[1].raw.contains("certificatePem"));
        let bad = parse(UploadFormat::Ndjson, "\n{\"certificatePem\": 1}\n")
            .await
            .unwrap_err();
        assert_eq!(bad.line, 2);
        let unknown = parse(
            UploadFormat::Ndjson,
            "{\"certificatePem\":\"x\",\"key\":\"y\"}",
        )
        .await
        .unwrap_err();
        assert!(
            unknown.message.contains("unknown field"),
            "{}",
            unknown.message
        );
        assert!(!unknown.message.contains("\"y\""), "{}", unknown.message);
        let missing = parse(UploadFormat::Ndjson, "{}\n").await.unwrap_err();
        assert_eq!(missing.line, 1);
        assert!(
            missing.message.contains("missing field"),
            "{}",
            missing.message
        );
        let mut bytes = b"\n\n".to_vec();
        bytes.extend_from_slice(&[0xff, b'\n']);
        let mut records = Records::new(std::io::Cursor::new(bytes), UploadFormat::Ndjson);
        let not_utf8 = records.next().await.unwrap_err();
        assert_eq!((not_utf8.line, not_utf8.message.as_str()), (3, "not UTF-8"));
    }

    #[tokio::test]
    async fn a_line_without_end_is_refused_without_reading_it_whole() {
        let long = format!("\n{}", "x".repeat(MAX_RECORD_BYTES * 3));
        for format in [UploadFormat::Ndjson, UploadFormat::Csv] {
            let error = parse(format, &long).await.unwrap_err();
            assert_eq!(error.line, 2, "{format:?}");
            assert!(error.message.contains("longer than"), "{}", error.message);
        }
        // Just under the limit is one record.
        let pem = "A".repeat(MAX_RECORD_BYTES - 40);
        let line = serde_json::json!({ "certificatePem": pem }).to_string();
        assert!(line.len() < MAX_RECORD_BYTES);
        assert_eq!(parse(UploadFormat::Ndjson, &line).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn csv_with_quoted_pem_over_lines() {
        let text = format!("thing_name,certificate_pem\r\ndev-1,\"{PEM}\"\n\ndev-2,\"{PEM}\"\n");
        let parsed = parse(UploadFormat::Csv, &text).await.expect("parses");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].input.certificate_pem, PEM);
        assert_eq!(parsed[1].input.thing_name.as_deref(), Some("dev-2"));
        // Rows start on lines 2 and 7: each quoted PEM ends with a line
        // break, so its closing quote is on a fourth line; line 6 is blank.
        assert_eq!((parsed[0].line, parsed[1].line), (2, 7));
        assert!(parsed[1].raw.starts_with("dev-2,"));
        // A quote inside a quoted field is doubled, and does not end it.
        let quoted = "certificate_pem,thing_name\n\"a \"\"b\"\"\nc\",t\n";
        let parsed = parse(UploadFormat::Csv, quoted).await.expect("parses");
        assert_eq!(parsed[0].input.certificate_pem, "a \"b\"\nc");
        assert_eq!(parsed[0].input.thing_name.as_deref(), Some("t"));
        let short = parse(UploadFormat::Csv, "thing_name,certificate_pem\nonly-one\n")
            .await
            .unwrap_err();
        assert_eq!(short.line, 2);
        assert!(short.message.contains("1 fields"), "{}", short.message);
        let header = parse(UploadFormat::Csv, "name,pem\na,b\n")
            .await
            .unwrap_err();
        assert!(header.message.contains("thing_name"), "{}", header.message);
        let open = parse(UploadFormat::Csv, "thing_name,certificate_pem\na,\"b\nc\n")
            .await
            .unwrap_err();
        assert_eq!(open.line, 2);
        assert!(open.message.contains("not closed"), "{}", open.message);
        assert!(parse(UploadFormat::Csv, "").await.unwrap().is_empty());
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
