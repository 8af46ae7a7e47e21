//! PEM text: finding `-----BEGIN X-----` blocks in any surrounding text, and writing them.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// One decoded PEM block.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `BEGIN ` and the closing dashes, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded contents; wiped on drop because it may be a private key.
    pub der: Zeroizing<Vec<u8>>,
    /// Whether RFC 1421 headers (`Proc-Type`, `DEK-Info`) preceded the base64.
    pub has_headers: bool,
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the contents: a block may be a private key.
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("len", &self.der.len())
            .finish()
    }
}

/// What is wrong with PEM text that must hold nothing but blocks of one
/// label (see [`parse_only`]). Named in words, never by quoting the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemProblem {
    /// A line outside every block that is not blank.
    TextOutsideBlocks,
    /// A block whose label is not the one expected.
    OtherLabel,
    /// A header line (`Name: value`) inside a block.
    Headers,
    /// A block without its END line (the text ends, or another block begins).
    NoEnd,
    /// An END line whose label differs from its BEGIN line's.
    WrongEnd,
    /// A block whose contents are not valid base64.
    BadBase64,
    /// A block with nothing between BEGIN and END.
    EmptyBlock,
}

impl std::fmt::Display for PemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PemProblem::TextOutsideBlocks => "text outside the PEM blocks",
            PemProblem::OtherLabel => "a PEM block with another label",
            PemProblem::Headers => "a header line inside a PEM block",
            PemProblem::NoEnd => "a PEM block without its END line",
            PemProblem::WrongEnd => "an END line that does not match its BEGIN line",
            PemProblem::BadBase64 => "a PEM block whose contents are not valid base64",
            PemProblem::EmptyBlock => "an empty PEM block",
        })
    }
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// True when the bytes contain a PEM BEGIN line (text around it is allowed).
pub fn looks_like_pem(input: &[u8]) -> bool {
    input.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

/// Finds and decodes every PEM block in `text`, in order.
///
/// Text outside blocks is ignored (as `openssl` prints `Bag Attributes`
/// before each block); LF, CRLF and CR-only line ends all work. A BEGIN
/// without its END, an END with another label, or invalid base64 is an error.
pub fn parse_blocks(text: &str) -> Result<Vec<PemBlock>> {
    let lines = trimmed_lines(text);
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let Some(label) = begin_label(lines[at]) else {
            at += 1;
            continue;
        };
        let (block, next) = read_block(&lines, at).map_err(|(problem, _)| {
            let what = match problem {
                PemProblem::NoEnd => "has no END line",
                PemProblem::WrongEnd => "ends with the END line of another label",
                _ => "is not valid base64",
            };
            Error::MalformedPem(format!("block \"{label}\" {what}"))
        })?;
        blocks.push(block);
        at = next;
    }
    Ok(blocks)
}

/// Every well-formed PEM block in `text`, skipping broken ones: for
/// spotting key material, where one bad block must not hide the next.
/// After a broken block the search resumes on the line after its BEGIN, so
/// a stray BEGIN line cannot swallow the block that follows it.
pub(crate) fn parse_blocks_leniently(text: &str) -> Vec<PemBlock> {
    let lines = trimmed_lines(text);
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        if begin_label(lines[at]).is_some()
            && let Ok((block, next)) = read_block(&lines, at)
        {
            blocks.push(block);
            at = next;
        } else {
            at += 1;
        }
    }
    blocks
}

/// Decodes text that must consist of `label` blocks and whitespace only:
/// no other text, no other labels, no headers, no broken blocks. The error
/// names the problem and its line (1-based) without quoting the input.
/// Whitespace-only text is [`Error::Empty`].
pub fn parse_only(text: &str, label: &'static str) -> Result<Vec<PemBlock>> {
    let refuse = |problem, index: usize| Error::UnexpectedPemContent {
        problem,
        line: index + 1,
        expected: label,
    };
    let lines = trimmed_lines(text);
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        if lines[at].is_empty() {
            at += 1;
            continue;
        }
        match begin_label(lines[at]) {
            None => return Err(refuse(PemProblem::TextOutsideBlocks, at)),
            Some(found) if found != label => return Err(refuse(PemProblem::OtherLabel, at)),
            Some(_) => {}
        }
        let (block, next) =
            read_block(&lines, at).map_err(|(problem, line)| refuse(problem, line))?;
        if block.has_headers {
            let header = lines[at + 1..next].iter().position(|l| l.contains(':'));
            return Err(refuse(
                PemProblem::Headers,
                at + 1 + header.unwrap_or_default(),
            ));
        }
        if block.der.is_empty() {
            return Err(refuse(PemProblem::EmptyBlock, at));
        }
        blocks.push(block);
        at = next;
    }
    if blocks.is_empty() {
        return Err(Error::Empty);
    }
    Ok(blocks)
}

/// The lines of `text`, split at LF, CRLF or a lone CR (classic Mac OS), trimmed.
fn trimmed_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        lines.push(rest[..end].trim());
        let line_end = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + line_end..];
    }
    lines
}

/// The label of a `-----BEGIN X-----` line.
fn begin_label(line: &str) -> Option<&str> {
    line.strip_prefix(BEGIN)?.strip_suffix(DASHES)
}

/// Reads the block whose BEGIN line is `lines[begin]`: the block and the
/// index of the line after its END, or the problem and the line it is on.
fn read_block(lines: &[&str], begin: usize) -> Result<(PemBlock, usize), (PemProblem, usize)> {
    let label = begin_label(lines[begin]).unwrap_or_default();
    let mut body = Zeroizing::new(String::new());
    let mut has_headers = false;
    for (index, &line) in lines.iter().enumerate().skip(begin + 1) {
        if let Some(end) = line.strip_prefix(END) {
            if end.strip_suffix(DASHES).unwrap_or(end) != label {
                return Err((PemProblem::WrongEnd, index));
            }
            let der = Base64::decode_vec(&body).map_err(|_| (PemProblem::BadBase64, begin))?;
            let block = PemBlock {
                label: label.to_owned(),
                der: Zeroizing::new(der),
                has_headers,
            };
            return Ok((block, index + 1));
        }
        if begin_label(line).is_some() {
            // The next block begins before this one ended.
            return Err((PemProblem::NoEnd, begin));
        }
        if line.contains(':') {
            has_headers = true;
        } else {
            body.push_str(line);
        }
    }
    Err((PemProblem::NoEnd, begin))
}

/// Encodes DER as a PEM block with 64-character lines and LF line ends.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(Base64::encode_string(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str(BEGIN);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every 64-byte chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_surrounding_text() {
        let pem = encode("CERTIFICATE", &[1, 2, 3, 4, 5]);
        for line_end in ["\n", "\r\n", "\r"] {
            let text = format!(
                "Bag Attributes{line_end}    localKeyID: 01{line_end}{}{line_end}trailer",
                pem.replace('\n', line_end)
            );
            let blocks = parse_blocks(&text).unwrap();
            assert_eq!(blocks.len(), 1, "{line_end:?}");
            assert_eq!(blocks[0].label, "CERTIFICATE");
            assert_eq!(&blocks[0].der[..], &[1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn errors_are_specific() {
        let missing_end = "-----BEGIN CERTIFICATE-----\nAQID\n";
        assert!(
            matches!(parse_blocks(missing_end), Err(Error::MalformedPem(m)) if m.contains("no END"))
        );
        let wrong_end = "-----BEGIN CERTIFICATE-----\nAQID\n-----END PRIVATE KEY-----\n";
        assert!(
            matches!(parse_blocks(wrong_end), Err(Error::MalformedPem(m)) if m.contains("ends with"))
        );
        let bad_b64 = "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n";
        assert!(
            matches!(parse_blocks(bad_b64), Err(Error::MalformedPem(m)) if m.contains("base64"))
        );
    }

    #[test]
    fn lenient_parsing_skips_broken_blocks() {
        let good = encode("CERTIFICATE", &[1, 2, 3]);
        let cases = [
            format!("-----BEGIN X-----\n{good}"),
            format!("{good}-----BEGIN X-----\n"),
            format!("-----BEGIN X-----\nAQID\n-----END Y-----\n{good}"),
            format!("-----BEGIN X-----\n@@@\n-----END X-----\n{good}"),
        ];
        for text in cases {
            let blocks = parse_blocks_leniently(&text);
            assert_eq!(blocks.len(), 1, "{text}");
            assert_eq!(&blocks[0].der[..], &[1, 2, 3], "{text}");
            assert!(parse_blocks(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn strict_parsing_names_the_problem_and_line() {
        let good = encode("CERTIFICATE", &[1, 2, 3]);
        let two = format!("\n  {good}\r\n\t{}  \n", encode("CERTIFICATE", &[4]));
        let blocks = parse_only(&two, "CERTIFICATE").unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(&blocks[1].der[..], &[4]);

        let cases = [
            (format!("hello\n{good}"), PemProblem::TextOutsideBlocks, 1),
            (format!("{good}trailer"), PemProblem::TextOutsideBlocks, 4),
            (
                format!("{good}{}", encode("PRIVATE KEY", &[1])),
                PemProblem::OtherLabel,
                4,
            ),
            (
                good.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n"),
                PemProblem::Headers,
                2,
            ),
            (
                format!("-----BEGIN CERTIFICATE-----\n{good}"),
                PemProblem::NoEnd,
                1,
            ),
            (
                good.replace("END CERTIFICATE", "END X"),
                PemProblem::WrongEnd,
                3,
            ),
            (good.replace("AQID", "AQ@D"), PemProblem::BadBase64, 1),
            (
                "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".to_owned(),
                PemProblem::EmptyBlock,
                1,
            ),
        ];
        for (text, problem, line) in cases {
            let err = parse_only(&text, "CERTIFICATE").unwrap_err();
            assert_eq!(
                err,
                Error::UnexpectedPemContent {
                    problem,
                    line,
                    expected: "CERTIFICATE"
                },
                "{text}"
            );
            assert_eq!(err.code(), "unexpected_pem_content");
        }
        assert_eq!(parse_only(" \r\n ", "CERTIFICATE"), Err(Error::Empty));
    }

    #[test]
    fn strict_errors_never_quote_the_input() {
        let secret = "s3cr3tSECRETs3cr3t";
        let texts = [
            format!("{secret}\n"),
            format!("-----BEGIN {secret}-----\nAQID\n-----END {secret}-----\n"),
            format!("-----BEGIN CERTIFICATE-----\n{secret}@\n-----END CERTIFICATE-----\n"),
            format!("-----BEGIN CERTIFICATE-----\n{secret}: x\nAQID\n-----END CERTIFICATE-----\n"),
        ];
        for text in texts {
            let message = parse_only(&text, "CERTIFICATE").unwrap_err().to_string();
            assert!(!message.contains(secret), "{message}");
        }
    }
}
