//! Who is calling: claims of API Gateway's JWT authorizer, or of a token
//! the local server verified (`jwt`), or nobody in the loopback-only
//! `auth = "none"` mode.

use std::collections::BTreeSet;

use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::config::{AuthMode, Target};

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// JWT `sub`, or `local` without auth.
    pub subject: String,
    /// A human name when the token has one (`username`, `cognito:username`, `email`).
    pub username: Option<String>,
    /// Groups (`cognito:groups` or `groups`).
    pub groups: BTreeSet<String>,
    /// `auth = "none"`: every target is allowed.
    pub unrestricted: bool,
    /// The request this caller is making (the ledger names it).
    pub request_id: String,
}

impl Caller {
    /// The caller for `auth = "none"`.
    pub fn local() -> Caller {
        Caller {
            subject: "local".into(),
            username: None,
            groups: BTreeSet::new(),
            unrestricted: true,
            request_id: String::new(),
        }
    }

    /// Reads the caller from the request, or `None` when it carries no identity.
    pub fn from_parts(parts: &Parts, mode: AuthMode) -> Option<Caller> {
        match mode {
            AuthMode::None => Some(Caller::local()),
            AuthMode::Jwt => {
                let RequestContext::ApiGatewayV2(ctx) = parts.extensions.get::<RequestContext>()?
                else {
                    return None;
                };
                let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
                Caller::from_claims(|name| claims.get(name).cloned())
            }
        }
    }

    /// The caller of a token the local server verified (`jwt`): the same
    /// claims as API Gateway passes, read the same way. Strings as they
    /// are; an array (`groups`) as its JSON text, which [`parse_groups`]
    /// reads as its strings.
    pub fn from_verified(claims: &serde_json::Map<String, serde_json::Value>) -> Option<Caller> {
        Caller::from_claims(|name| match claims.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    /// The caller named by the claims `claim` reads: `sub`, a username
    /// (`username`, `cognito:username`, `email`) and groups
    /// (`cognito:groups`, `groups`).
    fn from_claims(claim: impl Fn(&str) -> Option<String>) -> Option<Caller> {
        let subject = claim("sub").filter(|s| !s.is_empty())?;
        let username = ["username", "cognito:username", "email"]
            .iter()
            .find_map(|k| claim(k));
        let groups = ["cognito:groups", "groups"]
            .iter()
            .find_map(|k| claim(k))
            .map(|g| parse_groups(&g))
            .unwrap_or_default();
        Some(Caller {
            subject,
            username,
            groups,
            unrestricted: false,
            request_id: String::new(),
        })
    }

    /// Whether this caller may use `target`.
    pub fn may_use(&self, target: &Target) -> bool {
        match &target.allowed_groups {
            None => true,
            Some(_) if self.unrestricted => true,
            Some(allowed) => allowed.iter().any(|g| self.groups.contains(g)),
        }
    }

    /// Whether this caller administers `target` (its `adminGroups`; with
    /// `auth = "none"`, the local caller administers every target).
    pub fn is_admin(&self, target: &Target) -> bool {
        self.unrestricted || target.admin_groups.iter().any(|g| self.groups.contains(g))
    }

    /// A name for logs: the username when known, else the subject.
    pub fn display(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.subject)
    }

    /// The AssumeRole session name, `marshal-<hash>-<name>`: the first 16
    /// hex digits of SHA-256(`sub`), so two callers whose names clean up
    /// alike (`jane doe`, `jane-doe`) stay apart, then [`display`](Self::display)
    /// for people reading CloudTrail; limited to `[\w+=,.@-]` and 64
    /// characters as STS requires.
    pub fn session_name(&self) -> String {
        let hash = hex::encode(marshal_shared::sha256(self.subject.as_bytes()));
        let cleaned: String = self.display().chars().map(sts_char).collect();
        let mut name = format!("marshal-{}-{cleaned}", &hash[..16]);
        // ASCII only (sts_char), so any byte is a character boundary.
        name.truncate(64);
        name
    }

    /// The AssumeRole `SourceIdentity`: the caller's `sub`, which STS keeps
    /// in CloudTrail for every call of the session and which the session
    /// cannot change. A `sub` STS would refuse (outside `[\w+=,.@-]{2,64}`)
    /// becomes `sha256-` and 56 hex digits of its SHA-256.
    pub fn source_identity(&self) -> String {
        let sub = &self.subject;
        if (2..=64).contains(&sub.len()) && sub.chars().all(|c| sts_char(c) == c) {
            return sub.clone();
        }
        let hash = hex::encode(marshal_shared::sha256(sub.as_bytes()));
        format!("sha256-{}", &hash[..56])
    }
}

/// `c` when STS allows it in session names and source identities
/// (`[\w+=,.@-]`, ASCII), else `-`.
fn sts_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
        c
    } else {
        '-'
    }
}

/// The groups of a `groups` / `cognito:groups` claim as API Gateway passes it:
/// a JSON array (`["Factory Admins","ops"]`) is exactly its strings; API
/// Gateway's flattening of an array (`[factory ops]`) is split on whitespace
/// only; anything else is one group.
///
/// The flattened form cannot tell a group named `Factory Admins` from the
/// groups `Factory` and `Admins`, so names with whitespace are never
/// configured (`Config::check`) and names with commas or quotes are never
/// split. Cognito group names cannot contain whitespace.
fn parse_groups(raw: &str) -> BTreeSet<String> {
    let raw = raw.trim();
    if let Ok(groups) = serde_json::from_str::<Vec<String>>(raw) {
        return groups.into_iter().filter(|g| !g.is_empty()).collect();
    }
    let flattened = raw
        .strip_prefix('[')
        .map(|rest| rest.strip_suffix(']').unwrap_or(rest));
    match flattened {
        Some(list) => list.split_whitespace().map(str::to_owned).collect(),
        None if raw.is_empty() => BTreeSet::new(),
        None => BTreeSet::from([raw.to_owned()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|g| (*g).to_owned()).collect()
    }

    #[test]
    fn groups_in_every_shape_api_gateway_sends() {
        for (raw, want) in [
            ("[factory admin]", groups(&["factory", "admin"])),
            ("[factory  \tadmin]", groups(&["factory", "admin"])),
            ("[\"factory\",\"admin\"]", groups(&["factory", "admin"])),
            (
                "[\"Factory Admins\",\"ops\"]",
                groups(&["Factory Admins", "ops"]),
            ),
            ("[ \"Factory Admins\" ]", groups(&["Factory Admins"])),
            ("factory", groups(&["factory"])),
            ("[factory]", groups(&["factory"])),
            // A comma is part of a name (Cognito allows it), not a separator.
            ("ops,prod", groups(&["ops,prod"])),
            ("[ops,prod admin]", groups(&["ops,prod", "admin"])),
            // Not JSON: split as API Gateway's form, quotes kept, so it
            // matches no configured name.
            ("[\"a\",\"b\"", groups(&["\"a\",\"b\""])),
            ("[]", groups(&[])),
            ("", groups(&[])),
        ] {
            assert_eq!(parse_groups(raw), want, "{raw}");
        }
    }

    #[test]
    fn groups_with_spaces_are_not_split_into_other_groups() {
        for raw in [
            "[\"Factory Admins\"]",
            "Factory Admins",
            "[\"ops,Admins\"]",
            "[ops,Admins]",
        ] {
            assert!(!parse_groups(raw).contains("Admins"), "{raw}");
        }
    }

    fn caller(sub: &str, username: Option<&str>) -> Caller {
        Caller {
            subject: sub.into(),
            username: username.map(str::to_owned),
            groups: BTreeSet::new(),
            unrestricted: false,
            request_id: String::new(),
        }
    }

    fn sts_safe(value: &str) -> bool {
        (2..=64).contains(&value.len()) && value.chars().all(|c| sts_char(c) == c)
    }

    #[test]
    fn session_names_are_sts_safe() {
        let sub = "6b1f0f2a-1111-2222-3333-444455556666";
        let hash = &hex::encode(marshal_shared::sha256(sub.as_bytes()))[..16];
        let jane = caller(sub, Some("Jane Doe/ops@example.com"));
        assert_eq!(
            jane.session_name(),
            format!("marshal-{hash}-Jane-Doe-ops@example.com")
        );
        let long = caller(sub, Some(&"x".repeat(100)));
        assert_eq!(long.session_name().len(), 64);
        assert!(
            long.session_name()
                .starts_with(&format!("marshal-{hash}-xxx"))
        );
        for c in [jane, long, caller("ü", Some("名前")), Caller::local()] {
            assert!(sts_safe(&c.session_name()), "{}", c.session_name());
        }
    }

    #[test]
    fn callers_whose_names_clean_up_alike_get_different_sessions() {
        let a = caller("sub-a", Some("jane doe"));
        let b = caller("sub-b", Some("jane-doe"));
        assert_ne!(a.session_name(), b.session_name());
        assert!(a.session_name().ends_with("-jane-doe") && b.session_name().ends_with("-jane-doe"));
    }

    #[test]
    fn source_identity_is_the_sub_or_its_hash() {
        let cognito = "6b1f0f2a-1111-2222-3333-444455556666";
        assert_eq!(caller(cognito, None).source_identity(), cognito);
        assert_eq!(Caller::local().source_identity(), "local");
        for sub in [
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "x",
            &"y".repeat(65),
            "a b",
            "ü-user",
        ] {
            let identity = caller(sub, None).source_identity();
            let hash = hex::encode(marshal_shared::sha256(sub.as_bytes()));
            assert_eq!(identity, format!("sha256-{}", &hash[..56]), "{sub}");
            assert!(sts_safe(&identity), "{identity}");
        }
    }
}
