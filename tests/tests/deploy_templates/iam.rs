//! The IAM checker: every policy statement of a CloudFormation template (in
//! the long form cfn-lint's loader gives) measured against the AWS calls the
//! API makes, for each of a few deployments (parameter values) the template
//! accepts. Findings are sentences naming the template path, so a failing
//! test says exactly which statement grants what.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::intrinsics::{Deployment, deploy};

/// Which resources a statement may name for an action: the narrowest the
/// Service Authorization Reference allows ("Actions defined by AWS IoT",
/// cfn-lint's `data/AdditionalSpecs/Policies.json` has the same table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The action has no resource type: only `"*"` works.
    Any,
    /// `arn:${AWS::Partition}:iot:<region>:${AWS::AccountId}:cert/*`
    Cert,
    /// `...:policy/<name>` for each name of the `AllowedPolicyNames`
    /// parameter, and no other policy (M3).
    PolicyNames,
    /// `...:thing/*`
    Thing,
    /// Exactly this template parameter (`{"Ref": "<name>"}`): the role ARNs
    /// the deploying engineer lists. A call into another account's role:
    /// the hub is granted it there, and the target role's trust allows it
    /// for the hub.
    Parameter(&'static str),
    /// One of these DynamoDB tables of the same template (the hub's own
    /// records): `"<name>"` as `{"Fn::GetAtt": ["<name>", "Arn"]}`, or
    /// `"<name>/index/<index>"` as `{"Fn::Sub": "${<name>.Arn}/index/<index>"}`.
    Tables(&'static [&'static str]),
    /// Exactly this `{"Fn::Sub": "..."}` (an ARN of the stack's own account
    /// and region, named by a parameter).
    Sub(&'static str),
    /// Only these resources of the same template: `"<name>"` as
    /// `{"Fn::GetAtt": ["<name>", "Arn"]}`, `"${...}"` as exactly that
    /// `{"Fn::Sub": "..."}` (e.g. a prefix of the template's bucket).
    Own(&'static [&'static str]),
}

impl Scope {
    /// Only the hub's own role may be granted it.
    fn hub_only(self) -> bool {
        matches!(
            self,
            Scope::Parameter(_) | Scope::Tables(_) | Scope::Sub(_) | Scope::Own(_)
        )
    }
}

/// The parameter naming the IoT policies the templates let the API touch.
const POLICY_NAMES: &str = "AllowedPolicyNames";

/// The parameter naming the regions IoT calls are allowed in.
const REGIONS: &str = "AllowedRegions";

/// One AWS call of the API and the IAM action that allows it.
#[derive(Debug)]
pub(crate) struct ApiCall {
    /// The SDK method (`client.<sdk>()`) in `lambda/src/aws/`.
    pub(crate) sdk: &'static str,
    /// The IAM action.
    pub(crate) action: &'static str,
    /// The resources a statement may name for it.
    pub(crate) scope: Scope,
}

/// What the function needs besides the API's calls: writing its own logs.
const PLUMBING: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

/// What Lambda's SQS event source does with the worker's role besides the
/// receive and delete the local poller makes too: read the queue's settings.
const EVENT_SOURCE: &[&str] = &["sqs:GetQueueAttributes"];

/// What a template is for, which decides the rules its roles follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// template.yaml: the function's role may assume target roles and, for
    /// its own account, make the IoT calls.
    Hub,
    /// deploy/target-role.yaml: a role the hub assumes, IoT calls only.
    Target,
}

/// Every way `template` grants more than `calls` need, or less, when
/// deployed with each of `deployments` (parameter name, value); empty when
/// it grants exactly what the API needs.
pub(crate) fn check(
    template: &Value,
    kind: Kind,
    calls: &[ApiCall],
    deployments: &[&[(&str, &str)]],
) -> Vec<String> {
    let mut findings: Vec<String> = Vec::new();
    for given in deployments {
        let deployment = match deploy(template, given) {
            Ok(deployment) => deployment,
            Err(refused) => {
                findings.push(format!(
                    "template: the deployment {given:?} is refused: {}",
                    refused.join("; ")
                ));
                continue;
            }
        };
        for finding in check_deployment(template, kind, calls, &deployment) {
            if !findings.contains(&finding) {
                findings.push(finding);
            }
        }
    }
    findings
}

fn check_deployment(
    template: &Value,
    kind: Kind,
    calls: &[ApiCall],
    deployment: &Deployment,
) -> Vec<String> {
    let empty = Map::new();
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let allowed_policies = deployment
        .parameter(POLICY_NAMES)
        .map(|names| names.strings().join(","))
        .unwrap_or_default()
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let mut checker = Checker {
        calls,
        deployment,
        allowed_policies,
        parameters: template
            .get("Parameters")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        tables: resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
            .map(|(name, _)| name.clone())
            .collect(),
        findings: Vec::new(),
        granted: BTreeSet::new(),
        policy_names: BTreeMap::new(),
        trusted: BTreeSet::new(),
        trusted_with_external_id: false,
    };
    for (name, resource) in resources {
        checker.resource(name, resource);
    }
    checker.whole_template(kind);
    checker.findings
}

struct Checker<'a> {
    calls: &'a [ApiCall],
    deployment: &'a Deployment,
    /// The names `AllowedPolicyNames` gives in this deployment.
    allowed_policies: BTreeSet<String>,
    parameters: BTreeSet<String>,
    /// Logical IDs of the template's DynamoDB tables.
    tables: BTreeSet<String>,
    findings: Vec<String>,
    /// API actions granted by some identity policy.
    granted: BTreeSet<String>,
    /// The IoT policy names each action is granted on.
    policy_names: BTreeMap<String, BTreeSet<String>>,
    /// Actions some trust statement allows the hub.
    trusted: BTreeSet<String>,
    /// Some role lets the hub `sts:AssumeRole` only with an ExternalId.
    trusted_with_external_id: bool,
}

impl Checker<'_> {
    fn find(&mut self, at: &str, what: impl std::fmt::Display) {
        self.findings.push(format!("{at}: {what}"));
    }

    fn resource(&mut self, name: &str, resource: &Value) {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        let at = format!("Resources.{name}");
        match kind {
            "AWS::IAM::Role" => {
                if properties.get("ManagedPolicyArns").is_some() {
                    self.find(
                        &at,
                        "ManagedPolicyArns: managed policies cannot be checked here; write the statements inline",
                    );
                }
                match properties.get("AssumeRolePolicyDocument") {
                    Some(document) => {
                        for (i, s) in statements(document) {
                            self.trust(&format!("{at}.AssumeRolePolicyDocument.Statement[{i}]"), s);
                        }
                    }
                    None => self.find(&at, "a role without a trust policy"),
                }
                for (p, policy) in indexed(properties.get("Policies")) {
                    for (i, s) in statements(policy.get("PolicyDocument").unwrap_or(&Value::Null)) {
                        self.permission(&format!("{at}.Policies[{p}].Statement[{i}]"), s);
                    }
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy" => {
                for (i, s) in statements(properties.get("PolicyDocument").unwrap_or(&Value::Null)) {
                    self.permission(&format!("{at}.PolicyDocument.Statement[{i}]"), s);
                }
            }
            "AWS::Serverless::Function" => {
                if properties.get("Role").is_none() {
                    self.find(&at, "no Role: SAM would generate one this test cannot see");
                }
                if properties.get("Policies").is_some() {
                    self.find(
                        &at,
                        "Policies: give the function's role its statements instead",
                    );
                }
            }
            "AWS::S3::BucketPolicy" => {
                for (i, s) in statements(properties.get("PolicyDocument").unwrap_or(&Value::Null)) {
                    self.bucket(&format!("{at}.PolicyDocument.Statement[{i}]"), s);
                }
            }
            _ => {}
        }
    }

    /// Rules for every statement: nothing inverted, no action wildcard in an Allow.
    fn common(&mut self, at: &str, statement: &Value) -> bool {
        for key in ["NotAction", "NotResource", "NotPrincipal"] {
            if statement.get(key).is_some() {
                self.find(at, format!("{key} grants everything it does not name"));
            }
        }
        let allow = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        if allow {
            for action in strings(statement.get("Action")) {
                if action.contains('*') || action.contains('?') {
                    self.find(at, format!("wildcard action {action}"));
                }
            }
        }
        allow
    }

    fn trust(&mut self, at: &str, statement: &Value) {
        if !self.common(at, statement) {
            return;
        }
        let actions = strings(statement.get("Action"));
        let principal = statement.get("Principal").unwrap_or(&Value::Null);
        if let Some(service) = principal.get("Service") {
            if actions != ["sts:AssumeRole"] {
                self.find(at, "a trust statement must allow exactly sts:AssumeRole");
            }
            if strings(Some(service)) != ["lambda.amazonaws.com"] {
                self.find(at, format!("trusts services {service}"));
            }
        } else if let Some(aws) = principal.get("AWS") {
            if !self.is_parameter(aws) {
                self.find(
                    at,
                    format!("trusts {aws}: only a role ARN from a parameter may be trusted"),
                );
            }
            let hub_calls: Vec<&str> = self
                .calls
                .iter()
                .filter(|c| matches!(c.scope, Scope::Parameter(_)))
                .map(|c| c.action)
                .collect();
            for action in &actions {
                if hub_calls.contains(&action.as_str()) {
                    self.trusted.insert(action.clone());
                } else {
                    self.find(
                        at,
                        format!(
                            "trusts the hub with {action}: a trust may allow only {hub_calls:?}"
                        ),
                    );
                }
            }
            if actions.iter().any(|a| a == "sts:AssumeRole") {
                let external_id = statement
                    .pointer("/Condition/StringEquals/sts:ExternalId")
                    .filter(|v| self.is_parameter(v));
                match external_id {
                    Some(_) => self.trusted_with_external_id = true,
                    None => self.find(
                        at,
                        "trusts another account without a StringEquals sts:ExternalId condition from a parameter",
                    ),
                }
            }
        } else {
            self.find(at, format!("trusts {principal}"));
        }
    }

    fn permission(&mut self, at: &str, statement: &Value) {
        if !self.common(at, statement) {
            return;
        }
        let resources: Vec<&Value> = statement
            .get("Resource")
            .map(alternatives)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|r| match r {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            })
            .collect();
        if resources.is_empty() {
            self.find(at, "no Resource");
        }
        for action in strings(statement.get("Action")) {
            if let Some(call) = self.calls.iter().find(|c| c.action == action) {
                for resource in &resources {
                    match self.fits(call.scope, resource) {
                        Ok(names) => {
                            if call.scope == Scope::PolicyNames {
                                self.policy_names
                                    .entry(action.clone())
                                    .or_default()
                                    .extend(names);
                            }
                        }
                        Err(why) => self.find(
                            at,
                            format!(
                                "{action} on {resource}, wider than {:?} allows{why}",
                                call.scope
                            ),
                        ),
                    }
                }
                if action.starts_with("iot:") && !self.in_allowed_regions(statement) {
                    self.find(
                        at,
                        format!(
                            "{action} without a StringEquals aws:RequestedRegion condition on {REGIONS}"
                        ),
                    );
                }
                self.granted.insert(action);
            } else if EVENT_SOURCE.contains(&action.as_str()) {
                let own_queue = resources.iter().all(|r| {
                    r.pointer("/Fn::GetAtt/1").and_then(Value::as_str) == Some("Arn")
                        && r.pointer("/Fn::GetAtt/0")
                            .and_then(Value::as_str)
                            .is_some_and(|name| name.ends_with("Queue"))
                });
                if !own_queue {
                    self.find(at, format!("{action} beyond the stack's own queue"));
                }
            } else if PLUMBING.contains(&action.as_str()) {
                let own_log_group = resources.iter().all(|r| {
                    r.pointer("/Fn::GetAtt/1").and_then(Value::as_str) == Some("Arn")
                        && r.pointer("/Fn::GetAtt/0")
                            .and_then(Value::as_str)
                            .is_some_and(|name| name.ends_with("LogGroup"))
                });
                if !own_log_group {
                    self.find(at, format!("{action} beyond the stack's own log group"));
                }
            } else {
                self.find(at, format!("{action} is not an AWS call of the API"));
            }
        }
    }

    fn bucket(&mut self, at: &str, statement: &Value) {
        if !self.common(at, statement) {
            return;
        }
        if strings(statement.get("Action")) != ["s3:GetObject"] {
            self.find(at, "a bucket policy may allow only s3:GetObject");
        }
        let service = statement
            .pointer("/Principal/Service")
            .and_then(Value::as_str);
        let source = statement.pointer("/Condition/StringEquals/AWS:SourceArn");
        if service != Some("cloudfront.amazonaws.com") || source.is_none() {
            self.find(
                at,
                "a bucket policy may allow only CloudFront, for one distribution (AWS:SourceArn)",
            );
        }
    }

    /// Whether `resource` is no wider than `scope`: the IoT policy names it
    /// grants (for [`Scope::PolicyNames`]), or why it is wider.
    fn fits(&self, scope: Scope, resource: &Value) -> Result<BTreeSet<String>, String> {
        let only_if = |holds: bool, why: String| if holds { Ok(BTreeSet::new()) } else { Err(why) };
        let kind = match scope {
            Scope::Any => return only_if(resource == "*", String::new()),
            Scope::Parameter(name) => {
                let exact = self.parameters.contains(name)
                    && resource.get("Ref").and_then(Value::as_str) == Some(name);
                return only_if(exact, String::new());
            }
            Scope::Sub(arn) => {
                return only_if(
                    resource.get("Fn::Sub") == Some(&serde_json::json!(arn)),
                    format!(" (only {arn})"),
                );
            }
            Scope::Tables(names) => {
                let fits = names.iter().any(|name| match name.split_once("/index/") {
                    None => {
                        resource.get("Fn::GetAtt") == Some(&serde_json::json!([name, "Arn"]))
                            && self.tables.contains(*name)
                    }
                    Some((table, index)) => {
                        resource.get("Fn::Sub")
                            == Some(&serde_json::json!(format!(
                                "${{{table}.Arn}}/index/{index}"
                            )))
                            && self.tables.contains(table)
                    }
                });
                return only_if(
                    fits,
                    format!(" (only the DynamoDB tables and indexes {names:?} of this template)"),
                );
            }
            Scope::Own(names) => {
                let fits = names.iter().any(|name| {
                    if name.starts_with("${") {
                        resource.get("Fn::Sub") == Some(&serde_json::json!(name))
                    } else {
                        resource.get("Fn::GetAtt") == Some(&serde_json::json!([name, "Arn"]))
                    }
                });
                return only_if(fits, format!(" (only {names:?} of this template)"));
            }
            Scope::Cert => "cert",
            Scope::PolicyNames => "policy",
            Scope::Thing => "thing",
        };
        let arns = self
            .deployment
            .resolve(resource)
            .map_err(|e| format!(" ({e})"))?
            .strings();
        let mut names = BTreeSet::new();
        for arn in arns {
            let name = ["*", "${AWS::Region}"].iter().find_map(|region| {
                arn.strip_prefix(&format!(
                    "arn:${{AWS::Partition}}:iot:{region}:${{AWS::AccountId}}:{kind}/"
                ))
            });
            match (scope, name) {
                (Scope::Cert | Scope::Thing, Some("*")) => {}
                // Policy names are 1 to 128 characters: "policy/" names none.
                (Scope::PolicyNames, Some("")) => {}
                (Scope::PolicyNames, Some(name)) if self.allowed_policies.contains(name) => {
                    names.insert(name.to_owned());
                }
                (Scope::PolicyNames, _) => {
                    return Err(format!(" ({arn} is not a policy of {POLICY_NAMES})"));
                }
                _ => return Err(format!(" ({arn})")),
            }
        }
        Ok(names)
    }

    /// The statement applies only in the regions of `AllowedRegions` (M3).
    fn in_allowed_regions(&self, statement: &Value) -> bool {
        statement
            .pointer("/Condition/StringEquals/aws:RequestedRegion")
            .is_some_and(|v| {
                v.get("Ref").and_then(Value::as_str) == Some(REGIONS) && self.is_parameter(v)
            })
    }

    fn is_parameter(&self, value: &Value) -> bool {
        value
            .get("Ref")
            .and_then(Value::as_str)
            .is_some_and(|name| self.parameters.contains(name))
    }

    fn whole_template(&mut self, kind: Kind) {
        let wanted: BTreeSet<String> = self
            .calls
            .iter()
            .filter(|c| kind == Kind::Hub || !c.scope.hub_only())
            .map(|c| c.action.to_owned())
            .collect();
        for missing in wanted.difference(&self.granted) {
            self.findings.push(format!(
                "template: {missing} is needed by the API but never granted"
            ));
        }
        // Every policy the configuration may name must be reachable, or the
        // API fails on it with access denied.
        for (action, granted) in &self.policy_names {
            for missing in self.allowed_policies.difference(granted) {
                self.findings.push(format!(
                    "template: {action} never reaches policy/{missing}, which {POLICY_NAMES} lists"
                ));
            }
        }
        if kind == Kind::Target {
            if !self.trusted_with_external_id {
                self.findings
                    .push("template: no role is trusted by the hub with an ExternalId".into());
            }
            for call in self.calls.iter().filter(|c| c.scope.hub_only()) {
                if self.granted.contains(call.action) {
                    self.findings
                        .push(format!("template: a target role must not {}", call.action));
                }
                if matches!(call.scope, Scope::Parameter(_)) && !self.trusted.contains(call.action)
                {
                    self.findings.push(format!(
                        "template: no trust statement allows the hub {}, which the API's AssumeRole needs",
                        call.action
                    ));
                }
            }
        }
    }
}

/// The statements of a policy document with their indexes.
fn statements(document: &Value) -> Vec<(usize, &Value)> {
    indexed(document.get("Statement"))
}

/// The items of a list (or the one value) with their indexes, a conditional
/// (`Fn::If`) item once per branch.
fn indexed(list: Option<&Value>) -> Vec<(usize, &Value)> {
    let items: Vec<&Value> = match list {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    items
        .into_iter()
        .enumerate()
        .flat_map(|(i, item)| alternatives(item).into_iter().map(move |item| (i, item)))
        .collect()
}

/// Every value `value` can take: both branches of `Fn::If` (recursively),
/// without `AWS::NoValue`. Lists are expanded element by element.
pub(crate) fn alternatives(value: &Value) -> Vec<&Value> {
    if let Some([_, yes, no]) = value
        .get("Fn::If")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return [yes, no].into_iter().flat_map(alternatives).collect();
    }
    if value.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") {
        return Vec::new();
    }
    match value {
        Value::Array(items) => items.iter().flat_map(alternatives).collect(),
        other => vec![other],
    }
}

/// A string-or-list field (`Action`, `Service`) as strings; anything that is
/// not a plain string shows as its JSON, so it never passes a comparison.
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .map(alternatives)
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect()
}
