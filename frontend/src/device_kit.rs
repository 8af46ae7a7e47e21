//! The device kit: everything a device (or the person setting one up)
//! needs in one zip: its certificate and key, Amazon Root CA 1, the
//! endpoint of each target it is registered in, and a README with commands
//! that connect as it. Pure, so it is checked natively with `unzip`.

use std::fmt::Write as _;

use marshal_shared::AMAZON_ROOT_CA_1_PEM;
use serde::Serialize;

use crate::state::Made;
use crate::zip::{FileMode, ZipError, ZipWriter};

/// Where the certificate is registered, as the kit lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KitEndpoint {
    /// Target id in Marshal's configuration.
    pub target: String,
    /// The target's display name.
    pub name: String,
    pub account_id: String,
    pub region: String,
    /// The `iot:Data-ATS` host.
    pub endpoint: String,
    /// The thing the certificate is attached to there.
    pub thing_name: Option<String>,
}

/// Why no kit could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KitError {
    /// Imported certificate without its key.
    NoKey,
    Zip(ZipError),
}

impl std::fmt::Display for KitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KitError::NoKey => f.write_str("the device kit needs the private key"),
            KitError::Zip(e) => write!(f, "could not write the zip: {e}"),
        }
    }
}

/// The kit's file name and bytes (which hold the private key: the caller
/// hands them straight to a download).
pub fn device_kit(
    made: &Made,
    endpoints: &[KitEndpoint],
    now_unix_secs: i64,
) -> Result<(String, Vec<u8>), KitError> {
    let key = made.private_key.as_ref().ok_or(KitError::NoKey)?;
    let stem = made.file_stem();
    let cert_file = format!("{stem}.cert.pem");
    let key_file = format!("{stem}.private.key");
    let dir = format!("{stem}-device-kit");
    let mut zip = ZipWriter::new(now_unix_secs);
    let mut add = |name: &str, data: &[u8], mode| {
        zip.add(&format!("{dir}/{name}"), data, mode)
            .map_err(KitError::Zip)
    };
    add(
        "README.md",
        readme(made, endpoints, &cert_file, &key_file).as_bytes(),
        FileMode::Public,
    )?;
    add(
        &cert_file,
        made.certificate.to_pem().as_bytes(),
        FileMode::Public,
    )?;
    add(&key_file, key.to_pkcs8_pem().as_bytes(), FileMode::Private)?;
    add(CA_FILE, AMAZON_ROOT_CA_1_PEM.as_bytes(), FileMode::Public)?;
    let listed = serde_json::json!({
        "certificateId": made.info.certificate_id,
        "endpoints": endpoints,
    });
    let json = serde_json::to_string_pretty(&listed).unwrap_or_default();
    add("endpoints.json", json.as_bytes(), FileMode::Public)?;
    let bytes = zip.finish().map_err(KitError::Zip)?;
    Ok((format!("{dir}.zip"), bytes))
}

const CA_FILE: &str = "AmazonRootCA1.pem";

/// The README: what each file is, where the device is registered, and
/// commands that connect as it.
fn readme(made: &Made, endpoints: &[KitEndpoint], cert: &str, key: &str) -> String {
    let info = &made.info;
    let client_id = endpoints
        .iter()
        .find_map(|e| e.thing_name.clone())
        .or_else(|| info.common_name.clone())
        // Quoting keeps a line break inside one shell word, but in Markdown
        // a line that is a fence ends the code block early and can open a
        // new one, with text of the CN's choosing, to paste. No thing name
        // has control characters: fall back to the placeholder.
        .filter(|id| !id.chars().any(char::is_control))
        .unwrap_or_else(|| "my-device".to_owned());
    let host = endpoints
        .first()
        .map(|e| e.endpoint.clone())
        .unwrap_or_else(|| "YOUR-ENDPOINT-ats.iot.REGION.amazonaws.com".to_owned());
    let topic = format!("devices/{client_id}/test");
    // The commands are copied and pasted, and the client id may be any
    // certificate's CN: every value in them goes through `shell_quote`.
    let (q_host, q_cert, q_key, q_ca) = (
        shell_quote(&host),
        shell_quote(cert),
        shell_quote(key),
        shell_quote(CA_FILE),
    );
    let (q_id, q_topic) = (shell_quote(&client_id), shell_quote(&topic));
    let mut r = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(r, "# Device kit: {client_id}\n");
    let _ = writeln!(
        r,
        "Certificate ID (as AWS IoT shows it): `{}`",
        info.certificate_id
    );
    let _ = writeln!(r, "Valid: {} to {}\n", info.not_before, info.not_after);
    let _ = writeln!(r, "## Files\n");
    let _ = writeln!(
        r,
        "- `{cert}`: the device certificate (self-signed, registered without a CA)."
    );
    let _ = writeln!(
        r,
        "- `{key}`: the device's private key (PKCS#8 PEM). Keep it secret: copy it to the \
         device only, and delete other copies. Anyone holding it can connect as the device."
    );
    let _ = writeln!(
        r,
        "- `{CA_FILE}`: Amazon Root CA 1, the CA of AWS IoT's `iot:Data-ATS` endpoints; \
         the device uses it to check the server."
    );
    let _ = writeln!(r, "- `endpoints.json`: the targets below, for scripts.\n");
    let _ = writeln!(r, "## Where it is registered\n");
    if endpoints.is_empty() {
        let _ = writeln!(
            r,
            "Not registered yet when this kit was made. Register the certificate, then \
             use the `iot:Data-ATS` endpoint of the account and region \
             (`aws iot describe-endpoint --endpoint-type iot:Data-ATS`) in place of \
             `{host}` below.\n"
        );
    } else {
        let _ = writeln!(r, "| Target | Account | Region | Endpoint | Thing |");
        let _ = writeln!(r, "|---|---|---|---|---|");
        for e in endpoints {
            let _ = writeln!(
                r,
                "| {} ({}) | {} | {} | `{}` | {} |",
                e.name,
                e.target,
                e.account_id,
                e.region,
                e.endpoint,
                e.thing_name.as_deref().unwrap_or("-")
            );
        }
        let _ = writeln!(r);
    }
    let _ = writeln!(
        r,
        "**SNI is required.** AWS IoT accepts a certificate registered without a CA only \
         when the device sends the endpoint's host name in the TLS handshake (SNI). \
         Connect to the host name above, never to an IP address or a CNAME of your own; \
         the commands below send it. AWS IoT policies usually require the MQTT client id \
         to be the thing name, `{client_id}` here.\n"
    );
    let _ = writeln!(
        r,
        "## mosquitto (Debian/Ubuntu: `apt install mosquitto-clients`)\n"
    );
    let _ = writeln!(r, "Listen in one terminal:\n\n```sh");
    let _ = writeln!(
        r,
        "mosquitto_sub -h {q_host} -p 8883 --cafile {q_ca} --cert {q_cert} --key {q_key} \\\n  \
         -i {q_id} -t {q_topic} -v -d\n```\n"
    );
    let _ = writeln!(
        r,
        "Publish from another (a second connection needs another client id your policy \
         allows; or stop the listener first):\n\n```sh"
    );
    let _ = writeln!(
        r,
        "mosquitto_pub -h {q_host} -p 8883 --cafile {q_ca} --cert {q_cert} --key {q_key} \\\n  \
         -i {q_id} -t {q_topic} -m {} -d\n```\n",
        shell_quote(&format!("hello from {client_id}"))
    );
    let _ = writeln!(r, "## AWS IoT Device SDK v2 for Python\n\n```sh");
    let _ = writeln!(
        r,
        "python3 -m pip install awsiotsdk\n\
         git clone https://github.com/aws/aws-iot-device-sdk-python-v2.git\n\
         python3 aws-iot-device-sdk-python-v2/samples/pubsub.py --endpoint {q_host} \\\n  \
         --cert {q_cert} --key {q_key} --ca_file {q_ca} \\\n  \
         --client_id {q_id} --topic {q_topic} --count 3\n```\n"
    );
    let _ = writeln!(
        r,
        "(If your checkout of the SDK moved its samples, use its MQTT pub/sub sample with \
         the same arguments.)\n"
    );
    let _ = writeln!(r, "## Just the TLS handshake, with openssl\n\n```sh");
    let _ = writeln!(
        r,
        "openssl s_client -connect {} -servername {q_host} \\\n  \
         -CAfile {q_ca} -cert {q_cert} -key {q_key} -brief </dev/null\n```\n",
        shell_quote(&format!("{host}:8883"))
    );
    let _ = writeln!(
        r,
        "`-servername` sends SNI; without it AWS IoT refuses this certificate.\n"
    );
    let _ = writeln!(r, "## Marshal's own check\n\n```sh");
    let _ = writeln!(
        r,
        "marshal connect-test --endpoint {q_host} --cert {q_cert} --key {q_key}\n```\n"
    );
    let _ = writeln!(
        r,
        "It connects, subscribes, publishes and says which stage failed and why."
    );
    r
}

/// `value` as one word for a POSIX shell: in single quotes, inside which
/// nothing is special but the quote itself, written `'\''` (close, escaped
/// quote, reopen). Always quoted, even when plain, so there is no list of safe
/// characters to get wrong.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

// Native only: reads the kit back with unzip and openssl.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
