//! In headless Chromium (`wasm-bindgen-test`): the worker's entry point as
//! the worker runs it, and the credential view as a user sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use crate::components::CredentialView;
use crate::generation::{GenerateJob, GenerateOutcome, now_from_unix_ms};
use crate::i18n::Lang;
use crate::state::Made;

wasm_bindgen_test_configure!(run_in_browser);

fn job(key_type: &str) -> String {
    serde_json::to_string(&GenerateJob {
        id: 1,
        key_type: key_type.to_owned(),
        common_name: "browser-01".to_owned(),
        organization: None,
        organizational_unit: None,
        country: Some("JP".to_owned()),
        validity_days: 30,
        now_unix_ms: js_sys::Date::now(),
    })
    .unwrap()
}

fn made(key_type: &str) -> Made {
    // worker.js brings a WebCrypto key for RSA (checked end to end in
    // tests/e2e); here a key from `shared` stands in for it.
    let rsa_key = key_type
        .starts_with("rsa-")
        .then(|| marshal_shared::generate_rsa_pkcs8(2048).unwrap().to_vec());
    let answer = crate::generate_in_worker(&job(key_type), rsa_key);
    let GenerateOutcome::Made {
        certificate_pem,
        private_key_pem,
        ..
    } = serde_json::from_str(&answer).unwrap()
    else {
        panic!("{key_type}: {answer}");
    };
    let now = now_from_unix_ms(js_sys::Date::now()).unwrap();
    Made::from_worker(&certificate_pem, private_key_pem, now).unwrap()
}

#[wasm_bindgen_test]
fn the_worker_entry_makes_every_offered_key_type_in_the_browser() {
    // RSA 3072/4096 take the same path as 2048, only slower.
    for key_type in ["ec-p256", "ec-p384", "rsa-2048"] {
        let made = made(key_type);
        assert_eq!(made.info.common_name.as_deref(), Some("browser-01"));
        assert_eq!(made.info.certificate_id, made.certificate.id());
        // 30 days: preflight warns about nothing but may not error.
        assert!(marshal_shared::preflight::accepted(&made.findings));
        made.private_key
            .as_ref()
            .unwrap()
            .check_matches(&made.certificate)
            .unwrap();
    }
}

#[wasm_bindgen_test]
async fn the_credential_view_shows_the_id_first_and_in_japanese() {
    let made = Rc::new(made("ec-p256"));
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let props = crate::components::CredentialViewProps {
        made: made.clone(),
        lang: Lang::Ja,
        endpoints: Vec::new(),
        id_prefix: yew::AttrValue::default(),
    };
    let _app = yew::Renderer::<CredentialView>::with_root_and_props(root.clone(), props).render();
    yew::platform::time::sleep(Duration::from_millis(10)).await;

    let id = document.get_element_by_id("certificate-id").unwrap();
    assert_eq!(id.text_content().unwrap(), made.info.certificate_id);
    let text = root.text_content().unwrap();
    assert!(text.contains("証明書 ID"), "{text}");
    assert!(text.contains("秘密鍵をダウンロード"), "{text}");
    // The key itself is never in the DOM.
    let key_pem = made.private_key.as_ref().unwrap().to_pkcs8_pem();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!root.inner_html().contains(key_line));
    assert!(!root.inner_html().contains("PRIVATE KEY"));
}

fn fixture(name: &str, bytes: &[u8]) -> crate::importing::PickedFile {
    crate::importing::PickedFile {
        name: name.to_owned(),
        bytes: zeroize::Zeroizing::new(bytes.to_vec()),
    }
}

#[wasm_bindgen_test]
fn pkcs12_files_open_and_make_a_device_kit_in_the_browser() {
    use crate::importing::import_files;
    use crate::state::{KeyCheck, Origin};

    let now = now_from_unix_ms(js_sys::Date::now()).unwrap();
    let legacy = fixture(
        "p256.legacy.pw.p12",
        include_bytes!("../../shared/tests/examples/p256.legacy.pw.p12"),
    );
    let modern = fixture(
        "p256.modern.pw.p12",
        include_bytes!("../../shared/tests/examples/p256.modern.pw.p12"),
    );
    for file in [legacy, modern] {
        let made = import_files(std::slice::from_ref(&file), "marshal-test", now)
            .unwrap_or_else(|p| panic!("{}: {p:?}", file.name));
        assert!(matches!(
            made.origin,
            Origin::Imported {
                key_check: KeyCheck::Matches,
                ..
            }
        ));
        let (name, zip) = crate::device_kit::device_kit(&made, &[], 0).unwrap();
        assert_eq!(name, "fixture-p256-device-kit.zip");
        assert!(zip.starts_with(b"PK\x03\x04"));
        let p12 = marshal_shared::pkcs12::export(
            &made.certificate,
            made.private_key.as_ref().unwrap(),
            "again",
            "fixture",
        )
        .unwrap();
        let back = import_files(&[fixture("again.p12", &p12)], "again", now).unwrap();
        assert_eq!(back.info.certificate_id, made.info.certificate_id);
    }
}

#[wasm_bindgen_test]
fn a_batch_runs_to_a_zip_in_the_browser() {
    let job = crate::batch::BatchJob {
        names: vec!["b-1".to_owned(), "b-2".to_owned(), "b-3".to_owned()],
        settings: serde_json::from_str(&job("ec-p256")).unwrap(),
    };
    let mut run = crate::BatchRun::new(&serde_json::to_string(&job).unwrap()).unwrap();
    assert_eq!(run.total(), 3);
    assert_eq!(run.rsa_bits(), None);
    let mut calls = 1;
    while run.add_next(None).unwrap() {
        calls += 1;
    }
    assert_eq!(calls, 3);
    assert_eq!(run.file_name(), "marshal-batch-3.zip");
    let zip = run.finish().unwrap();
    assert!(zip.starts_with(b"PK\x03\x04"));
}
