//! Distinguished names as RFC 4514 strings (`CN=sensor-01,O=ACME`), the
//! way x509-cert prints them but with a table of the attributes device
//! certificates carry instead of its whole OID database, which would add
//! ~60 KB of names to the page's WebAssembly. Unknown attributes print as
//! `1.2.3.4=#<DER hex>`, as RFC 4514 asks.

use std::fmt::Write as _;

use der::{Any, Encode, Tag, Tagged};
use x509_cert::name::Name;

/// Short names, as x509-cert's database gives them (upper-cased).
const SHORT_NAMES: [(&str, &str); 17] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "TITLE"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.42", "GN"),
    ("2.5.4.43", "INITIALS"),
    ("2.5.4.46", "DNQUALIFIER"),
    ("1.2.840.113549.1.9.1", "EMAIL"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("0.9.2342.19200300.100.1.25", "DC"),
];

const COMMON_NAME: &str = "2.5.4.3";

/// A directory string's text: PrintableString, UTF8String, IA5String,
/// TeletexString (read as UTF-8, as x509-cert does) or BMPString.
fn text(value: &Any) -> Option<String> {
    let content = value.value();
    match value.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {
            std::str::from_utf8(content).ok().map(str::to_owned)
        }
        Tag::BmpString if content.len().is_multiple_of(2) => char::decode_utf16(
            content
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]])),
        )
        .collect::<Result<String, _>>()
        .ok(),
        _ => None,
    }
}

/// The first common name (CN), in encoding order.
pub(crate) fn common_name(name: &Name) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid.to_string() == COMMON_NAME)
        .and_then(|atv| text(&atv.value))
}

/// `name` as RFC 4514 text: last RDN first, `+` inside an RDN.
pub(crate) fn rfc4514(name: &Name) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            attribute(&mut out, &atv.oid.to_string(), &atv.value);
        }
    }
    out
}

fn attribute(out: &mut String, oid: &str, value: &Any) {
    let key = SHORT_NAMES.iter().find(|(o, _)| *o == oid).map(|(_, k)| *k);
    // Only the string types x509-cert prints as text; others as DER hex.
    let value_text = match value.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => text(value),
        _ => None,
    };
    match (key, value_text) {
        (Some(key), Some(value)) => {
            out.push_str(key);
            out.push('=');
            let mut chars = value.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '#' if i == 0 => out.push_str("\\#"),
                    ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
                    '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\x00'..='\x1f' | '\x7f' => {
                        let _ = write!(out, "\\{:02x}", c as u8);
                    }
                    _ => out.push(c),
                }
            }
        }
        _ => {
            let _ = write!(out, "{oid}=#");
            for byte in value.to_der().unwrap_or_default() {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use x509_cert::name::Name;

    use super::rfc4514;

    #[test]
    fn names_print_as_x509_cert_prints_them() {
        for text in [
            "CN=sensor-01",
            "CN=sensor-01,OU=Line 1,O=ACME\\, Inc.,C=JP",
            "CN=a+UID=b,DC=example,DC=com",
            "CN=\\#hash\\ ,EMAILADDRESS=ops@example.com,ST=Tokyo,L=Minato",
            "SERIALNUMBER=42,STREET=Main,TITLE=Boss",
        ] {
            let name = Name::from_str(text).unwrap();
            assert_eq!(rfc4514(&name), name.to_string(), "{text}");
        }
    }

    #[test]
    fn every_short_name_is_the_one_x509_cert_uses() {
        for (oid, _) in super::SHORT_NAMES {
            let name = Name::from_str(&format!("{oid}=#0c0178")).unwrap();
            assert_eq!(rfc4514(&name), name.to_string(), "{oid}");
        }
    }

    #[test]
    fn unknown_attributes_print_as_dotted_oid_and_der() {
        let name = Name::from_str("1.2.3.4=#0c0178").unwrap();
        assert_eq!(rfc4514(&name), "1.2.3.4=#0c0178");
    }
}
