//! Least-privilege AWS IoT policy documents for devices registered by Marshal.
//!
//! A device may connect only with its own thing name as client ID and only
//! while its certificate is attached to that thing, and may publish, subscribe
//! and receive only under `<prefix>/<thing name>/`. Nothing here grants
//! `iot:*` or a `"*"` resource.

use serde::Serialize;

use crate::error::{Error, Result};

/// The policy variable AWS IoT replaces with the connected thing's name.
pub const THING_NAME_VARIABLE: &str = "${iot:Connection.Thing.ThingName}";

/// Default topic prefix.
pub const DEFAULT_TOPIC_PREFIX: &str = "devices";

/// Inputs of a device policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTemplate {
    /// Topics live under `<prefix>/<thing name>/`.
    pub topic_prefix: String,
    /// Region in resource ARNs; `None` writes `*` (the policy only ever applies in its own region).
    pub region: Option<String>,
    /// Account in resource ARNs; `None` writes `*` (likewise).
    pub account_id: Option<String>,
    /// Also allow the thing's own device shadow topics.
    pub allow_shadow: bool,
}

impl Default for PolicyTemplate {
    fn default() -> Self {
        PolicyTemplate {
            topic_prefix: DEFAULT_TOPIC_PREFIX.to_owned(),
            region: None,
            account_id: None,
            allow_shadow: false,
        }
    }
}

/// An IAM-style policy document as AWS IoT takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub version: &'static str,
    /// The statements.
    pub statement: Vec<Statement>,
}

/// One Allow statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Always `Allow`.
    pub effect: &'static str,
    /// IoT actions, never `iot:*`.
    pub action: Vec<&'static str>,
    /// Resource ARNs, never `*`.
    pub resource: Vec<String>,
    /// Optional condition block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

impl PolicyTemplate {
    /// Checks the prefix (no MQTT wildcards or policy variables) and ARN parts.
    pub fn validate(&self) -> Result<()> {
        let p = &self.topic_prefix;
        let bad = |why: &str| Err(Error::InvalidRequest(format!("topic prefix \"{p}\" {why}")));
        if p.is_empty() || p.len() > 100 {
            return bad("must be 1 to 100 characters");
        }
        if p.starts_with('/') || p.ends_with('/') || p.contains("//") {
            return bad("must not start or end with '/' or contain empty levels");
        }
        if p.starts_with('$') {
            return bad("must not start with '$' (reserved topics)");
        }
        if p.chars().any(|c| {
            matches!(c, '#' | '+' | '*' | '?' | '{' | '}') || c.is_control() || c.is_whitespace()
        }) {
            return bad(
                "must not contain MQTT or policy wildcards (# + * ?), braces, spaces or control characters",
            );
        }
        if let Some(region) = &self.region {
            crate::validate::region(region).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        }
        if let Some(account) = &self.account_id {
            crate::validate::account_id(account)
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        }
        Ok(())
    }

    /// Builds the policy document.
    pub fn document(&self) -> Result<PolicyDocument> {
        self.validate()?;
        let region = self.region.as_deref().unwrap_or("*");
        let account = self.account_id.as_deref().unwrap_or("*");
        let partition = match region {
            r if r.starts_with("cn-") => "aws-cn",
            r if r.starts_with("us-gov-") => "aws-us-gov",
            _ => "aws",
        };
        let arn = |kind: &str, rest: &str| {
            format!("arn:{partition}:iot:{region}:{account}:{kind}/{rest}")
        };
        let own = format!("{}/{THING_NAME_VARIABLE}", self.topic_prefix);
        let shadow = format!("$aws/things/{THING_NAME_VARIABLE}/shadow");

        let mut topics = vec![arn("topic", &format!("{own}/*"))];
        let mut filters = vec![arn("topicfilter", &format!("{own}/*"))];
        if self.allow_shadow {
            topics.push(arn("topic", &format!("{shadow}/*")));
            filters.push(arn("topicfilter", &format!("{shadow}/*")));
        }
        Ok(PolicyDocument {
            version: "2012-10-17",
            statement: vec![
                Statement {
                    effect: "Allow",
                    action: vec!["iot:Connect"],
                    resource: vec![arn("client", THING_NAME_VARIABLE)],
                    condition: Some(serde_json::json!({
                        "Bool": { "iot:Connection.Thing.IsAttached": "true" }
                    })),
                },
                Statement {
                    effect: "Allow",
                    action: vec!["iot:Publish", "iot:Receive"],
                    resource: topics,
                    condition: None,
                },
                Statement {
                    effect: "Allow",
                    action: vec!["iot:Subscribe"],
                    resource: filters,
                    condition: None,
                },
            ],
        })
    }

    /// The policy document as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.document()?)
            .map_err(|e| Error::crypto("policy document", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(doc: &PolicyDocument) -> Vec<&str> {
        doc.statement
            .iter()
            .flat_map(|s| s.resource.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn default_policy_is_least_privilege() {
        let doc = PolicyTemplate::default().document().unwrap();
        let json = serde_json::to_string(&doc).unwrap();
        assert!(!json.contains("\"iot:*\""));
        assert!(
            resources(&doc)
                .iter()
                .all(|r| *r != "*" && r.contains(THING_NAME_VARIABLE))
        );
        assert!(json.contains("iot:Connection.Thing.IsAttached"));
        expect_test::expect![[r#"
            arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}
            arn:aws:iot:*:*:topic/devices/${iot:Connection.Thing.ThingName}/*
            arn:aws:iot:*:*:topicfilter/devices/${iot:Connection.Thing.ThingName}/*"#]]
        .assert_eq(&resources(&doc).join("\n"));
    }

    #[test]
    fn scoped_to_account_region_and_shadow() {
        let doc = PolicyTemplate {
            topic_prefix: "factory/line-1".into(),
            region: Some("cn-north-1".into()),
            account_id: Some("111111111111".into()),
            allow_shadow: true,
        }
        .document()
        .unwrap();
        let all = resources(&doc).join("\n");
        assert!(all.contains("arn:aws-cn:iot:cn-north-1:111111111111:topic/factory/line-1/${iot:Connection.Thing.ThingName}/*"));
        assert!(all.contains("topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"));
    }

    #[test]
    fn refuses_wildcard_prefixes() {
        for bad in [
            "",
            "#",
            "a/+",
            "*",
            "a/",
            "/a",
            "a//b",
            "$aws",
            "a b",
            "${iot:ClientId}",
        ] {
            let t = PolicyTemplate {
                topic_prefix: bad.into(),
                ..PolicyTemplate::default()
            };
            assert!(t.document().is_err(), "{bad:?} should be refused");
        }
    }
}
