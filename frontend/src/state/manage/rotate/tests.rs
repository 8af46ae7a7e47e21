//! Rotation, natively: the plan read from the old certificate, the
//! reducer's steps, the body sent, and retirement only where the successor
//! was registered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::rc::Rc;

use marshal_shared::api::{
    CertificateStatus, ConfigLimits, GetCertificateResponse, GetConfigResponse, PolicyInfo,
    Registration, RegistrationResult, RotateCertificateResponse, TargetCertificate, TargetError,
    TargetErrorCode, TargetInfo,
};
use marshal_shared::{CertificateRequest, KeyType, OffsetDateTime, PrivateKey};

use super::*;
use crate::i18n::Lang;
use crate::i18n::manage::confirmation as words;
use crate::i18n::rotate::plan_sentences;
use crate::state::manage::{ChangeKind, ChangeRequest, ManageAction};
use crate::state::{Action, Made, Origin, State, reduce};

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_796_342_400).unwrap()
}

fn old_request() -> CertificateRequest {
    CertificateRequest {
        common_name: "sensor-01".to_owned(),
        organization: Some("ACME, Inc.".to_owned()),
        organizational_unit: Some("Line 1".to_owned()),
        country: Some("JP".to_owned()),
        validity_days: 365,
    }
}

/// An old P-384 certificate with O, OU and C.
fn old_certificate() -> marshal_shared::Certificate {
    marshal_shared::generate_ec(KeyType::EcP384, &old_request(), now())
        .unwrap()
        .certificate
}

fn config(max_targets: usize) -> Rc<GetConfigResponse> {
    let target = |id: &str| TargetInfo {
        id: id.to_owned(),
        name: id.to_owned(),
        account_id: "111111111111".to_owned(),
        region: "ap-northeast-1".to_owned(),
        admin: false,
    };
    Rc::new(GetConfigResponse {
        targets: vec![target("dev"), target("stage"), target("prod")],
        policies: vec![PolicyInfo {
            name: "MarshalDevice".to_owned(),
            created_when_missing: true,
        }],
        thing_name_pattern: ".*".to_owned(),
        limits: ConfigLimits {
            max_body_bytes: 1 << 20,
            max_targets_per_request: max_targets,
            max_certificates_per_request: 10,
        },
        groups: Vec::new(),
    })
}

fn row(target: &str, present: bool, managed: bool, pem: Option<String>) -> TargetCertificate {
    TargetCertificate {
        target: target.to_owned(),
        present,
        status: present.then_some(CertificateStatus::Active),
        managed,
        policies: vec![],
        things: vec![],
        certificate_pem: pem,
        error: None,
    }
}

/// Yours in dev and prod, someone else's in stage.
fn looked_up_rows(id: &str, pem: Option<String>) -> GetCertificateResponse {
    GetCertificateResponse {
        certificate_id: id.to_owned(),
        targets: vec![
            row("dev", true, true, pem.clone()),
            row("stage", true, false, None),
            row("prod", true, true, pem),
        ],
    }
}

fn m(action: ManageAction) -> Action {
    Action::Manage(action)
}

fn looked_up(config: Rc<GetConfigResponse>, response: GetCertificateResponse) -> State {
    let id = response.certificate_id.clone();
    [
        Action::ConfigLoaded(config),
        m(ManageAction::LookupStarted { id, ticket: 1 }),
        m(ManageAction::LookupDone {
            ticket: 1,
            result: Ok(Rc::new(response)),
        }),
    ]
    .into_iter()
    .fold(State::new(Lang::En), reduce)
}

#[test]
fn rfc_4514_subjects_are_read_back_with_their_escapes() {
    let pairs = |text: &str| {
        subject_attributes(text)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs("CN=sensor-01,OU=Line 1,O=ACME\\, Inc.,C=JP"),
        ["CN=sensor-01", "OU=Line 1", "O=ACME, Inc.", "C=JP"]
    );
    assert_eq!(pairs("CN=\\#hash\\ "), ["CN=#hash "]);
    assert_eq!(
        pairs("CN=a\\+b\\\\c\\\"d\\;e\\<f\\>"),
        ["CN=a+b\\c\"d;e<f>"]
    );
    assert_eq!(pairs("CN=bell\\07"), ["CN=bell\u{7}"]);
    assert_eq!(pairs("CN=a+UID=b"), ["CN=a", "UID=b"]);
    assert_eq!(pairs("1.2.3.4=#0c0178"), ["1.2.3.4=#0c0178"]);
    assert!(pairs("").is_empty());
}

#[test]
fn the_plan_keeps_the_old_subject_key_type_and_validity() {
    let old = old_certificate();
    let state = looked_up(config(4), looked_up_rows(&old.id(), Some(old.to_pem())));
    let plan = state.manage.rotation_plan(&state.config).unwrap();
    assert_eq!(plan.old_id, old.id());
    assert_eq!(plan.key_type, KeyType::EcP384);
    assert_eq!(plan.request, old_request());
    assert!(plan.dropped.is_empty(), "{:?}", plan.dropped);
    // Only where the old one is yours; stage is someone else's.
    assert_eq!(plan.targets, ["dev", "prod"]);
    let job = plan.job(9, 1_796_342_400_000.0);
    assert_eq!((job.id, job.key_type.as_str()), (9, "ec-p384"));
    // The worker's own code makes it: same subject, new key.
    let crate::generation::GenerateOutcome::Made {
        certificate_pem, ..
    } = job.run()
    else {
        panic!("the successor could not be made");
    };
    let new = marshal_shared::Certificate::from_pem(&certificate_pem).unwrap();
    assert_eq!(new.info().unwrap().subject, old.info().unwrap().subject);
    assert_ne!(new.public_key_bits(), old.public_key_bits());
    let sentences = plan_sentences(&plan, &[], Lang::En).join(" ");
    assert!(sentences.contains("ECDSA P-384"), "{sentences}");
    assert!(sentences.contains("365 days"), "{sentences}");
}

#[test]
fn rsa_certificates_rotate_to_the_same_size() {
    let key =
        PrivateKey::from_pkcs8_der(&marshal_shared::generate_rsa_pkcs8(2048).unwrap()).unwrap();
    let old = marshal_shared::self_signed(&key, &CertificateRequest::new("rsa-01"), now()).unwrap();
    let state = looked_up(config(4), looked_up_rows(&old.id(), Some(old.to_pem())));
    let plan = state.manage.rotation_plan(&state.config).unwrap();
    assert_eq!(plan.key_type, KeyType::Rsa2048);
    assert_eq!(plan.request.common_name, "rsa-01");
}

#[test]
fn rotate_is_refused_in_words_before_anything_is_made() {
    let old = old_certificate();
    let other = marshal_shared::generate_ec(KeyType::EcP256, &CertificateRequest::new("x"), now())
        .unwrap()
        .certificate;
    let blocker = |config: Rc<GetConfigResponse>, rows: GetCertificateResponse| {
        let state = looked_up(config, rows);
        state.manage.rotation_plan(&state.config).unwrap_err()
    };
    assert_eq!(
        blocker(config(4), looked_up_rows(&old.id(), None)),
        RotateBlocker::NoPem
    );
    assert_eq!(
        blocker(config(4), looked_up_rows(&old.id(), Some(other.to_pem()))),
        RotateBlocker::Unreadable
    );
    assert_eq!(
        blocker(
            config(4),
            looked_up_rows(&old.id(), Some("garbage".to_owned()))
        ),
        RotateBlocker::Unreadable
    );
    assert_eq!(
        blocker(config(1), looked_up_rows(&old.id(), Some(old.to_pem()))),
        RotateBlocker::TooManyTargets
    );
    let not_mine = GetCertificateResponse {
        certificate_id: old.id(),
        targets: vec![row("stage", true, false, None)],
    };
    assert_eq!(blocker(config(4), not_mine), RotateBlocker::NotYours);
    // An unreachable target is not rotated into.
    let mut rows = looked_up_rows(&old.id(), Some(old.to_pem()));
    rows.targets[2].error = Some(TargetError {
        code: TargetErrorCode::AwsTimeout,
        message: "slow".to_owned(),
    });
    let state = looked_up(config(4), rows);
    assert_eq!(
        state.manage.rotation_plan(&state.config).unwrap().targets,
        ["dev"]
    );
}

fn successor() -> Rc<Made> {
    let made = marshal_shared::generate_ec(KeyType::EcP384, &old_request(), now()).unwrap();
    Rc::new(
        Made::new(
            made.certificate,
            Some(made.private_key),
            Origin::Generated,
            now(),
        )
        .unwrap(),
    )
}

fn answer(old_id: &str, new: &Made) -> Rc<RotateCertificateResponse> {
    let result = |target: &str, ok: bool| RegistrationResult {
        index: 0,
        certificate_id: new.info.certificate_id.clone(),
        target: target.to_owned(),
        registration: ok.then(|| Registration {
            certificate_arn: format!("arn:aws:iot:ap-northeast-1:111111111111:cert/{target}"),
            status: CertificateStatus::Active,
            policy: "MarshalDevice".to_owned(),
            thing: "sensor-01".to_owned(),
            endpoint: format!("{target}-ats.iot.ap-northeast-1.amazonaws.com"),
            newly_registered: true,
        }),
        error: (!ok).then(|| TargetError {
            code: TargetErrorCode::AlreadyRotated,
            message: "already".to_owned(),
        }),
    };
    Rc::new(RotateCertificateResponse {
        certificate_id: old_id.to_owned(),
        new_certificate_id: new.info.certificate_id.clone(),
        results: vec![result("dev", true), result("prod", false)],
    })
}

#[test]
fn the_rotate_body_holds_the_certificate_and_never_the_key() {
    let made = successor();
    let body = serde_json::to_string(&rotate_request(&made, &["dev".to_owned()])).unwrap();
    assert!(
        body.contains("\"certificatePem\":\"-----BEGIN CERTIFICATE-----"),
        "{body}"
    );
    assert!(body.contains("\"targets\":[\"dev\"]"), "{body}");
    assert!(!body.contains("PRIVATE"), "{body}");
    let key = made.private_key.as_ref().unwrap().to_pkcs8_pem();
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!body.contains(&key_body[..40]));
}

#[test]
fn a_rotation_goes_making_sending_done_and_retires_only_where_it_succeeded() {
    let old = old_certificate();
    let id = old.id();
    let mut state = looked_up(config(4), looked_up_rows(&id, Some(old.to_pem())));
    assert_eq!(
        state.manage.blocker(ChangeKind::Retire, &state.config),
        Some(crate::i18n::manage::ManageText::RotateFirst)
    );
    state = reduce(
        state,
        m(ManageAction::RotationStarted {
            old_id: id.clone(),
            job: 7,
            targets: vec!["dev".to_owned(), "prod".to_owned()],
        }),
    );
    assert!(state.manage.rotating());
    assert_eq!(
        state.manage.rotation_plan(&state.config),
        Err(RotateBlocker::Busy)
    );
    let made = successor();
    // An answer for another job changes nothing.
    state = reduce(
        state,
        m(ManageAction::RotationMade {
            job: 6,
            made: made.clone(),
        }),
    );
    assert_eq!(
        state.manage.rotation.as_ref().unwrap().step,
        RotationStep::Making
    );
    state = reduce(
        state,
        m(ManageAction::RotationMade {
            job: 7,
            made: made.clone(),
        }),
    );
    assert!(matches!(
        state.manage.rotation.as_ref().unwrap().step,
        RotationStep::Sending { .. }
    ));
    state = reduce(
        state,
        m(ManageAction::RotationDone {
            job: 7,
            result: Ok(answer(&id, &made)),
        }),
    );
    assert!(!state.manage.rotating());
    assert_eq!(state.manage.retire_targets(), ["dev"]);
    // The kit lists only where the successor was registered.
    let RotationStep::Done { response, .. } = &state.manage.rotation.as_ref().unwrap().step else {
        panic!("not done");
    };
    let endpoints =
        crate::state::kit_endpoints_of(&response.results, &made.info.certificate_id, &state.config);
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        endpoints[0].endpoint,
        "dev-ats.iot.ap-northeast-1.amazonaws.com"
    );

    state = reduce(state, m(ManageAction::Ask(ChangeKind::Retire)));
    let confirmation = state.manage.confirmation(&state.config).unwrap();
    let ChangeRequest::Retire {
        certificate_id,
        request,
    } = &confirmation.request
    else {
        panic!("{:?}", confirmation.request);
    };
    assert_eq!(certificate_id, &id);
    assert_eq!(request.targets.as_deref(), Some(&["dev".to_owned()][..]));
    for lang in Lang::ALL {
        let text = words(&confirmation, lang).join(" ");
        assert!(text.contains("dev"), "{text}");
    }

    // Another certificate looked up: the rotation (and its key) stays, but
    // nothing of it may be retired from there.
    let other = "ab".repeat(32);
    state = reduce(
        state,
        m(ManageAction::LookupStarted {
            id: other,
            ticket: 2,
        }),
    );
    assert!(state.manage.rotation.is_some());
    assert!(state.manage.retire_targets().is_empty());
}

#[test]
fn a_refused_rotation_keeps_its_reason() {
    let old = old_certificate();
    let id = old.id();
    let failure = crate::state::ApiFailure::Unreachable {
        detail: "offline".to_owned(),
    };
    let state = [
        m(ManageAction::RotationStarted {
            old_id: id,
            job: 1,
            targets: vec!["dev".to_owned()],
        }),
        m(ManageAction::RotationMade {
            job: 1,
            made: successor(),
        }),
        m(ManageAction::RotationDone {
            job: 1,
            result: Err(failure.clone()),
        }),
    ]
    .into_iter()
    .fold(
        looked_up(config(4), looked_up_rows(&old.id(), Some(old.to_pem()))),
        reduce,
    );
    assert!(matches!(
        &state.manage.rotation.as_ref().unwrap().step,
        RotationStep::Failed { failure: RotationFailure::Api(f), made: Some(_) } if *f == failure
    ));
    assert!(state.manage.retire_targets().is_empty());
}
