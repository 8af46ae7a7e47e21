//! `marshal connect-test`: connect to an MQTT endpoint as the device would
//! (mutual TLS, SNI), subscribe, publish the blog's messages and wait for
//! them, then say which stage failed and why, or how long each took.

mod diagnosis;
mod endpoint;
mod report;
mod session;
mod tls;

use std::time::Duration;

use marshal_shared::{AMAZON_ROOT_CA_1_PEM, Certificate, policy::DEFAULT_TOPIC_PREFIX};

use self::endpoint::Endpoint;
use self::session::Plan;
use crate::{
    cli::ConnectTestArgs,
    commands::import_file,
    files,
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &ConnectTestArgs) -> Result<Report, Failure> {
    let endpoint = Endpoint::parse(&args.endpoint).map_err(|why| {
        Failure::input(
            "invalid_endpoint",
            format!("--endpoint {:?}: {why}", args.endpoint),
        )
    })?;

    let password = files::password(args.password_stdin)?;
    let cert_file = import_file(&args.cert, &password)?;
    let cert = cert_file
        .leaf()
        .map_err(|e| Failure::from(e).at(&args.cert))?;
    let key_file = import_file(&args.key, &password)?;
    let key = key_file
        .key()
        .map_err(|e| Failure::input("no_private_key", e.to_string()).at(&args.key))?;
    if key.check_matches(cert).is_err() {
        return Err(Failure::input(
            "key_mismatch",
            format!(
                "the key in {} does not belong to the certificate in {}",
                args.key.display(),
                args.cert.display()
            ),
        ));
    }
    // The device certificate first, then whatever else the file holds (a chain).
    let chain: Vec<&Certificate> = std::iter::once(cert)
        .chain(
            cert_file
                .certificates
                .iter()
                .filter(|c| c.der() != cert.der()),
        )
        .collect();

    let (trust, trust_name) = match &args.ca {
        Some(path) => {
            let certificates = import_file(path, "")?.certificates;
            if certificates.is_empty() {
                return Err(Failure::input("no_certificate", "it holds no certificate").at(path));
            }
            let name = format!(
                "{} ({} certificate{})",
                path.display(),
                certificates.len(),
                if certificates.len() == 1 { "" } else { "s" }
            );
            (certificates, name)
        }
        None => (
            vec![Certificate::from_pem(AMAZON_ROOT_CA_1_PEM)?],
            "Amazon Root CA 1, built in".to_owned(),
        ),
    };

    let client_id = match args.client_id.clone().or_else(|| cert.common_name()) {
        Some(id) => id,
        None => {
            return Err(Failure::input(
                "no_client_id",
                format!(
                    "{} has no common name to use as client id: give --client-id (on AWS IoT, \
                     usually the thing name)",
                    args.cert.display()
                ),
            ));
        }
    };
    if client_id.is_empty() {
        return Err(Failure::input("no_client_id", "the client id is empty"));
    }
    let topic = args
        .topic
        .clone()
        .unwrap_or_else(|| default_topic(&client_id));
    check_topic(&topic)?;

    let tls = tls::client_config(&trust, &chain, key, endpoint.alpn())?;
    let plan = Plan {
        endpoint,
        client_id,
        topic,
        count: args.count,
        timeout: Duration::from_secs(args.timeout),
        tls,
        trust: trust_name,
    };
    let outcome = session::run(&plan)?;
    Ok(report::report(&plan, &cert.id(), &outcome))
}

/// `devices/<client id>/connect-test`: inside what `marshal policy` allows a
/// device whose client id is its thing name.
fn default_topic(client_id: &str) -> String {
    format!("{DEFAULT_TOPIC_PREFIX}/{client_id}/connect-test")
}

/// A topic one can both publish to and subscribe to: no wildcards.
fn check_topic(topic: &str) -> Result<(), Failure> {
    let bad = |why: &str| {
        Err(Failure::input(
            "invalid_topic",
            format!("topic {topic:?} {why}"),
        ))
    };
    if topic.is_empty() {
        return bad("is empty");
    }
    if topic.contains(['+', '#']) {
        return bad("contains a wildcard (+ or #): publishing needs a plain topic");
    }
    if topic.contains('\0') || topic.len() > 65_535 {
        return bad("is not a valid MQTT topic");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_topic_is_inside_the_marshal_policy() {
        assert_eq!(default_topic("dev-1"), "devices/dev-1/connect-test");
    }

    #[test]
    fn topics_without_wildcards() {
        assert!(check_topic("a/b").is_ok());
        for bad in ["", "a/+", "a/#", "a\0b"] {
            assert_eq!(
                check_topic(bad).unwrap_err().code,
                "invalid_topic",
                "{bad:?}"
            );
        }
    }
}
