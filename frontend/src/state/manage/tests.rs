//! The manage section's reducer and helpers, natively: each test a list of
//! actions and what must follow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::rc::Rc;

use marshal_shared::api::{
    AdoptCertificateResponse, AdoptRequest, CertificateStatus, ConfigLimits,
    DeleteCertificateResponse, ErrorCode, GetCertificateResponse, GetConfigResponse, PolicyInfo,
    Registration, RegistrationResult, TargetCertificate, TargetError, TargetErrorCode, TargetInfo,
    TargetOutcome, TransferCertificateRequest, TransferCertificateResponse, TransferMode,
    UpdateStatusRequest,
};

use super::*;
use crate::i18n::Lang;
use crate::i18n::manage::ManageText;
use crate::i18n::manage::{confirmation as words, id_problem, list};
use crate::state::{Action, ApiFailure, CredentialForm, Made, Remote, State, reduce};

fn id() -> String {
    format!("3f9a{}c21e", "0".repeat(56))
}

fn other_id() -> String {
    format!("aaaa{}bbbb", "0".repeat(56))
}

fn config(max_targets: usize, policies: &[&str]) -> Rc<GetConfigResponse> {
    let target = |id: &str, account: &str, region: &str| TargetInfo {
        id: id.to_owned(),
        name: id.replace('-', " "),
        account_id: account.to_owned(),
        region: region.to_owned(),
        admin: false,
    };
    Rc::new(GetConfigResponse {
        targets: vec![
            target("dev-tokyo", "111111111111", "ap-northeast-1"),
            target("dev-virginia", "111111111111", "us-east-1"),
            target("prod-tokyo", "222222222222", "ap-northeast-1"),
            target("prod-osaka", "222222222222", "ap-northeast-3"),
        ],
        policies: policies
            .iter()
            .map(|name| PolicyInfo {
                name: (*name).to_owned(),
                created_when_missing: true,
            })
            .collect(),
        thing_name_pattern: ".*".to_owned(),
        limits: ConfigLimits {
            max_body_bytes: 1 << 20,
            max_targets_per_request: max_targets,
            max_certificates_per_request: 10,
        },
        groups: Vec::new(),
    })
}

fn present(target: &str, status: CertificateStatus) -> TargetCertificate {
    TargetCertificate {
        target: target.to_owned(),
        present: true,
        status: Some(status),
        managed: true,
        policies: vec!["MarshalDevice".to_owned()],
        things: vec!["sensor-01".to_owned()],
        certificate_pem: None,
        error: None,
    }
}

fn absent(target: &str) -> TargetCertificate {
    TargetCertificate {
        target: target.to_owned(),
        present: false,
        status: None,
        managed: false,
        policies: vec![],
        things: vec![],
        certificate_pem: None,
        error: None,
    }
}

fn unreachable_target(target: &str) -> TargetCertificate {
    TargetCertificate {
        error: Some(TargetError {
            code: TargetErrorCode::AssumeRoleFailed,
            message: "no role".to_owned(),
        }),
        ..absent(target)
    }
}

/// The certificate active in dev-tokyo, inactive in prod-tokyo, absent in
/// dev-virginia, and prod-osaka could not be asked.
fn response(id: &str) -> Rc<GetCertificateResponse> {
    Rc::new(GetCertificateResponse {
        certificate_id: id.to_owned(),
        targets: vec![
            present("dev-tokyo", CertificateStatus::Active),
            absent("dev-virginia"),
            present("prod-tokyo", CertificateStatus::Inactive),
            unreachable_target("prod-osaka"),
        ],
    })
}

fn m(action: ManageAction) -> Action {
    Action::Manage(action)
}

fn run(actions: impl IntoIterator<Item = Action>) -> State {
    actions.into_iter().fold(State::new(Lang::En), reduce)
}

/// Config loaded and [`id`] looked up (ticket 1), then `more`.
fn looked_up(more: impl IntoIterator<Item = Action>) -> State {
    let start = [
        Action::ConfigLoaded(config(4, &["MarshalDevice", "Other"])),
        m(ManageAction::SetId(id())),
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
        m(ManageAction::LookupDone {
            ticket: 1,
            result: Ok(response(&id())),
        }),
    ];
    run(start.into_iter().chain(more))
}

fn toggle(target: &str) -> Action {
    m(ManageAction::ToggleTarget(target.to_owned()))
}

fn to(target: &str) -> Action {
    m(ManageAction::ToggleDestination(target.to_owned()))
}

fn blocker(state: &State, kind: ChangeKind) -> Option<ManageText> {
    state.manage.blocker(kind, &state.config)
}

fn failure() -> ApiFailure {
    ApiFailure::Refused {
        status: 403,
        code: ErrorCode::ForbiddenTarget,
        message: "no".to_owned(),
        request_id: "r1".to_owned(),
    }
}

#[test]
fn typed_ids_are_canonical_or_say_what_is_wrong() {
    let hex = "AB".repeat(32);
    let colons = hex
        .as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let lower = Ok("ab".repeat(32));
    for (input, expected) in [
        (hex.clone(), lower.clone()),
        (format!("  {hex}\n"), lower.clone()),
        (format!("0x{hex}"), lower.clone()),
        (colons, lower.clone()),
        (String::new(), Err(IdProblem::Empty)),
        ("  : ".to_owned(), Err(IdProblem::Empty)),
        ("ab".repeat(31), Err(IdProblem::WrongLength(62))),
        (format!("{hex}0"), Err(IdProblem::WrongLength(65))),
        (
            format!("0x{}", "a".repeat(63)),
            Err(IdProblem::WrongLength(63)),
        ),
        (format!("{}g", "a".repeat(63)), Err(IdProblem::NotHex)),
        ("arn:aws:iot:cert/abc".to_owned(), Err(IdProblem::NotHex)),
    ] {
        assert_eq!(parse_certificate_id(&input), expected, "{input:?}");
    }
    assert_eq!(
        id_problem(IdProblem::WrongLength(62), Lang::En),
        "A certificate ID is 64 hexadecimal digits; this one has 62."
    );
    assert_eq!(
        id_problem(IdProblem::WrongLength(62), Lang::Ja),
        "証明書 ID は 16 進数 64 桁です（入力は 62 桁）。"
    );
}

#[test]
fn an_id_problem_shows_once_look_up_was_pressed_and_until_a_look_up_starts() {
    let state = run([m(ManageAction::SetId("abc".to_owned()))]);
    assert_eq!(state.manage.visible_id_problem(), None);
    let state = reduce(state, m(ManageAction::LookupRefused));
    assert_eq!(
        state.manage.visible_id_problem(),
        Some(IdProblem::WrongLength(3))
    );
    let state = reduce(
        state,
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
    );
    assert_eq!(state.manage.visible_id_problem(), None);
    assert_eq!(
        state.manage.id_input,
        id(),
        "the box shows what is looked up"
    );
}

#[test]
fn answers_for_ids_no_longer_shown_are_dropped() {
    let answer = |ticket, id: &str| {
        m(ManageAction::LookupDone {
            ticket,
            result: Ok(response(id)),
        })
    };
    // The user typed another ID while the answer was on its way.
    let state = run([
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
        m(ManageAction::SetId(other_id())),
        answer(1, &id()),
    ]);
    assert_eq!(state.manage.lookup, Remote::NotAsked);
    assert_eq!(state.manage.shown_id, None);

    // Another look-up overtook the first: only the second answer counts,
    // whichever arrives first.
    let state = run([
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
        m(ManageAction::LookupStarted {
            id: other_id(),
            ticket: 2,
        }),
        answer(1, &id()),
    ]);
    assert_eq!(state.manage.lookup, Remote::Loading);
    let state = reduce(state, answer(2, &other_id()));
    assert_eq!(state.manage.looked_up().unwrap().certificate_id, other_id());

    // Typing the same ID differently keeps the table.
    let state = looked_up([m(ManageAction::SetId(format!(" {} ", id().to_uppercase())))]);
    assert!(state.manage.looked_up().is_some());
}

#[test]
fn only_targets_holding_the_certificate_can_be_selected() {
    let state = looked_up([
        toggle("dev-tokyo"),
        toggle("dev-virginia"), // absent
        toggle("prod-osaka"),   // could not be asked
        toggle("nowhere"),
        toggle("prod-tokyo"),
    ]);
    assert_eq!(
        state.manage.selected,
        BTreeSet::from(["dev-tokyo".to_owned(), "prod-tokyo".to_owned()])
    );
    let state = reduce(state, toggle("prod-tokyo"));
    assert_eq!(
        state.manage.selected,
        BTreeSet::from(["dev-tokyo".to_owned()])
    );

    // Destinations are the reverse: asked, and not there.
    let state = reduce(state, to("dev-tokyo"));
    let state = reduce(state, to("prod-osaka"));
    let state = reduce(state, to("dev-virginia"));
    assert_eq!(
        state.manage.transfer.to,
        BTreeSet::from(["dev-virginia".to_owned()])
    );
    assert!(!state.manage.can_receive("prod-osaka"));
}

#[test]
fn another_certificate_starts_from_a_clean_table() {
    let state = looked_up([
        toggle("dev-tokyo"),
        to("dev-virginia"),
        m(ManageAction::Ask(ChangeKind::Delete)),
        m(ManageAction::ChangeSent {
            kind: ChangeKind::Delete,
            certificate_id: id(),
        }),
        m(ManageAction::ChangeDone(Err(failure()))),
        m(ManageAction::LookupStarted {
            id: other_id(),
            ticket: 2,
        }),
    ]);
    let manage = &state.manage;
    assert!(manage.selected.is_empty() && manage.transfer.to.is_empty());
    assert_eq!(manage.pending, None);
    assert_eq!(
        manage.change, None,
        "outcomes were about the other certificate"
    );
}

#[test]
fn actions_are_blocked_until_they_make_sense() {
    let delete = ChangeKind::Delete;
    assert_eq!(blocker(&run([]), delete), Some(ManageText::WaitForTargets));
    let configured = run([Action::ConfigLoaded(config(2, &["P"]))]);
    assert_eq!(blocker(&configured, delete), Some(ManageText::LookUpFirst));
    let loading = reduce(
        configured,
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
    );
    assert_eq!(blocker(&loading, delete), Some(ManageText::LookUpFirst));

    let state = looked_up([]);
    for kind in [ChangeKind::Activate, ChangeKind::Deactivate, delete] {
        assert_eq!(blocker(&state, kind), Some(ManageText::SelectTargets));
    }
    let state = looked_up([toggle("dev-tokyo")]);
    assert_eq!(blocker(&state, delete), None);

    let two = looked_up([
        Action::ConfigLoaded(config(1, &["P"])),
        toggle("dev-tokyo"),
        toggle("prod-tokyo"),
    ]);
    assert_eq!(blocker(&two, delete), Some(ManageText::TooManyTargets));

    let sending = reduce(
        state.clone(),
        m(ManageAction::ChangeSent {
            kind: delete,
            certificate_id: id(),
        }),
    );
    assert_eq!(blocker(&sending, delete), Some(ManageText::ChangeInFlight));
    let refreshing = reduce(
        state,
        m(ManageAction::RefreshStarted {
            id: id(),
            ticket: 2,
        }),
    );
    assert_eq!(blocker(&refreshing, delete), Some(ManageText::Refreshing));
}

#[test]
fn a_transfer_needs_one_source_a_destination_a_policy_and_a_good_thing_name() {
    let copy = ChangeKind::Transfer(TransferMode::Copy);
    let check = |actions: Vec<Action>, expected| {
        let state = looked_up(actions);
        assert_eq!(blocker(&state, copy), expected, "{:?}", state.manage);
    };
    check(vec![to("dev-virginia")], Some(ManageText::SelectOneSource));
    check(
        vec![
            toggle("dev-tokyo"),
            toggle("prod-tokyo"),
            to("dev-virginia"),
        ],
        Some(ManageText::SelectOneSource),
    );
    check(
        vec![toggle("dev-tokyo")],
        Some(ManageText::ChooseDestinations),
    );
    check(vec![toggle("dev-tokyo"), to("dev-virginia")], None);
    check(
        vec![
            toggle("dev-tokyo"),
            to("dev-virginia"),
            m(ManageAction::SetThingName("no spaces allowed".to_owned())),
        ],
        Some(ManageText::ThingNameRule),
    );
    check(
        vec![
            Action::ConfigLoaded(config(4, &[])),
            toggle("dev-tokyo"),
            to("dev-virginia"),
        ],
        Some(ManageText::NoPolicy),
    );
}

#[test]
fn confirmations_name_the_targets_and_build_the_request() {
    let state = looked_up([
        toggle("prod-tokyo"),
        toggle("dev-tokyo"),
        m(ManageAction::Ask(ChangeKind::Delete)),
    ]);
    let c = state.manage.confirmation(&state.config).unwrap();
    // Configuration order, whatever order they were clicked in.
    assert_eq!(
        c.request,
        ChangeRequest::Delete {
            certificate_id: id(),
            targets: vec!["dev-tokyo".to_owned(), "prod-tokyo".to_owned()],
        }
    );
    assert_eq!(
        words(&c, Lang::En),
        [
            "Delete certificate 3f9a…c21e from dev tokyo (111111111111, ap-northeast-1) and prod tokyo (222222222222, ap-northeast-1)?",
            "Its policies and things are detached first.",
            "Devices using it will no longer connect. This cannot be undone.",
        ]
    );
    assert_eq!(
        words(&c, Lang::Ja)[0],
        "証明書 3f9a…c21e を dev tokyo (111111111111, ap-northeast-1) と prod tokyo (222222222222, ap-northeast-1) から削除しますか？"
    );

    let state = looked_up([
        toggle("prod-tokyo"),
        m(ManageAction::Ask(ChangeKind::Activate)),
    ]);
    let c = state.manage.confirmation(&state.config).unwrap();
    assert_eq!(
        c.request,
        ChangeRequest::Status {
            certificate_id: id(),
            request: UpdateStatusRequest {
                status: CertificateStatus::Active,
                targets: vec!["prod-tokyo".to_owned()],
            },
        }
    );
    assert_eq!(
        words(&c, Lang::En)[0],
        "Activate certificate 3f9a…c21e in prod tokyo (222222222222, ap-northeast-1)?"
    );

    // Nothing pending, or pending but blocked meanwhile: no panel.
    assert_eq!(
        looked_up([toggle("dev-tokyo")])
            .manage
            .confirmation(&state.config),
        None
    );
    let state = reduce(state, Action::ConfigLoaded(config(0, &["P"])));
    assert_eq!(state.manage.confirmation(&state.config), None);
}

#[test]
fn a_move_says_what_happens_at_the_source_and_sends_the_form() {
    let mode = TransferMode::MoveDelete;
    let state = looked_up([
        toggle("dev-tokyo"),
        to("dev-virginia"),
        m(ManageAction::SetPolicy("Other".to_owned())),
        m(ManageAction::SetThingName(" sensor-02 ".to_owned())),
        m(ManageAction::SetMode(mode)),
        m(ManageAction::Ask(ChangeKind::Transfer(mode))),
    ]);
    let c = state.manage.confirmation(&state.config).unwrap();
    assert_eq!(
        c.request,
        ChangeRequest::Transfer {
            certificate_id: id(),
            request: TransferCertificateRequest {
                from: "dev-tokyo".to_owned(),
                to: vec!["dev-virginia".to_owned()],
                policy: "Other".to_owned(),
                thing_name: Some("sensor-02".to_owned()),
                mode,
            },
        }
    );
    let en = words(&c, Lang::En);
    assert_eq!(
        en[0],
        "Move certificate 3f9a…c21e from dev tokyo (111111111111, ap-northeast-1) to dev virginia (111111111111, us-east-1)?"
    );
    assert_eq!(
        en[1],
        "In each destination it gets policy Other and thing sensor-02."
    );
    assert!(en[2].contains("deleted from dev tokyo") && en[2].contains("cannot be undone"));
    assert!(en[3].starts_with("If any destination fails"));
    let ja = words(&c, Lang::Ja);
    assert!(ja[2].contains("削除します") && ja[2].contains("元に戻せません"));

    // Any change to the form withdraws the question.
    let state = reduce(state, m(ManageAction::SetMode(TransferMode::Copy)));
    assert_eq!(state.manage.pending, None);
}

#[test]
fn a_copy_uses_the_default_policy_and_the_common_name() {
    let copy = ChangeKind::Transfer(TransferMode::Copy);
    let state = looked_up([
        Action::ConfigLoaded(config(4, &["MarshalDevice"])),
        toggle("prod-tokyo"),
        to("dev-virginia"),
        m(ManageAction::SetPolicy("Withdrawn".to_owned())),
        m(ManageAction::SetThingName("   ".to_owned())),
        m(ManageAction::Ask(copy)),
    ]);
    let c = state.manage.confirmation(&state.config).unwrap();
    let ChangeRequest::Transfer { request, .. } = &c.request else {
        panic!("{c:?}");
    };
    assert_eq!(request.policy, "MarshalDevice");
    assert_eq!(request.thing_name, None);
    assert_eq!(
        words(&c, Lang::En)[1..],
        [
            "In each destination it gets policy MarshalDevice and a thing named after its common name.",
            "It stays as it is in prod tokyo (222222222222, ap-northeast-1).",
        ]
    );
    assert!(words(&c, Lang::Ja)[1].starts_with("コピー先では"));
}

#[test]
fn lists_of_targets_read_naturally() {
    let c = config(4, &[]);
    let t = |n: usize| c.targets[..n].to_vec();
    assert_eq!(list(&t(0), Lang::En), "");
    assert_eq!(
        list(&t(1), Lang::En),
        "dev tokyo (111111111111, ap-northeast-1)"
    );
    assert_eq!(
        list(&t(3), Lang::En),
        "dev tokyo (111111111111, ap-northeast-1), dev virginia (111111111111, us-east-1) and prod tokyo (222222222222, ap-northeast-1)"
    );
    assert_eq!(
        list(&t(3), Lang::Ja),
        "dev tokyo (111111111111, ap-northeast-1)、dev virginia (111111111111, us-east-1)、prod tokyo (222222222222, ap-northeast-1)"
    );
    // A target the config does not know is named by its id.
    assert_eq!(list(&[target_info(Some(&c), "gone")], Lang::En), "gone");
    assert_eq!(short_id(&id()), "3f9a…c21e");
    assert_eq!(short_id("abc"), "abc");
}

#[test]
fn outcomes_are_kept_and_the_refresh_keeps_the_table_until_it_answers() {
    let outcome = |target: &str, ok| TargetOutcome {
        target: target.to_owned(),
        ok,
        status: None,
        detail: if ok { "deleted" } else { "" }.to_owned(),
        error: (!ok).then(|| TargetError {
            code: TargetErrorCode::AwsConflict,
            message: "busy".to_owned(),
        }),
    };
    let outcomes: Outcomes = DeleteCertificateResponse {
        certificate_id: id(),
        results: vec![outcome("dev-tokyo", true), outcome("prod-tokyo", false)],
    }
    .into();
    let state = looked_up([
        toggle("dev-tokyo"),
        toggle("prod-tokyo"),
        m(ManageAction::Ask(ChangeKind::Delete)),
        m(ManageAction::ChangeSent {
            kind: ChangeKind::Delete,
            certificate_id: id(),
        }),
    ]);
    assert_eq!(state.manage.pending, None);
    assert!(state.manage.changing());
    let state = reduce(state, m(ManageAction::ChangeDone(Ok(outcomes.clone()))));
    let change = state.manage.change.clone().unwrap();
    assert_eq!(change.outcome, Remote::Loaded(Rc::new(outcomes.clone())));
    assert_eq!(outcomes.counts(ChangeKind::Delete), (1, 1));
    let rows = outcomes.rows(ChangeKind::Delete);
    assert_eq!(rows[0].detail, OutcomeDetail::Said("deleted".to_owned()));
    assert!(matches!(rows[1].detail, OutcomeDetail::Failed(_)));
    assert_eq!(rows[1].role, None);

    // The re-run keeps the old table on screen, then prunes what is gone.
    let state = reduce(
        state,
        m(ManageAction::RefreshStarted {
            id: id(),
            ticket: 2,
        }),
    );
    assert!(state.manage.refreshing && state.manage.looked_up().is_some());
    let fresh = Rc::new(GetCertificateResponse {
        certificate_id: id(),
        targets: vec![
            absent("dev-tokyo"),
            absent("dev-virginia"),
            present("prod-tokyo", CertificateStatus::Inactive),
        ],
    });
    let state = reduce(
        state,
        m(ManageAction::LookupDone {
            ticket: 2,
            result: Ok(fresh),
        }),
    );
    assert!(!state.manage.refreshing);
    assert_eq!(
        state.manage.selected,
        BTreeSet::from(["prod-tokyo".to_owned()])
    );
    assert!(
        state.manage.change.is_some(),
        "outcomes stay after the refresh"
    );

    // A refresh for a certificate no longer shown is not adopted.
    let state = reduce(state, m(ManageAction::SetId(other_id())));
    let state = reduce(
        state,
        m(ManageAction::RefreshStarted {
            id: id(),
            ticket: 3,
        }),
    );
    assert_eq!(state.manage.lookup, Remote::NotAsked);
}

#[test]
fn a_transfer_lists_destinations_first_and_says_when_the_source_was_kept() {
    let destination = |target: &str, ok: bool| RegistrationResult {
        index: 0,
        certificate_id: id(),
        target: target.to_owned(),
        registration: ok.then(|| Registration {
            certificate_arn: "arn".to_owned(),
            status: CertificateStatus::Active,
            policy: "MarshalDevice".to_owned(),
            thing: "sensor-01".to_owned(),
            endpoint: "x-ats.iot.us-east-1.amazonaws.com".to_owned(),
            newly_registered: true,
        }),
        error: (!ok).then(|| TargetError {
            code: TargetErrorCode::PolicyMissing,
            message: "no policy".to_owned(),
        }),
    };
    let moved: Outcomes = TransferCertificateResponse {
        certificate_id: id(),
        destinations: vec![destination("dev-virginia", true)],
        source: Some(TargetOutcome {
            target: "dev-tokyo".to_owned(),
            ok: true,
            status: Some(CertificateStatus::Inactive),
            detail: "deactivated".to_owned(),
            error: None,
        }),
    }
    .into();
    let kind = ChangeKind::Transfer(TransferMode::MoveDeactivate);
    let rows = moved.rows(kind);
    assert_eq!(
        rows.iter()
            .map(|r| (r.target.as_str(), r.role, r.status))
            .collect::<Vec<_>>(),
        [
            (
                "dev-virginia",
                Some(Role::Destination),
                Some(CertificateStatus::Active)
            ),
            (
                "dev-tokyo",
                Some(Role::Source),
                Some(CertificateStatus::Inactive)
            ),
        ]
    );
    assert!(!moved.source_kept(kind));

    let failed: Outcomes = TransferCertificateResponse {
        certificate_id: id(),
        destinations: vec![destination("dev-virginia", false)],
        source: None,
    }
    .into();
    assert!(failed.source_kept(kind));
    assert!(!failed.source_kept(ChangeKind::Transfer(TransferMode::Copy)));
    assert_eq!(failed.counts(kind), (0, 1));
}

#[test]
fn a_late_change_answer_without_a_change_is_ignored() {
    let state = looked_up([m(ManageAction::ChangeDone(Err(failure())))]);
    assert_eq!(state.manage.change, None);
}

fn made() -> Made {
    let form = CredentialForm {
        common_name: "file-01".to_owned(),
        ..CredentialForm::default()
    };
    let now_ms = 1_764_374_400_000.0;
    let crate::generation::GenerateOutcome::Made {
        certificate_pem,
        private_key_pem,
        ..
    } = form.job(1, now_ms).unwrap().run()
    else {
        panic!("generation failed");
    };
    let now = crate::generation::now_from_unix_ms(now_ms).unwrap();
    Made::from_worker(&certificate_pem, private_key_pem, now).unwrap()
}

#[test]
fn certificate_files_give_their_id_and_keys_are_refused() {
    let made = made();
    let id = made.info.certificate_id.clone();
    let cert_pem = made.certificate.to_pem();
    let key_pem = made
        .private_key
        .as_ref()
        .unwrap()
        .to_pkcs8_pem()
        .to_string();
    let key = marshal_shared::PrivateKey::from_pem(&key_pem, "").unwrap();
    let found = |certificates, key_skipped| {
        Ok(FileCertificate {
            certificate_id: id.clone(),
            certificates,
            key_skipped,
        })
    };
    let p12 = marshal_shared::pkcs12::export(&made.certificate, &key, "", "x").unwrap();
    for (what, bytes, expected) in [
        ("PEM", cert_pem.clone().into_bytes(), found(1, false)),
        ("DER", made.certificate.der().to_vec(), found(1, false)),
        (
            "key then certificate",
            format!("{key_pem}\n{cert_pem}").into_bytes(),
            found(1, true),
        ),
        (
            "chain",
            format!("{cert_pem}{}", marshal_shared::AMAZON_ROOT_CA_1_PEM).into_bytes(),
            found(2, false),
        ),
        (
            "PEM key",
            key_pem.clone().into_bytes(),
            Err(FileProblem::KeyOnly),
        ),
        (
            "DER key",
            key.pkcs8_der().to_vec(),
            Err(FileProblem::KeyOnly),
        ),
        ("PKCS#12", p12, Err(FileProblem::Pkcs12)),
        ("blank", b" \n".to_vec(), Err(FileProblem::Empty)),
        (
            "too large",
            vec![b'a'; MAX_FILE_BYTES + 1],
            Err(FileProblem::TooLarge),
        ),
    ] {
        assert_eq!(certificate_id_of_file(&bytes), expected, "{what}");
    }
    for garbage in [
        &b"hello"[..],
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(
            matches!(
                certificate_id_of_file(garbage),
                Err(FileProblem::NotACertificate { .. })
            ),
            "{garbage:?}"
        );
    }
}

#[test]
fn only_the_awaited_file_is_kept() {
    let read = |ticket| {
        m(ManageAction::FileRead {
            ticket,
            result: Err(FileProblem::Empty),
        })
    };
    let reading = |ticket, name: &str| {
        m(ManageAction::FileReading {
            ticket,
            name: name.to_owned(),
        })
    };
    let state = run([reading(1, "a.pem"), reading(2, "b.pem"), read(1)]);
    assert!(matches!(
        state.manage.file,
        FileState::Reading { ticket: 2, .. }
    ));
    let state = reduce(state, read(2));
    assert_eq!(
        state.manage.file,
        FileState::Read {
            name: "b.pem".to_owned(),
            result: Err(FileProblem::Empty)
        }
    );
    assert_eq!(
        reduce(state.clone(), read(3)).manage.file,
        state.manage.file
    );
}

/// Not the caller's: registered outside Marshal, or by someone else.
fn not_mine(target: &str, status: CertificateStatus) -> TargetCertificate {
    TargetCertificate {
        managed: false,
        policies: vec![],
        things: vec![],
        ..present(target, status)
    }
}

/// [`config`] where the caller administers `admin_of` and is in the groups `line-7` and `qa`.
fn admin_config(admin_of: &[&str]) -> Rc<GetConfigResponse> {
    let mut config = Rc::unwrap_or_clone(config(4, &["MarshalDevice"]));
    for target in &mut config.targets {
        target.admin = admin_of.contains(&target.id.as_str());
    }
    config.groups = vec!["line-7".to_owned(), "qa".to_owned()];
    Rc::new(config)
}

/// [`id`] looked up with `config` and `targets` as the answer, then `more`.
fn looked_up_as(
    config: Rc<GetConfigResponse>,
    targets: Vec<TargetCertificate>,
    more: impl IntoIterator<Item = Action>,
) -> State {
    let start = [
        Action::ConfigLoaded(config),
        m(ManageAction::LookupStarted {
            id: id(),
            ticket: 1,
        }),
        m(ManageAction::LookupDone {
            ticket: 1,
            result: Ok(Rc::new(GetCertificateResponse {
                certificate_id: id(),
                targets,
            })),
        }),
    ];
    run(start.into_iter().chain(more))
}

fn adopt(target: &str) -> Action {
    m(ManageAction::ToggleAdopt(target.to_owned()))
}

#[test]
fn actions_are_offered_only_where_the_certificate_is_yours() {
    let mixed = || {
        vec![
            present("dev-tokyo", CertificateStatus::Active),
            absent("dev-virginia"),
            not_mine("prod-tokyo", CertificateStatus::Active),
            unreachable_target("prod-osaka"),
        ]
    };
    // Clicking a target that is not yours selects nothing; yours selects.
    let state = looked_up_as(
        config(4, &["MarshalDevice"]),
        mixed(),
        [toggle("prod-tokyo"), toggle("dev-tokyo")],
    );
    assert_eq!(
        state.manage.selected,
        BTreeSet::from(["dev-tokyo".to_owned()])
    );
    assert!(state.manage.changeable_anywhere());
    assert!(state.manage.has_unmanaged());
    let rows: Vec<bool> = state
        .manage
        .looked_up()
        .unwrap()
        .targets
        .iter()
        .map(changeable)
        .collect();
    assert_eq!(rows, [true, false, false, false]);
    assert_eq!(blocker(&state, ChangeKind::Deactivate), None);

    // Not yours anywhere it is: no action can be asked for, and the page says why.
    let state = looked_up_as(
        config(4, &["MarshalDevice"]),
        vec![
            not_mine("dev-tokyo", CertificateStatus::Active),
            absent("dev-virginia"),
        ],
        [toggle("dev-tokyo"), to("dev-virginia")],
    );
    assert!(state.manage.selected.is_empty());
    assert!(!state.manage.changeable_anywhere());
    for kind in [
        ChangeKind::Activate,
        ChangeKind::Deactivate,
        ChangeKind::Delete,
        ChangeKind::Transfer(TransferMode::Copy),
    ] {
        assert_eq!(
            blocker(&state, kind),
            Some(ManageText::NoneYours),
            "{kind:?}"
        );
        let asked = reduce(state.clone(), m(ManageAction::Ask(kind)));
        assert_eq!(asked.manage.confirmation(&asked.config), None, "{kind:?}");
    }

    // A refresh that says it is no longer yours drops the selection.
    let state = looked_up_as(
        config(4, &["MarshalDevice"]),
        mixed(),
        [toggle("dev-tokyo")],
    );
    let state = reduce(
        state,
        m(ManageAction::RefreshStarted {
            id: id(),
            ticket: 2,
        }),
    );
    let state = reduce(
        state,
        m(ManageAction::LookupDone {
            ticket: 2,
            result: Ok(Rc::new(GetCertificateResponse {
                certificate_id: id(),
                targets: vec![not_mine("dev-tokyo", CertificateStatus::Active)],
            })),
        }),
    );
    assert!(state.manage.selected.is_empty());
}

#[test]
fn adopt_is_offered_to_admins_only_where_the_certificate_is_there_and_nobody_manages_it() {
    let targets = || {
        vec![
            // admin, but Marshal manages it already: change it, do not adopt it
            present("dev-tokyo", CertificateStatus::Active),
            // admin, not there
            absent("dev-virginia"),
            // admin, there, unmanaged: the one to adopt
            not_mine("prod-tokyo", CertificateStatus::Inactive),
            // admin, but the target could not be asked
            unreachable_target("prod-osaka"),
        ]
    };
    let admin_everywhere =
        || admin_config(&["dev-tokyo", "dev-virginia", "prod-tokyo", "prod-osaka"]);
    let adoptable_ids = |state: &State| -> Vec<String> {
        state
            .manage
            .adoptable_targets(&state.config)
            .iter()
            .map(|t| t.target.clone())
            .collect()
    };
    let state = looked_up_as(admin_everywhere(), targets(), []);
    assert_eq!(adoptable_ids(&state), ["prod-tokyo"]);
    assert_eq!(
        blocker(&state, ChangeKind::Adopt),
        Some(ManageText::SelectAdoptTargets)
    );

    // Not an admin of prod-tokyo (admin elsewhere): nothing to adopt, and choosing it does nothing.
    let state = looked_up_as(
        admin_config(&["dev-tokyo"]),
        targets(),
        [adopt("prod-tokyo")],
    );
    assert!(adoptable_ids(&state).is_empty());
    assert!(state.manage.adopt.targets.is_empty());
    assert_eq!(
        blocker(&state, ChangeKind::Adopt),
        Some(ManageText::SelectAdoptTargets)
    );

    // Only the adoptable target can be chosen; the request names it and the group.
    let state = looked_up_as(
        admin_everywhere(),
        targets(),
        [
            adopt("dev-tokyo"),
            adopt("dev-virginia"),
            adopt("prod-osaka"),
            adopt("prod-tokyo"),
            m(ManageAction::SetAdoptGroup(Some("line-7".to_owned()))),
            m(ManageAction::SetAdoptGroup(Some("not-my-group".to_owned()))),
            m(ManageAction::Ask(ChangeKind::Adopt)),
        ],
    );
    assert_eq!(
        state.manage.adopt.targets,
        BTreeSet::from(["prod-tokyo".to_owned()])
    );
    let c = state.manage.confirmation(&state.config).unwrap();
    assert_eq!(
        c.request,
        ChangeRequest::Adopt {
            certificate_id: id(),
            request: AdoptRequest {
                targets: vec!["prod-tokyo".to_owned()],
                owner_group: Some("line-7".to_owned()),
            },
        }
    );
    let ChangeRequest::Adopt { request, .. } = &c.request else {
        unreachable!()
    };
    assert_eq!(
        serde_json::to_value(request).unwrap(),
        serde_json::json!({"targets": ["prod-tokyo"], "ownerGroup": "line-7"})
    );
    assert_eq!(
        words(&c, Lang::En),
        [
            "Adopt certificate 3f9a…c21e in prod tokyo (222222222222, ap-northeast-1)?",
            "Marshal records you and the group line-7 as its owner there, with the things attached to it. Nothing changes in AWS.",
        ]
    );
    assert!(words(&c, Lang::Ja)[0].contains("取り込みますか"));

    // "Only me" sends no group.
    let state = reduce(state, m(ManageAction::SetAdoptGroup(None)));
    let state = reduce(state, m(ManageAction::Ask(ChangeKind::Adopt)));
    let c = state.manage.confirmation(&state.config).unwrap();
    assert!(matches!(
        c.request,
        ChangeRequest::Adopt { ref request, .. } if request.owner_group.is_none()
    ));
    assert!(words(&c, Lang::En)[1].contains("you alone"));

    // Once adopted (the refresh says it is managed now) it is no longer offered.
    let state = reduce(
        state,
        m(ManageAction::RefreshStarted {
            id: id(),
            ticket: 2,
        }),
    );
    let mut now_managed = targets();
    now_managed[2].managed = true;
    let state = reduce(
        state,
        m(ManageAction::LookupDone {
            ticket: 2,
            result: Ok(Rc::new(GetCertificateResponse {
                certificate_id: id(),
                targets: now_managed,
            })),
        }),
    );
    assert!(adoptable_ids(&state).is_empty());
    assert!(state.manage.adopt.targets.is_empty());
    assert!(!state.manage.has_unmanaged());
}

#[test]
fn adopt_outcomes_are_listed_per_target() {
    let outcomes: Outcomes = AdoptCertificateResponse {
        certificate_id: id(),
        results: vec![TargetOutcome {
            target: "prod-tokyo".to_owned(),
            ok: false,
            status: Some(CertificateStatus::Active),
            detail: String::new(),
            error: Some(TargetError {
                code: TargetErrorCode::ForeignAttachment,
                message: "thing of another owner".to_owned(),
            }),
        }],
    }
    .into();
    assert_eq!(outcomes.counts(ChangeKind::Adopt), (0, 1));
    let rows = outcomes.rows(ChangeKind::Adopt);
    assert_eq!(rows[0].role, None);
    assert!(
        matches!(rows[0].detail, OutcomeDetail::Failed(ref e) if e.code == TargetErrorCode::ForeignAttachment)
    );
}
