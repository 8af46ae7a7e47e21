//! Telling a library's `Debug` output from a sentence. Messages people read
//! (CLI output, API error bodies, the page) must say what happened in words;
//! `Other(OtherError(CaUsedAsEndEntity))` or `Custom { kind: InvalidData, .. }`
//! reaching them means an error was printed as it is, not explained. Tests
//! of every crate check their messages with [`debug_shapes`], and fallbacks
//! that must print a foreign error's `Display` use [`looks_like_debug`] to
//! hold back one that turns out to be `Debug` in disguise.

/// The places in `text` that look like Rust `Debug` output, each as a short
/// excerpt from where it starts; empty when `text` reads as words.
///
/// What counts: a capitalised identifier directly followed by `(`
/// (`Some(`, `Other(`, `DnsName(`), a struct body (`{ kind: `,
/// `Error { code: `), a list of quoted strings (`["`) and escaped quotes
/// (`\"`, a `Debug` string printed inside another). Sentences do not write
/// these; quoted user input should be quoted with plain `"…"` around words.
pub fn debug_shapes(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(start) = shape_at(bytes, i) {
            found.push(excerpt(text, start));
            // One report per shape: skip to the end of this token.
            i = start + 1;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    found
}

/// Whether `text` has any [`debug_shapes`].
pub fn looks_like_debug(text: &str) -> bool {
    !debug_shapes(text).is_empty()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a shape starts if one starts at `i`.
fn shape_at(bytes: &[u8], i: usize) -> Option<usize> {
    let b = bytes[i];
    let rest = &bytes[i..];
    // `Name(` — a capitalised identifier of two or more characters, at a
    // word start, with the parenthesis right after it.
    if b.is_ascii_uppercase() && (i == 0 || !is_ident(bytes[i - 1])) {
        let len = rest.iter().take_while(|c| is_ident(**c)).count();
        if len >= 2 && rest.get(len) == Some(&b'(') {
            return Some(i);
        }
    }
    // `{ field: ` — a struct body.
    if rest.starts_with(b"{ ") {
        let after = &rest[2..];
        let len = after
            .iter()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || **c == b'_')
            .count();
        if len >= 1 && after[len..].starts_with(b": ") {
            return Some(i);
        }
    }
    if rest.starts_with(b"[\"") || rest.starts_with(b"\\\"") {
        return Some(i);
    }
    None
}

/// Up to 40 bytes of `text` from `start`, cut at a character boundary.
fn excerpt(text: &str, start: usize) -> &str {
    let mut end = (start + 40).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_is_found() {
        for text in [
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
            "Io error: Custom { kind: InvalidData, error: AlertReceived(BadCertificate) }",
            "Some(\"x\")",
            "names [\"localhost\", \"example\"]",
            "received corrupt message of type InvalidContentType",
            "Error { code: Some(\"AccessDenied\"), message: None }",
            "it names DnsName(\"localhost\")",
            "wrapped: \\\"quoted\\\"",
        ] {
            // The one without a shape is a sentence made of a type name:
            // it is words enough to pass, and the test says so.
            if text.ends_with("InvalidContentType") {
                assert!(debug_shapes(text).is_empty(), "{text}");
            } else {
                assert!(!debug_shapes(text).is_empty(), "{text}");
            }
        }
        assert_eq!(
            debug_shapes("x Other(OtherError(CaUsedAsEndEntity)) and Some(1)"),
            vec!["Other(OtherError(CaUsedAsEndEntity)) and", "Some(1)"]
        );
    }

    #[test]
    fn sentences_pass() {
        for text in [
            "the server presented a CA certificate as its own certificate (trusted: Amazon Root CA 1 (built in))",
            "policies using ${iot:Connection.Thing.ThingName} need the client id to be the thing name",
            "TLS alert unknown_ca during the handshake",
            "topic \"a/+\" contains a wildcard (+ or #)",
            "the body is not valid JSON: expected value at line 1 column 1",
            "DescribeCertificate: AWS answered HTTP 500",
            "CONNACK not authorized (5)",
            "an http(s) URL",
            "",
        ] {
            assert_eq!(debug_shapes(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn excerpts_end_on_character_boundaries() {
        let text = format!("Other({})", "é".repeat(30));
        let shapes = debug_shapes(&text);
        assert_eq!(shapes.len(), 1);
        assert!(shapes[0].starts_with("Other("));
    }
}
