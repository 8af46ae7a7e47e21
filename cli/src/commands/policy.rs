//! `marshal policy`: a least-privilege AWS IoT policy document.

use marshal_shared::policy::PolicyTemplate;

use crate::{
    cli::PolicyArgs,
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &PolicyArgs) -> Result<Report, Failure> {
    let template = PolicyTemplate {
        topic_prefix: args.prefix.clone(),
        region: args.region.clone(),
        account_id: args.account.clone(),
        allow_shadow: args.shadow,
    };
    let document = template.document()?;
    let json = serde_json::to_value(&document)
        .map_err(|e| Failure::input("invalid_request", e.to_string()))?;
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| Failure::input("invalid_request", e.to_string()))?;
    Ok(Report::ok(format!("{text}\n"), json))
}
