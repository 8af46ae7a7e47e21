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

/// A section under test, over a state made beforehand with the reducer.
#[derive(yew::Properties, PartialEq)]
struct HarnessProps {
    state: crate::state::State,
}

#[yew::function_component(InventoryHarness)]
fn inventory_harness(props: &HarnessProps) -> yew::Html {
    let initial = props.state.clone();
    let state = yew::use_reducer(move || initial);
    yew::html! { <crate::components::InventorySection {state} /> }
}

fn inventory_entry(id: char, days_left: i64, managed: bool) -> marshal_shared::api::InventoryEntry {
    let not_after = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        js_sys::Date::now() + days_left as f64 * 86_400_000.0 + 3_600_000.0,
    ));
    marshal_shared::api::InventoryEntry {
        certificate_id: id.to_string().repeat(64),
        target: "dev".to_owned(),
        status: Some(marshal_shared::api::CertificateStatus::Active),
        not_after: String::from(not_after.to_iso_string()),
        managed,
        thing: managed.then(|| "=thing".to_owned()),
        policy: managed.then(|| "MarshalDevice".to_owned()),
        registered_by: managed.then(|| "alice".to_owned()),
        registered_at: managed.then(|| "2026-01-01T00:00:00.000Z".to_owned()),
        owner_group: None,
        successor: None,
    }
}

#[wasm_bindgen_test]
async fn the_inventory_shows_days_left_in_words_and_hides_what_is_not_yours() {
    use wasm_bindgen::JsCast;

    use crate::state::inventory::{InventoryAction, InventoryQuery};
    use crate::state::{Action, State, reduce};

    let page = marshal_shared::api::InventoryResponse {
        entries: vec![
            inventory_entry('a', -2, true),
            inventory_entry('b', 12, true),
            inventory_entry('c', 60, true),
            inventory_entry('d', 400, false),
        ],
        next_cursor: Some("next".to_owned()),
    };
    let state = [
        Action::Inventory(InventoryAction::SearchStarted {
            query: InventoryQuery::default(),
            ticket: 1,
        }),
        Action::Inventory(InventoryAction::PageLoaded {
            ticket: 1,
            result: Ok(page),
        }),
    ]
    .into_iter()
    .fold(State::new(Lang::En), reduce);
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let _app = yew::Renderer::<InventoryHarness>::with_root_and_props(
        root.clone(),
        HarnessProps { state },
    )
    .render();
    yew::platform::time::sleep(Duration::from_millis(10)).await;

    let rows = root
        .query_selector_all("#inventory-table tbody tr")
        .unwrap();
    assert_eq!(rows.length(), 4);
    let badge = |i: u32| {
        let row: web_sys::Element = rows.get(i).unwrap().dyn_into().unwrap();
        let badge = row.query_selector(".badge").unwrap().unwrap();
        (badge.class_name(), badge.text_content().unwrap())
    };
    let expected = [
        ("badge expiry expired", "Expired"),
        ("badge expiry soon", "Within 30 days: 12 days left"),
        ("badge expiry near", "Within 90 days: 60 days left"),
        ("badge expiry later", "400 days left"),
    ];
    for (i, (class, text)) in expected.into_iter().enumerate() {
        assert_eq!(
            badge(i as u32),
            (class.to_owned(), text.to_owned()),
            "row {i}"
        );
    }
    // History for your rows only; the other one says why its details are hidden.
    assert!(document.get_element_by_id("inventory-history-0").is_some());
    assert!(document.get_element_by_id("inventory-history-3").is_none());
    let last = rows.get(3).unwrap().text_content().unwrap();
    assert!(last.contains("not yours"), "{last}");
    // The full ID is in the title; the short one on screen.
    let code = root
        .query_selector("#inventory-table code")
        .unwrap()
        .unwrap();
    assert_eq!(code.get_attribute("title").unwrap(), "a".repeat(64));
    assert_eq!(code.text_content().unwrap(), "aaaa…aaaa");
    // Next page and export offered.
    assert!(document.get_element_by_id("inventory-more").is_some());
    let export = document.get_element_by_id("inventory-export").unwrap();
    assert!(!export.has_attribute("disabled"));
}

#[wasm_bindgen_test]
fn a_rotation_plan_runs_in_the_worker_entry_with_the_old_subject() {
    use std::rc::Rc;

    use marshal_shared::api::{GetCertificateResponse, TargetCertificate};

    use crate::state::manage::ManageAction;
    use crate::state::{Action, State, reduce};

    let old = made("ec-p256");
    let id = old.info.certificate_id.clone();
    let row = TargetCertificate {
        target: "dev".to_owned(),
        present: true,
        status: Some(marshal_shared::api::CertificateStatus::Active),
        managed: true,
        policies: vec![],
        things: vec![],
        certificate_pem: Some(old.certificate.to_pem()),
        error: None,
    };
    let config: marshal_shared::api::GetConfigResponse = serde_json::from_value(serde_json::json!({
        "targets": [{"id": "dev", "name": "dev", "accountId": "111111111111", "region": "ap-northeast-1"}],
        "policies": [{"name": "MarshalDevice", "createdWhenMissing": true}],
        "thingNamePattern": ".*",
        "limits": {"maxBodyBytes": 1048576, "maxTargetsPerRequest": 4, "maxCertificatesPerRequest": 10},
    }))
    .unwrap();
    let state = [
        Action::ConfigLoaded(Rc::new(config)),
        Action::Manage(ManageAction::LookupStarted {
            id: id.clone(),
            ticket: 1,
        }),
        Action::Manage(ManageAction::LookupDone {
            ticket: 1,
            result: Ok(Rc::new(GetCertificateResponse {
                certificate_id: id,
                targets: vec![row],
            })),
        }),
    ]
    .into_iter()
    .fold(State::new(Lang::En), reduce);
    let plan = state.manage.rotation_plan(&state.config).unwrap();
    let job = serde_json::to_string(&plan.job(3, js_sys::Date::now())).unwrap();
    let GenerateOutcome::Made {
        certificate_pem, ..
    } = serde_json::from_str(&crate::generate_in_worker(&job, None)).unwrap()
    else {
        panic!("the worker entry could not make the successor");
    };
    let new = marshal_shared::Certificate::from_pem(&certificate_pem).unwrap();
    assert_eq!(new.info().unwrap().subject, old.info.subject);
    assert_ne!(new.id(), old.info.certificate_id);
}
