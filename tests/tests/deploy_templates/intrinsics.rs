//! A template evaluated as CloudFormation would for one set of parameter
//! values: the parameters' constraints and the template's Rules decide
//! whether the deployment is accepted, and the intrinsic functions a policy
//! uses (`Ref`, `Fn::Sub`, `Fn::Join`, `Fn::Split`, `Fn::Select`,
//! `Fn::GetAtt`) resolve to strings. Pseudo parameters stay as
//! `${AWS::AccountId}` and the like, so an ARN reads as it is written.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// What an intrinsic function gives: a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    Str(String),
    List(Vec<String>),
}

impl Resolved {
    /// The strings this value stands for: one, or each of a list.
    pub(crate) fn strings(&self) -> Vec<String> {
        match self {
            Resolved::Str(s) => vec![s.clone()],
            Resolved::List(items) => items.clone(),
        }
    }
}

/// The parameter values of an accepted deployment.
#[derive(Debug)]
pub(crate) struct Deployment {
    values: BTreeMap<String, Resolved>,
}

/// The values CloudFormation would give every parameter when deploying
/// `template` with `given` (name, value as typed), or every reason it would
/// refuse them: a missing value, a broken constraint, a failed Rule.
pub(crate) fn deploy(template: &Value, given: &[(&str, &str)]) -> Result<Deployment, Vec<String>> {
    let empty = Map::new();
    let parameters = template
        .get("Parameters")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut refused = Vec::new();
    for (name, _) in given {
        if !parameters.contains_key(*name) {
            refused.push(format!("Parameters: no parameter {name}"));
        }
    }
    let mut values = BTreeMap::new();
    for (name, parameter) in parameters {
        let value = match given.iter().find(|(n, _)| n == name) {
            Some((_, value)) => (*value).to_owned(),
            None => match parameter.get("Default") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => {
                    refused.push(format!("Parameters.{name}: no value and no default"));
                    continue;
                }
            },
        };
        match constrained(name, parameter, &value) {
            Ok(resolved) => {
                values.insert(name.clone(), resolved);
            }
            Err(why) => refused.push(why),
        }
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    let deployment = Deployment { values };
    let rules = template
        .get("Rules")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, rule) in rules {
        let applies = match rule.get("RuleCondition") {
            Some(condition) => deployment.holds(condition),
            None => Ok(true),
        };
        let assertions = rule.get("Assertions").and_then(Value::as_array);
        let failed = applies.and_then(|applies| {
            let mut failed = Vec::new();
            for assertion in assertions.into_iter().flatten().filter(|_| applies) {
                if !deployment.holds(assertion.get("Assert").unwrap_or(&Value::Null))? {
                    let why = assertion.get("AssertDescription").and_then(Value::as_str);
                    failed.push(format!(
                        "Rules.{name}: {}",
                        why.unwrap_or("(no description)")
                    ));
                }
            }
            Ok(failed)
        });
        match failed {
            Ok(failed) => refused.extend(failed),
            Err(e) => refused.push(format!("Rules.{name}: cannot evaluate: {e}")),
        }
    }
    if refused.is_empty() {
        Ok(deployment)
    } else {
        Err(refused)
    }
}

/// `value` checked against the parameter's constraints, as its `Ref` gives it.
fn constrained(name: &str, parameter: &Value, value: &str) -> Result<Resolved, String> {
    let at = format!("Parameters.{name}");
    let kind = parameter.get("Type").and_then(Value::as_str).unwrap_or("");
    let pattern = match parameter.get("AllowedPattern").and_then(Value::as_str) {
        // CloudFormation matches the whole value, as Java's `matches` does.
        Some(p) => Some(
            regex_lite::Regex::new(&format!("^(?:{p})$"))
                .map_err(|e| format!("{at}: AllowedPattern {p:?} does not compile: {e}"))?,
        ),
        None => None,
    };
    let allowed: Option<Vec<String>> = parameter
        .get("AllowedValues")
        .and_then(Value::as_array)
        .map(|values| values.iter().map(scalar).collect());
    // A CommaDelimitedList's pattern applies to each item, a String's to
    // the whole value.
    let items: Vec<String> = if kind == "CommaDelimitedList" {
        value
            .split(',')
            .map(|item| item.trim().to_owned())
            .collect()
    } else {
        vec![value.to_owned()]
    };
    for item in &items {
        if pattern.as_ref().is_some_and(|p| !p.is_match(item)) {
            return Err(format!("{at}: {item:?} does not match AllowedPattern"));
        }
        let same = |a: &String| a == item || numbers_equal(a, item);
        if allowed.as_ref().is_some_and(|a| !a.iter().any(same)) {
            return Err(format!("{at}: {item:?} is not one of AllowedValues"));
        }
    }
    if kind == "String" {
        let length = value.chars().count() as f64;
        if length < limit(parameter, "MinLength", f64::MIN)
            || length > limit(parameter, "MaxLength", f64::MAX)
        {
            return Err(format!("{at}: {value:?} breaks MinLength or MaxLength"));
        }
    }
    if kind == "Number" {
        let n: f64 = value
            .parse()
            .map_err(|_| format!("{at}: {value:?} is not a number"))?;
        if n < limit(parameter, "MinValue", f64::MIN) || n > limit(parameter, "MaxValue", f64::MAX)
        {
            return Err(format!("{at}: {value} is outside MinValue..MaxValue"));
        }
    }
    Ok(if kind == "CommaDelimitedList" {
        Resolved::List(items)
    } else {
        Resolved::Str(value.to_owned())
    })
}

fn limit(parameter: &Value, key: &str, otherwise: f64) -> f64 {
    parameter
        .get(key)
        .map(scalar)
        .and_then(|s| s.parse().ok())
        .unwrap_or(otherwise)
}

fn numbers_equal(a: &str, b: &str) -> bool {
    matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// A JSON scalar as CloudFormation reads a parameter value: text.
fn scalar(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

impl Deployment {
    /// The value of a parameter (`Ref`).
    pub(crate) fn parameter(&self, name: &str) -> Option<&Resolved> {
        self.values.get(name)
    }

    /// What `value` evaluates to. `Fn::If` is left to the caller, which
    /// looks at both branches.
    pub(crate) fn resolve(&self, value: &Value) -> Result<Resolved, String> {
        let (function, argument) = match value {
            Value::String(s) => return Ok(Resolved::Str(s.clone())),
            Value::Array(items) => {
                let mut strings = Vec::new();
                for item in items {
                    strings.push(self.string(item)?);
                }
                return Ok(Resolved::List(strings));
            }
            Value::Object(object) if object.len() == 1 => object.iter().next().unwrap(),
            other => return Err(format!("{other} is no string, list or function")),
        };
        match function.as_str() {
            "Ref" => {
                let name = argument.as_str().ok_or("Ref names no string")?;
                if name.starts_with("AWS::") {
                    Ok(Resolved::Str(format!("${{{name}}}")))
                } else {
                    self.values
                        .get(name)
                        .cloned()
                        .ok_or_else(|| format!("Ref {name}: no such parameter"))
                }
            }
            "Fn::GetAtt" => {
                let parts: Vec<String> = argument
                    .as_array()
                    .ok_or("Fn::GetAtt takes [resource, attribute]")?
                    .iter()
                    .map(scalar)
                    .collect();
                Ok(Resolved::Str(format!("${{{}}}", parts.join("."))))
            }
            "Fn::Sub" => self.sub(argument).map(Resolved::Str),
            "Fn::Join" => {
                let [delimiter, list] = pair(argument, "Fn::Join")?;
                let delimiter = delimiter
                    .as_str()
                    .ok_or("Fn::Join's delimiter is no string")?;
                Ok(Resolved::Str(self.list(list)?.join(delimiter)))
            }
            "Fn::Split" => {
                let [delimiter, source] = pair(argument, "Fn::Split")?;
                let delimiter = delimiter
                    .as_str()
                    .ok_or("Fn::Split's delimiter is no string")?;
                let source = self.string(source)?;
                Ok(Resolved::List(
                    source.split(delimiter).map(str::to_owned).collect(),
                ))
            }
            "Fn::Select" => {
                let [index, list] = pair(argument, "Fn::Select")?;
                let index: usize = scalar(index)
                    .parse()
                    .map_err(|_| format!("Fn::Select index {index} is no number"))?;
                let list = self.list(list)?;
                list.get(index).cloned().map(Resolved::Str).ok_or_else(|| {
                    format!(
                        "Fn::Select {index} of a {}-item list fails the deployment",
                        list.len()
                    )
                })
            }
            other => Err(format!("{other} is not evaluated here")),
        }
    }

    fn string(&self, value: &Value) -> Result<String, String> {
        match self.resolve(value)? {
            Resolved::Str(s) => Ok(s),
            Resolved::List(items) => Err(format!("a list {items:?} where a string belongs")),
        }
    }

    fn list(&self, value: &Value) -> Result<Vec<String>, String> {
        match self.resolve(value)? {
            Resolved::List(items) => Ok(items),
            Resolved::Str(s) => Err(format!("a string {s:?} where a list belongs")),
        }
    }

    /// `Fn::Sub`: `${Name}` from its own variables, then the parameters;
    /// `${AWS::...}` and `${Resource.Attribute}` stay as written.
    fn sub(&self, argument: &Value) -> Result<String, String> {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) if parts.len() == 2 => (
                parts[0].as_str().ok_or("Fn::Sub's template is no string")?,
                parts[1].as_object(),
            ),
            other => return Err(format!("Fn::Sub {other}")),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after.find('}').ok_or("Fn::Sub: an unclosed ${")?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&self.string(value)?);
            } else if name.starts_with("AWS::") || name.contains('.') {
                out.push_str(&format!("${{{name}}}"));
            } else {
                match self.values.get(name) {
                    Some(Resolved::Str(s)) => out.push_str(s),
                    Some(Resolved::List(_)) => {
                        return Err(format!("Fn::Sub cannot insert the list parameter {name}"));
                    }
                    None => return Err(format!("Fn::Sub: unknown ${{{name}}}")),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn each(&self, conditions: &[Value]) -> Result<Vec<bool>, String> {
        conditions.iter().map(|c| self.holds(c)).collect()
    }

    /// Whether a Rule's condition or assertion holds.
    fn holds(&self, value: &Value) -> Result<bool, String> {
        let object = value.as_object().filter(|o| o.len() == 1);
        let Some((function, argument)) = object.and_then(|o| o.iter().next()) else {
            return Err(format!("{value} is no rule function"));
        };
        let arguments = argument.as_array().map(Vec::as_slice).unwrap_or_default();
        match function.as_str() {
            "Fn::And" => Ok(self.each(arguments)?.into_iter().all(|b| b)),
            "Fn::Or" => Ok(self.each(arguments)?.into_iter().any(|b| b)),
            "Fn::Not" => match arguments {
                [one] => self.holds(one).map(|b| !b),
                _ => Err("Fn::Not takes one condition".into()),
            },
            "Fn::Equals" => match arguments {
                [a, b] => Ok(self.resolve(a)? == self.resolve(b)?),
                _ => Err("Fn::Equals takes two values".into()),
            },
            "Fn::Contains" => {
                let [list, item] = pair(argument, "Fn::Contains")?;
                let item = self.string(item)?;
                Ok(self.list(list)?.contains(&item))
            }
            "Fn::EachMemberEquals" => {
                let [list, item] = pair(argument, "Fn::EachMemberEquals")?;
                let item = self.string(item)?;
                Ok(self.list(list)?.iter().all(|member| *member == item))
            }
            "Fn::EachMemberIn" => {
                let [list, allowed] = pair(argument, "Fn::EachMemberIn")?;
                let allowed = self.list(allowed)?;
                Ok(self
                    .list(list)?
                    .iter()
                    .all(|member| allowed.contains(member)))
            }
            other => Err(format!("{other} is not evaluated here")),
        }
    }
}

fn pair<'a>(argument: &'a Value, function: &str) -> Result<[&'a Value; 2], String> {
    match argument.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([a, b]),
        _ => Err(format!("{function} takes two arguments")),
    }
}
