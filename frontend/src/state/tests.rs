//! The reducer, natively: each test a list of actions and what must follow.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::test_support::example;
use marshal_shared::api::{ConfigLimits, PolicyInfo, TargetInfo};

const NOW_MS: f64 = 1_764_374_400_000.0;

fn run(actions: impl IntoIterator<Item = Action>) -> State {
    actions.into_iter().fold(State::new(Lang::En), reduce)
}

fn config(max_targets: usize) -> Rc<GetConfigResponse> {
    let target = |id: &str, account: &str, region: &str| TargetInfo {
        id: id.to_owned(),
        name: format!("Target {id}"),
        account_id: account.to_owned(),
        region: region.to_owned(),
        admin: false,
    };
    Rc::new(GetConfigResponse {
        targets: vec![
            target("b-virginia", "222222222222", "us-east-1"),
            target("a-virginia", "111111111111", "us-east-1"),
            target("a-tokyo", "111111111111", "ap-northeast-1"),
        ],
        policies: vec![
            PolicyInfo {
                name: "MarshalDevice".to_owned(),
                created_when_missing: true,
            },
            PolicyInfo {
                name: "Other".to_owned(),
                created_when_missing: false,
            },
        ],
        thing_name_pattern: "[a-zA-Z0-9_-]{1,64}".to_owned(),
        limits: ConfigLimits {
            max_body_bytes: 1 << 20,
            max_targets_per_request: max_targets,
            max_certificates_per_request: 100,
        },
        groups: Vec::new(),
    })
}

fn made(cn: &str) -> Rc<Made> {
    let form = CredentialForm {
        common_name: cn.to_owned(),
        ..CredentialForm::default()
    };
    let outcome = form.job(1, NOW_MS).unwrap().run();
    let crate::generation::GenerateOutcome::Made {
        certificate_pem,
        private_key_pem,
        ..
    } = outcome
    else {
        panic!("generation failed: {outcome:?}");
    };
    let now = crate::generation::now_from_unix_ms(NOW_MS).unwrap();
    Rc::new(Made::from_worker(&certificate_pem, private_key_pem, now).unwrap())
}

#[test]
fn the_form_checks_what_the_worker_would_refuse() {
    let check = |edit: fn(&mut CredentialForm), expected: &[(Field, Text)]| {
        let mut form = CredentialForm {
            common_name: "sensor-01".to_owned(),
            ..CredentialForm::default()
        };
        edit(&mut form);
        assert_eq!(form.errors(), expected, "{form:?}");
    };
    check(|_| {}, &[]);
    check(
        |f| f.common_name = "  ".to_owned(),
        &[(Field::CommonName, Text::ErrorCommonNameEmpty)],
    );
    check(
        |f| f.common_name = "x".repeat(65),
        &[(Field::CommonName, Text::ErrorTooLong)],
    );
    for days in ["0", "", "abc", "36501", "-1"] {
        let mut form = CredentialForm {
            common_name: "a".to_owned(),
            validity_days: days.to_owned(),
            ..CredentialForm::default()
        };
        assert_eq!(
            form.errors(),
            [(Field::ValidityDays, Text::ErrorValidity)],
            "{days:?}"
        );
        form.validity_days = "36500".to_owned();
        assert!(form.errors().is_empty());
    }
    check(
        |f| f.country = "jp".to_owned(),
        &[(Field::Country, Text::ErrorCountry)],
    );
    check(|f| f.country = "JP".to_owned(), &[]);
    check(
        |f| f.organization = "a\u{7}b".to_owned(),
        &[(Field::Organization, Text::ErrorControl)],
    );
}

#[test]
fn the_job_trims_and_drops_empty_optional_fields() {
    let form = CredentialForm {
        key_type: KeyType::EcP384,
        common_name: " sensor-01 ".to_owned(),
        validity_days: " 365 ".to_owned(),
        organization: "ACME".to_owned(),
        organizational_unit: "  ".to_owned(),
        country: String::new(),
    };
    let job = form.job(3, NOW_MS).unwrap();
    assert_eq!(job.key_type, "ec-p384");
    assert_eq!(job.common_name, "sensor-01");
    assert_eq!(job.validity_days, 365);
    assert_eq!(job.organization.as_deref(), Some("ACME"));
    assert_eq!(job.organizational_unit, None);
    assert_eq!(job.country, None);
}

#[test]
fn answers_for_older_jobs_are_dropped() {
    let first = made("first");
    let state = run([
        Action::GenerationStarted { job: 1 },
        Action::GenerationStarted { job: 2 },
        Action::Generated {
            job: 1,
            made: first,
        },
    ]);
    assert!(matches!(state.generation, Generation::Running));
    let state = reduce(
        state,
        Action::GenerationFailed {
            job: 2,
            message: "boom".to_owned(),
        },
    );
    assert!(matches!(state.generation, Generation::Failed(ref m) if m == "boom"));
}

#[test]
fn made_credentials_carry_id_details_and_preflight() {
    let made = made("sensor-01");
    assert_eq!(made.info.certificate_id, made.certificate.id());
    assert_eq!(made.info.certificate_id.len(), 64);
    assert!(marshal_shared::preflight::accepted(&made.findings));
    assert!(made.private_key.is_some());
    assert_eq!(made.origin, crate::state::Origin::Generated);
}

#[test]
fn config_picks_the_first_policy_and_keeps_known_targets() {
    let state = run([
        Action::ToggleTarget("a-tokyo".to_owned()),
        Action::ToggleTarget("gone".to_owned()),
        Action::ConfigLoaded(config(4)),
    ]);
    assert_eq!(state.register.policy.as_deref(), Some("MarshalDevice"));
    assert_eq!(
        state.register.targets.iter().collect::<Vec<_>>(),
        ["a-tokyo"]
    );
    let state = run([
        Action::SetPolicy("Other".to_owned()),
        Action::ConfigLoaded(config(4)),
    ]);
    assert_eq!(state.register.policy.as_deref(), Some("Other"));
}

#[test]
fn register_is_blocked_until_everything_is_there() {
    let blocker = |actions: Vec<Action>| run(actions).register_blocker();
    assert_eq!(blocker(vec![]), Some(Text::LoadingTargets));
    assert_eq!(
        blocker(vec![Action::ConfigLoaded(config(4))]),
        Some(Text::RegisterNeedsCredentials)
    );
    let ready = || {
        vec![
            Action::ConfigLoaded(config(2)),
            Action::SetCommonName("sensor-01".to_owned()),
            Action::GenerationStarted { job: 1 },
            Action::Generated {
                job: 1,
                made: made("sensor-01"),
            },
        ]
    };
    assert_eq!(blocker(ready()), Some(Text::ChooseTarget));
    let mut actions = ready();
    actions.extend(["a-tokyo", "a-virginia", "b-virginia"].map(|t| Action::ToggleTarget(t.into())));
    assert_eq!(blocker(actions), Some(Text::TooManyTargets));
    let mut actions = ready();
    actions.push(Action::ToggleTarget("a-tokyo".into()));
    actions.push(Action::SetThingName("bad name".into()));
    assert_eq!(blocker(actions), Some(Text::ThingNameRule));
    let mut actions = ready();
    actions.push(Action::ToggleTarget("a-tokyo".into()));
    actions.push(Action::RegistrationSent);
    assert_eq!(blocker(actions), Some(Text::Registering));
}

#[test]
fn the_registration_request_carries_the_certificate_and_never_the_key() {
    let made = made("sensor-01");
    let state = run([
        Action::ConfigLoaded(config(4)),
        Action::SetCommonName("sensor-01".to_owned()),
        Action::GenerationStarted { job: 1 },
        Action::Generated {
            job: 1,
            made: made.clone(),
        },
        Action::ToggleTarget("a-tokyo".to_owned()),
        Action::ToggleTarget("b-virginia".to_owned()),
        Action::ToggleTarget("a-virginia".to_owned()),
        Action::ToggleTarget("a-virginia".to_owned()),
    ]);
    let request = state.registration_request().unwrap();
    assert_eq!(request.targets, ["a-tokyo", "b-virginia"]);
    assert_eq!(request.policy, "MarshalDevice");
    assert_eq!(request.certificates.len(), 1);
    assert_eq!(
        request.certificates[0].thing_name.as_deref(),
        Some("sensor-01")
    );
    let body = serde_json::to_string(&request).unwrap();
    assert!(!body.contains("PRIVATE KEY"));
    let key_pem = made.private_key.as_ref().unwrap().to_pkcs8_pem();
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!body.contains(&key_body[..40]));
    assert_eq!(
        marshal_shared::find_key_material(&body),
        None,
        "the API would refuse this body"
    );
}

/// [`config`] for a caller in the groups `line-7` and `qa`.
fn config_with_groups() -> Rc<GetConfigResponse> {
    let mut config = Rc::unwrap_or_clone(config(4));
    config.groups = vec!["line-7".to_owned(), "qa".to_owned()];
    Rc::new(config)
}

/// The JSON the register button would send after `actions`, on top of
/// credentials made and a-tokyo chosen.
fn registration_body(actions: impl IntoIterator<Item = Action>) -> serde_json::Value {
    let start = [
        Action::GenerationStarted { job: 1 },
        Action::Generated {
            job: 1,
            made: made("sensor-01"),
        },
        Action::ToggleTarget("a-tokyo".to_owned()),
    ];
    let state = run(start.into_iter().chain(actions));
    serde_json::to_value(state.registration_request().unwrap()).unwrap()
}

#[test]
fn the_owner_group_chosen_goes_in_the_registration_body() {
    let with_groups = || Action::ConfigLoaded(config_with_groups());
    let group = |g: Option<&str>| Action::SetOwnerGroup(g.map(str::to_owned));
    // Default "only me": no ownerGroup at all.
    let body = registration_body([with_groups()]);
    assert_eq!(body.get("ownerGroup"), None, "{body}");
    let body = registration_body([with_groups(), group(Some("qa"))]);
    assert_eq!(body["ownerGroup"], "qa", "{body}");
    // Back to "only me".
    let body = registration_body([with_groups(), group(Some("qa")), group(None)]);
    assert_eq!(body.get("ownerGroup"), None, "{body}");
    // Not one of the caller's groups, or before the config says which: ignored.
    let body = registration_body([with_groups(), group(Some("admins"))]);
    assert_eq!(body.get("ownerGroup"), None, "{body}");
    let body = registration_body([group(Some("qa")), with_groups()]);
    assert_eq!(body.get("ownerGroup"), None, "{body}");
    // A fresh config without the group (the caller left it) drops the choice.
    let body = registration_body([
        with_groups(),
        group(Some("qa")),
        Action::ConfigLoaded(config(4)),
    ]);
    assert_eq!(body.get("ownerGroup"), None, "{body}");
    let body = registration_body([
        with_groups(),
        group(Some("line-7")),
        Action::ConfigLoaded(config_with_groups()),
    ]);
    assert_eq!(body["ownerGroup"], "line-7", "{body}");
}

#[test]
fn new_credentials_clear_old_results_and_thing_name_follows_cn() {
    let state = run([
        Action::SetCommonName("dev-1".to_owned()),
        Action::RegistrationSent,
        Action::GenerationStarted { job: 1 },
    ]);
    assert_eq!(state.registration, Remote::NotAsked);
    assert_eq!(state.thing_name(), "dev-1");
    let state = reduce(state, Action::SetThingName("other".to_owned()));
    assert_eq!(state.thing_name(), "other");
}

#[test]
fn targets_are_grouped_by_account_in_config_order() {
    let config = config(4);
    let groups = targets_by_account(&config);
    let shape: Vec<(&str, Vec<&str>)> = groups
        .iter()
        .map(|(a, ts)| (a.as_str(), ts.iter().map(|t| t.id.as_str()).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            ("222222222222", vec!["b-virginia"]),
            ("111111111111", vec!["a-tokyo", "a-virginia"]),
        ]
    );
}

#[test]
fn an_empty_common_name_is_flagged_only_after_generate_was_pressed() {
    let state = run([]);
    assert!(!state.form.errors().is_empty());
    assert_eq!(state.visible_form_errors(), []);
    let state = run([
        Action::SetCountry("jp".to_owned()),
        Action::GenerationRefused,
    ]);
    assert_eq!(
        state.visible_form_errors(),
        [
            (Field::CommonName, Text::ErrorCommonNameEmpty),
            (Field::Country, Text::ErrorCountry)
        ]
    );
}

#[test]
fn an_import_asks_for_the_password_then_replaces_the_credentials() {
    let now = crate::generation::now_from_unix_ms(NOW_MS).unwrap();
    let files = Rc::new(vec![example("p256.modern.pw.p12")]);
    let state = run([
        Action::GenerationStarted { job: 3 },
        Action::ImportFiles {
            files: files.clone(),
            now,
        },
    ]);
    let problem = state.import.problem.clone().unwrap();
    assert_eq!(problem.reason, Text::ImportNeedsPassword);
    assert_eq!(state.import.files, files, "kept for the retry");
    assert_eq!(
        state.generation,
        Generation::Running,
        "nothing replaced yet"
    );

    let state = [
        Action::SetImportPassword("marshal-test".to_owned()),
        Action::RetryImport { now },
    ]
    .into_iter()
    .fold(state, reduce);
    let imported = state.made().unwrap().clone();
    assert!(matches!(
        imported.origin,
        Origin::Imported {
            key_check: KeyCheck::Matches,
            ..
        }
    ));
    assert!(state.import.files.is_empty(), "the bytes are not kept");
    assert!(state.import.password.0.is_empty(), "nor the password");
    assert!(state.import.problem.is_none());
    // The generation still running when the import landed must not win.
    let state = reduce(
        state,
        Action::Generated {
            job: 3,
            made: made("late"),
        },
    );
    assert_eq!(
        state.made().unwrap().info.common_name,
        imported.info.common_name
    );
    // The thing name follows the imported certificate's CN.
    assert_eq!(Some(state.thing_name()), imported.info.common_name.clone());
    assert!(!format!("{state:?}").contains("marshal-test"));
}

#[test]
fn the_kit_lists_only_targets_where_this_certificate_landed() {
    use marshal_shared::api::{
        CertificateStatus, Registration, RegistrationResult, RegistrationSummary, TargetError,
        TargetErrorCode,
    };
    let made = made("sensor-01");
    let id = made.info.certificate_id.clone();
    let ok = |target: &str, host: &str| RegistrationResult {
        index: 0,
        certificate_id: id.clone(),
        target: target.to_owned(),
        registration: Some(Registration {
            certificate_arn: format!("arn:aws:iot:us-east-1:111111111111:cert/{id}"),
            status: CertificateStatus::Active,
            policy: "MarshalDevice".to_owned(),
            thing: "sensor-01".to_owned(),
            endpoint: host.to_owned(),
            newly_registered: true,
        }),
        error: None,
    };
    let failed = RegistrationResult {
        registration: None,
        error: Some(TargetError {
            code: TargetErrorCode::AwsThrottled,
            message: "slow down".to_owned(),
        }),
        ..ok("a-tokyo", "")
    };
    let response = CreateRegistrationResponse {
        results: vec![
            ok("a-virginia", "a-ats.example"),
            failed,
            ok("gone", "g-ats.example"),
        ],
        summary: RegistrationSummary {
            succeeded: 2,
            failed: 1,
        },
    };
    let state = run([
        Action::ConfigLoaded(config(4)),
        Action::Generated { job: 0, made },
        Action::RegistrationDone(Rc::new(response)),
    ]);
    let kit = state.kit_endpoints();
    assert_eq!(kit.len(), 2);
    assert_eq!(kit[0].endpoint, "a-ats.example");
    assert_eq!(kit[0].account_id, "111111111111");
    assert_eq!(kit[0].region, "us-east-1");
    assert_eq!(kit[0].name, "Target a-virginia");
    // A target no longer configured keeps its id as its name.
    assert_eq!(kit[1].name, "gone");
    assert_eq!(kit[1].thing_name.as_deref(), Some("sensor-01"));
}

#[test]
fn a_batch_uses_the_form_settings_and_drops_stale_answers() {
    let state = run([
        Action::SetKeyType(KeyType::EcP384),
        Action::SetOrganization("ACME".to_owned()),
        Action::SetBatchNames("pump-1\npump-2\n".to_owned()),
    ]);
    let job = state.batch_job(NOW_MS).unwrap();
    assert_eq!(job.names, ["pump-1", "pump-2"]);
    assert_eq!(job.settings.key_type, "ec-p384");
    assert_eq!(job.settings.organization.as_deref(), Some("ACME"));

    let bad_form = reduce(state.clone(), Action::SetCountry("Japan".to_owned()));
    assert_eq!(
        bad_form.batch_job(NOW_MS).unwrap_err().reason,
        Text::BatchFormErrors
    );
    let bad_list = reduce(state.clone(), Action::SetBatchNames("a b".to_owned()));
    assert_eq!(
        bad_list.batch_job(NOW_MS).unwrap_err().reason,
        Text::BatchBadName
    );

    let result = |count| {
        Rc::new(BatchResult {
            file_name: "marshal-batch-2.zip".to_owned(),
            count,
            ms: 12.0,
            zip: Zeroizing::new(vec![1, 2, 3]),
            job_file: Rc::from(""),
        })
    };
    let state = [
        Action::BatchStarted { run: 1, total: 2 },
        Action::BatchCancelled,
        Action::BatchStarted { run: 2, total: 2 },
        Action::BatchProgress { run: 1, done: 2 },
        Action::BatchDone {
            run: 1,
            result: result(9),
        },
    ]
    .into_iter()
    .fold(state, reduce);
    assert_eq!(
        state.batch.status,
        BatchStatus::Running { done: 0, total: 2 }
    );
    let state = [
        Action::BatchProgress { run: 2, done: 1 },
        Action::BatchDone {
            run: 2,
            result: result(2),
        },
    ]
    .into_iter()
    .fold(state, reduce);
    assert_eq!(state.batch.status, BatchStatus::Done(result(2)));
    // Cancelling after the end changes nothing.
    let state = reduce(state, Action::BatchCancelled);
    assert!(matches!(state.batch.status, BatchStatus::Done(_)));
}

#[test]
fn signing_out_drops_what_the_api_told_that_user_and_keeps_the_credentials() {
    let state = run([
        Action::ConfigLoaded(config(4)),
        Action::GenerationStarted { job: 1 },
        Action::Generated {
            job: 1,
            made: made("alice-sensor"),
        },
        Action::ToggleTarget("a-tokyo".into()),
        Action::SetThingName("alice-thing".into()),
        Action::RegistrationSent,
        Action::SignedOut,
    ]);
    assert_eq!(state.config, Remote::NotAsked, "her targets are gone");
    assert_eq!(state.register, RegisterForm::default());
    assert_eq!(state.registration, Remote::NotAsked);
    assert_eq!(state.manage, manage::Manage::default());
    assert!(
        state.made().is_some(),
        "credentials made without signing in stay (the key may not be saved yet)"
    );
}
