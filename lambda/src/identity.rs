//! Who is calling: claims of API Gateway's JWT authorizer, or nobody in the
//! loopback-only `auth = "none"` mode.

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
}

impl Caller {
    /// The caller for `auth = "none"`.
    pub fn local() -> Caller {
        Caller {
            subject: "local".into(),
            username: None,
            groups: BTreeSet::new(),
            unrestricted: true,
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
                let subject = claims.get("sub")?.clone();
                let username = ["username", "cognito:username", "email"]
                    .iter()
                    .find_map(|k| claims.get(*k).cloned());
                let groups = ["cognito:groups", "groups"]
                    .iter()
                    .find_map(|k| claims.get(*k))
                    .map(|g| parse_groups(g))
                    .unwrap_or_default();
                Some(Caller {
                    subject,
                    username,
                    groups,
                    unrestricted: false,
                })
            }
        }
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

    /// The AssumeRole session name: `marshal-<caller>`, limited to
    /// `[\w+=,.@-]` and 64 characters as STS requires.
    pub fn session_name(&self) -> String {
        let cleaned: String = self
            .display()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut name = format!("marshal-{cleaned}");
        name.truncate(64);
        name
    }
}

/// API Gateway passes list claims as `[a b]` or `["a","b"]`; tokens may also use commas.
fn parse_groups(raw: &str) -> BTreeSet<String> {
    raw.trim_matches(|c| c == '[' || c == ']')
        .split([' ', ','])
        .map(|g| g.trim_matches('"').trim())
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_every_shape_api_gateway_sends() {
        let want: BTreeSet<String> = ["factory", "admin"].map(String::from).into();
        for raw in [
            "[factory admin]",
            "[\"factory\",\"admin\"]",
            "factory,admin",
            "factory admin",
        ] {
            assert_eq!(parse_groups(raw), want, "{raw}");
        }
        assert!(parse_groups("[]").is_empty());
    }

    #[test]
    fn session_names_are_sts_safe() {
        let mut caller = Caller::local();
        caller.username = Some("Jane Doe/ops@example.com".into());
        assert_eq!(caller.session_name(), "marshal-Jane-Doe-ops@example.com");
        caller.username = Some("x".repeat(100));
        assert_eq!(caller.session_name().len(), 64);
    }
}
