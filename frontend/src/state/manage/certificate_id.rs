//! A certificate ID as people type it: checked, made canonical, shortened.

/// Why the typed certificate ID cannot be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    Empty,
    /// Characters other than hex digits (spaces and colons are allowed).
    NotHex,
    /// Hex, but not 64 digits; the count typed.
    WrongLength(usize),
}

/// The canonical certificate ID in `text`, or what is wrong with it.
/// Spaces and colons are dropped, so openssl's `AB:CD:…` form works too.
pub fn parse_certificate_id(text: &str) -> Result<String, IdProblem> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if compact.is_empty() {
        return Err(IdProblem::Empty);
    }
    marshal_shared::validate::certificate_id(&compact).map_err(|_| {
        let hex = compact.strip_prefix("0x").unwrap_or(&compact);
        if hex.chars().all(|c| c.is_ascii_hexdigit()) {
            IdProblem::WrongLength(hex.len())
        } else {
            IdProblem::NotHex
        }
    })
}

/// `3f9a…c21e`: enough to recognise an ID in a sentence.
pub fn short_id(id: &str) -> String {
    match (id.get(..4), id.get(id.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if id.len() > 12 => format!("{head}…{tail}"),
        _ => id.to_owned(),
    }
}
