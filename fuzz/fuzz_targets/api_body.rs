//! The pure half of the API's JSON body extractor (`lambda/src/routes/body.rs`,
//! which cannot be built here with AddressSanitizer: it links the AWS SDK):
//! key material over the raw bytes, serde_json, key material over every
//! string, the request types of `shared::api`, then the registration's
//! strict certificate PEM. A body that passes must carry no PEM key that
//! we can read from any of its strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_shared::{
    Certificate, PrivateKey,
    api::{
        AdoptRequest, CreateRegistrationRequest, TransferCertificateRequest, UpdateStatusRequest,
    },
    find_key_material,
};
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    if find_key_material(&String::from_utf8_lossy(body)).is_some() {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut texts = Vec::new();
    strings(&value, &mut texts);
    if texts.iter().any(|s| find_key_material(s).is_some()) {
        return;
    }
    for text in &texts {
        assert!(
            PrivateKey::from_pem(text, "").is_err(),
            "a body the extractor accepts holds a PEM private key"
        );
    }
    if let Ok(request) = serde_json::from_value::<CreateRegistrationRequest>(value.clone()) {
        for input in &request.certificates {
            if let Ok(certs) = Certificate::all_from_strict_pem(&input.certificate_pem) {
                for cert in &certs {
                    marshal_fuzz::check_certificate(cert, cert.der());
                }
            }
        }
    }
    let _ = serde_json::from_value::<UpdateStatusRequest>(value.clone());
    let _ = serde_json::from_value::<TransferCertificateRequest>(value.clone());
    let _ = serde_json::from_value::<AdoptRequest>(value);
});

/// Every string of a JSON value, keys included (as the extractor scans them).
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k);
            strings(v, out);
        }),
        _ => {}
    }
}
