//! Query strings the API reads: every value percent-encoded (RFC 3986
//! unreserved characters kept), so a filter or a time with `+`, `&`, `#`
//! or spaces reaches the API as typed.

use std::fmt::Write as _;

/// What `GET /v1/certificates` lists; `None` leaves a parameter out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InventoryQuery {
    /// Only this target.
    pub(crate) target: Option<String>,
    /// Only certificates of this thing.
    pub(crate) thing: Option<String>,
    /// Only certificates whose `notAfter` is before this RFC 3339 time.
    pub(crate) expires_before: Option<String>,
    /// Only those registered by this user name or JWT `sub`.
    pub(crate) registered_by: Option<String>,
    /// Where the previous page ended (`nextCursor`).
    pub(crate) cursor: Option<String>,
    /// Entries per page (the API takes 1 to 100; its default is 100).
    pub(crate) limit: Option<u8>,
}

impl InventoryQuery {
    /// `/v1/certificates` with this query.
    pub(crate) fn path(&self) -> String {
        let limit = self.limit.map(|n| n.to_string());
        let parameters = [
            ("target", self.target.as_deref()),
            ("thing", self.thing.as_deref()),
            ("expiresBefore", self.expires_before.as_deref()),
            ("registeredBy", self.registered_by.as_deref()),
            ("cursor", self.cursor.as_deref()),
            ("limit", limit.as_deref()),
        ];
        let mut path = String::from("/v1/certificates");
        let mut separator = '?';
        for (name, value) in parameters {
            if let Some(value) = value {
                let _ = write!(path, "{separator}{name}={}", encode(value));
                separator = '&';
            }
        }
        path
    }
}

/// One query value, percent-encoded: everything but `A-Z a-z 0-9 - _ . ~`.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A comma-separated list for a query string, each item percent-encoded.
pub(crate) fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| encode(item))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_encoded_item_by_item() {
        assert_eq!(
            list(&["a-tokyo".into(), "b virginia".into()]),
            "a-tokyo,b%20virginia"
        );
        assert_eq!(list(&["x,y&z".into()]), "x%2Cy%26z");
    }

    #[test]
    fn values_keep_only_unreserved_characters() {
        assert_eq!(encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            encode("2027-03-31T00:00:00+09:00"),
            "2027-03-31T00%3A00%3A00%2B09%3A00"
        );
        assert_eq!(encode("a b&c=d#e/f?g%"), "a%20b%26c%3Dd%23e%2Ff%3Fg%25");
        assert_eq!(encode("工場"), "%E5%B7%A5%E5%A0%B4");
    }

    #[test]
    fn an_empty_query_is_the_bare_route() {
        assert_eq!(InventoryQuery::default().path(), "/v1/certificates");
    }

    #[test]
    fn every_parameter_is_named_as_the_api_reads_it() {
        let query = InventoryQuery {
            target: Some("a-tokyo".into()),
            thing: Some("line 1&2".into()),
            expires_before: Some("2027-03-31T00:00:00Z".into()),
            registered_by: Some("alice+ops@example.com".into()),
            cursor: Some("a=b/c".into()),
            limit: Some(5),
        };
        assert_eq!(
            query.path(),
            "/v1/certificates?target=a-tokyo&thing=line%201%262\
             &expiresBefore=2027-03-31T00%3A00%3A00Z\
             &registeredBy=alice%2Bops%40example.com&cursor=a%3Db%2Fc&limit=5"
        );
    }

    #[test]
    fn parameters_left_out_leave_no_trace() {
        let query = InventoryQuery {
            thing: Some("sensor-01".into()),
            limit: Some(100),
            ..InventoryQuery::default()
        };
        assert_eq!(query.path(), "/v1/certificates?thing=sensor-01&limit=100");
    }
}
