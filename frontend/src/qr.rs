//! QR codes of certificate IDs for device labels, as SVG the page inlines.
//!
//! A phone scanning the label reads the 64-hex certificate ID, which finds
//! the certificate in AWS IoT. The SVG has no fixed size (CSS sizes it) and
//! draws every dark module as one path, so it stays small and prints sharp.

use std::fmt::{self, Write};

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code that scanners need to find it (the
/// standard's minimum).
pub const QUIET_ZONE: usize = 4;

/// Why a QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit in the largest QR code.
    TooLong { bytes: usize },
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { bytes } => {
                write!(f, "{bytes} bytes of text do not fit in a QR code")
            }
        }
    }
}

impl std::error::Error for QrError {}

/// The modules of `text`'s QR code, rows top to bottom, `true` for dark;
/// without the quiet zone.
pub fn matrix(text: &str) -> Result<Vec<Vec<bool>>, QrError> {
    let code = encode(text)?;
    let size = code.size();
    Ok((0..size)
        .map(|y| (0..size).map(|x| code.get_module(x, y)).collect())
        .collect())
}

/// An `<svg>` of `text`'s QR code, with a quiet zone, a white background
/// and `title` as its accessible name (escaped here).
pub fn svg(text: &str, title: &str) -> Result<String, QrError> {
    let rows = matrix(text)?;
    let side = rows.len() + 2 * QUIET_ZONE;
    let mut out = String::with_capacity(256 + rows.len() * rows.len() * 4);
    // Writing to a String cannot fail, hence the ignored results below.
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" role="img" shape-rendering="crispEdges"><title>"##
    );
    escape_into(&mut out, title);
    let _ = write!(
        out,
        r##"</title><rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d=""##
    );
    for (y, row) in rows.iter().enumerate() {
        let mut x = 0;
        while x < row.len() {
            if !row[x] {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|&&dark| dark).count();
            let _ = write!(
                out,
                "M{} {}h{run}v1h-{run}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            );
            x += run;
        }
    }
    out.push_str(r#""/></svg>"#);
    Ok(out)
}

fn encode(text: &str) -> Result<QrCode, QrError> {
    // Medium survives a scuffed label; qrcodegen raises it for free when
    // the text leaves room in the same size.
    QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| QrError::TooLong { bytes: text.len() })
}

/// Appends `text` as XML character data: markup characters escaped, and
/// characters XML 1.0 forbids dropped.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
}

// Native only: decoded by zbar, parsed by Python.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
