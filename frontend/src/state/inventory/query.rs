//! The inventory's query string: filters as typed → `GET /v1/certificates?…`,
//! every value percent-encoded (RFC 3986: only unreserved characters stay).

pub use crate::auth::percent_encode;

/// The most rows one page asks for (the API allows 1 to 100).
pub const PAGE_SIZE: usize = 100;

/// A search the API understands; `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryQuery {
    pub target: Option<String>,
    pub thing: Option<String>,
    /// RFC 3339, midnight UTC of the chosen date.
    pub expires_before: Option<String>,
    pub registered_by: Option<String>,
}

impl InventoryQuery {
    /// The path and query of one page: the first (`cursor` `None`) or the one after `cursor`.
    pub fn path(&self, cursor: Option<&str>) -> String {
        let mut path = String::from("/v1/certificates?");
        let limit = PAGE_SIZE.to_string();
        let pairs = [
            ("target", self.target.as_deref()),
            ("thing", self.thing.as_deref()),
            ("expiresBefore", self.expires_before.as_deref()),
            ("registeredBy", self.registered_by.as_deref()),
            ("cursor", cursor),
            ("limit", Some(limit.as_str())),
        ];
        let mut first = true;
        for (name, value) in pairs {
            let Some(value) = value else { continue };
            if !first {
                path.push('&');
            }
            first = false;
            path.push_str(name);
            path.push('=');
            path.push_str(&percent_encode(value));
        }
        path
    }
}
