//! Distinguished names: marshal's RFC 4514 text against the attributes cryptography read.

use serde_json::Value;

/// Attribute short names → OIDs: marshal's table and cryptography's, so
/// either naming of one attribute is the same attribute.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("SN", "2.5.4.4"),
    ("SERIALNUMBER", "2.5.4.5"),
    ("C", "2.5.4.6"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("STREET", "2.5.4.9"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("TITLE", "2.5.4.12"),
    ("POSTALCODE", "2.5.4.17"),
    ("GN", "2.5.4.42"),
    ("GIVENNAME", "2.5.4.42"),
    ("INITIALS", "2.5.4.43"),
    ("DNQUALIFIER", "2.5.4.46"),
    ("EMAIL", "1.2.840.113549.1.9.1"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("DC", "0.9.2342.19200300.100.1.25"),
];

/// Whether marshal's RFC 4514 text names the same attributes with the same
/// values as cryptography read, RDN by RDN. Formatting choices that do not
/// count: short name or dotted OID for an attribute; which characters are
/// escaped and how (RFC 4514 allows `\c` and `\hh`); and an attribute
/// printed as `OID=#<DER hex>` instead of text, which RFC 4514 allows for
/// any value (then the DER must be the certificate's own).
pub(crate) fn names_agree(marshal: &str, python: &Value) -> Result<(), String> {
    let python: Vec<Vec<&Value>> = python
        .as_array()
        .ok_or("no name")?
        .iter()
        .map(|rdn| {
            rdn.as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default()
        })
        .collect();
    let mut printed = parse_rfc4514(marshal)?;
    // RFC 4514 prints the last RDN first.
    printed.reverse();
    if python.len() != printed.len() {
        return Err(format!("{} RDNs against {}", python.len(), printed.len()));
    }
    for (p_rdn, m_rdn) in python.iter().zip(&printed) {
        if p_rdn.len() != m_rdn.len() {
            return Err("different attribute counts in an RDN".into());
        }
        for (p, (key, value)) in p_rdn.iter().zip(m_rdn) {
            let oid = SHORT_NAMES
                .iter()
                .find(|(short, _)| short.eq_ignore_ascii_case(key))
                .map_or(key.as_str(), |(_, oid)| oid);
            if p["oid"].as_str() != Some(oid) {
                return Err(format!("attribute {key} is not {}", p["oid"]));
            }
            let same = match value {
                Printed::Der(hex) => p["der"].as_str() == Some(hex.as_str()),
                Printed::Text(text) => p["text"].as_str() == Some(text.as_str()),
            };
            if !same {
                return Err(format!("{key}: {value:?} is not {p}"));
            }
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Printed {
    Text(String),
    Der(String),
}

/// RDNs (in printed order) of attribute `(key, value)`s, unescaped.
fn parse_rfc4514(s: &str) -> Result<Vec<Vec<(String, Printed)>>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut rdns = vec![Vec::new()];
    let (mut key, mut value, mut in_value, mut hex_form) =
        (String::new(), Vec::<u8>::new(), false, false);
    let finish = |rdns: &mut Vec<Vec<(String, Printed)>>,
                  key: &mut String,
                  value: &mut Vec<u8>,
                  hex: bool| {
        let text = String::from_utf8_lossy(value).into_owned();
        let printed = if hex {
            Printed::Der(text.trim_start_matches('#').to_ascii_lowercase())
        } else {
            Printed::Text(text)
        };
        rdns.last_mut()
            .unwrap()
            .push((std::mem::take(key), printed));
        value.clear();
    };
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\\' if in_value => {
                let next = bytes.get(i + 1).ok_or("a trailing backslash")?;
                let hex_pair = bytes.get(i + 1..i + 3).and_then(|p| {
                    std::str::from_utf8(p)
                        .ok()
                        .and_then(|p| u8::from_str_radix(p, 16).ok())
                });
                if let Some(byte) = hex_pair.filter(|_| next.is_ascii_hexdigit()) {
                    value.push(byte);
                    i += 3;
                } else {
                    value.push(*next);
                    i += 2;
                }
                continue;
            }
            b'=' if !in_value => {
                in_value = true;
                hex_form = bytes.get(i + 1) == Some(&b'#');
            }
            b',' | b'+' if in_value => {
                finish(&mut rdns, &mut key, &mut value, hex_form);
                in_value = false;
                if c == b',' {
                    rdns.push(Vec::new());
                }
            }
            _ if in_value => value.push(c),
            _ => key.push(char::from(c)),
        }
        i += 1;
    }
    if !in_value {
        return Err(format!("{s:?} does not end in a value"));
    }
    finish(&mut rdns, &mut key, &mut value, hex_form);
    Ok(rdns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_parse_with_escapes_and_hex() {
        let rdns = parse_rfc4514(r"CN=a\,b\2cc+UID=x,1.2.3=#0C0178,O=\#x\ ").unwrap();
        assert_eq!(
            rdns,
            vec![
                vec![
                    ("CN".to_owned(), Printed::Text("a,b,c".into())),
                    ("UID".to_owned(), Printed::Text("x".into()))
                ],
                vec![("1.2.3".to_owned(), Printed::Der("0c0178".into()))],
                vec![("O".to_owned(), Printed::Text("#x ".into()))],
            ]
        );
    }

    #[test]
    fn names_compare_in_encoding_order() {
        let python = json!([
            [{"oid": "2.5.4.6", "text": "US", "der": "13025553"}],
            [{"oid": "2.5.4.3", "text": "x", "der": "0c0178"}],
        ]);
        assert_eq!(names_agree("CN=x,C=US", &python), Ok(()));
        assert_eq!(names_agree("2.5.4.3=#0c0178,C=US", &python), Ok(()));
        assert!(names_agree("C=US,CN=x", &python).is_err());
        assert!(names_agree("CN=y,C=US", &python).is_err());
    }
}
