//! The job's plan and watch, natively.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use marshal_shared::api::{ConfigLimits, ErrorCode, PairCounts, PolicyInfo};

use super::*;

fn config(max_body_bytes: usize) -> GetConfigResponse {
    GetConfigResponse {
        targets: Vec::new(),
        policies: vec![PolicyInfo {
            name: "MarshalDevice".to_owned(),
            created_when_missing: true,
        }],
        thing_name_pattern: ".*".to_owned(),
        limits: ConfigLimits {
            max_body_bytes,
            max_targets_per_request: 2,
            max_certificates_per_request: 100,
        },
        groups: Vec::new(),
    }
}

fn form(targets: &[&str], policy: Option<&str>) -> RegisterForm {
    RegisterForm {
        targets: targets
            .iter()
            .map(|t| (*t).to_owned())
            .collect::<BTreeSet<_>>(),
        policy: policy.map(str::to_owned),
        thing_name: None,
        owner_group: Some("factory".to_owned()),
    }
}

const FILE: &str = "{\"thingName\":\"a\",\"certificatePem\":\"PEM A\"}\n\
                    {\"thingName\":\"b\",\"certificatePem\":\"PEM B\"}\n";

#[test]
fn small_batches_go_in_the_body_with_the_register_sections_choices() {
    let plan = plan(
        &form(&["t2", "t1"], Some("MarshalDevice")),
        &config(1 << 20),
        FILE,
    )
    .unwrap();
    let JobPlan::Inline(request) = plan else {
        panic!("{plan:?}")
    };
    assert_eq!(request.targets, ["t1", "t2"]);
    assert_eq!(request.policy, "MarshalDevice");
    assert_eq!(request.owner_group.as_deref(), Some("factory"));
    assert!(request.activate);
    assert_eq!(request.upload, None);
    let certificates = request.certificates.unwrap();
    assert_eq!(certificates.len(), 2);
    assert_eq!(certificates[1].thing_name.as_deref(), Some("b"));
    assert_eq!(certificates[1].certificate_pem, "PEM B");
}

#[test]
fn batches_near_the_body_limit_are_uploaded() {
    // 80 % of the limit is the most a body carries.
    let limit = (FILE.len() as f64 / INLINE_SHARE) as usize;
    let plan_at = |max| plan(&form(&["t1"], Some("MarshalDevice")), &config(max), FILE).unwrap();
    assert!(matches!(plan_at(limit + 1), JobPlan::Inline(_)));
    let JobPlan::Upload(request) = plan_at(limit - 2) else {
        panic!("not an upload")
    };
    assert_eq!(request.upload, Some(UploadFormat::Ndjson));
    assert_eq!(request.certificates, None);
}

#[test]
fn nothing_is_planned_without_targets_policy_or_certificates() {
    let c = config(1 << 20);
    assert_eq!(
        plan(&form(&[], Some("P")), &c, FILE),
        Err(JobText::ChooseTargets)
    );
    assert_eq!(
        plan(&form(&["a", "b", "c"], Some("P")), &c, FILE),
        Err(JobText::TooManyTargets)
    );
    assert_eq!(
        plan(&form(&["a"], None), &c, FILE),
        Err(JobText::ChoosePolicy)
    );
    assert_eq!(
        plan(&form(&["a"], Some("P")), &c, "\n"),
        Err(JobText::NothingToRegister)
    );
    assert_eq!(
        plan(&form(&["a"], Some("P")), &c, "{\"certificatePem\":1}\n"),
        Err(JobText::NothingToRegister)
    );
}

fn job(state: JobState, counts: PairCounts) -> Rc<Job> {
    Rc::new(Job {
        id: "0123456789abcdef0123456789abcdef".to_owned(),
        state,
        created_by: "alice".to_owned(),
        created_at: "2026-12-05T00:00:00Z".to_owned(),
        started_at: None,
        ended_at: None,
        targets: vec!["t1".to_owned()],
        policy: "P".to_owned(),
        activate: true,
        owner_group: None,
        certificates: 10,
        chunks: 1,
        chunks_done: 0,
        counts,
        per_target: Vec::new(),
        throttled: 0,
        rate_per_second: None,
        eta_seconds: None,
        error: None,
    })
}

#[test]
fn the_watch_follows_reads_and_keeps_the_job_through_a_failed_read() {
    let failure = ApiFailure::Unreachable {
        detail: "offline".to_owned(),
    };
    let mut watch = JobWatch::default();
    assert!(!watch.busy());
    watch.apply(JobAction::Step(JobStep::Uploading));
    assert_eq!(watch, JobWatch::Submitting(JobStep::Uploading));
    assert!(watch.busy());
    let counts = PairCounts {
        pending: 6,
        succeeded: 3,
        failed: 1,
        skipped: 0,
    };
    watch.apply(JobAction::Read(job(JobState::Running, counts)));
    watch.apply(JobAction::Cancelling);
    watch.apply(JobAction::Failed {
        failure: failure.clone(),
        job: None,
    });
    let JobWatch::Watching {
        job: seen, stale, ..
    } = &watch
    else {
        panic!("{watch:?}")
    };
    assert_eq!(progress(seen), (4, 10));
    assert_eq!(stale.as_ref(), Some(&failure));
    assert!(watch.busy());

    watch.apply(JobAction::Cancelling);
    watch.apply(JobAction::Read(job(JobState::Running, counts)));
    assert!(matches!(
        watch,
        JobWatch::Watching {
            cancelling: true,
            stale: None,
            ..
        }
    ));
    watch.apply(JobAction::Read(job(JobState::Cancelled, counts)));
    assert!(matches!(
        watch,
        JobWatch::Watching {
            cancelling: false,
            ..
        }
    ));
    assert!(!watch.busy());
}

#[test]
fn a_failed_submission_keeps_the_id_of_a_job_that_was_created() {
    let mut watch = JobWatch::Submitting(JobStep::Starting);
    let refused = ApiFailure::Refused {
        status: 409,
        code: ErrorCode::JobConflict,
        message: "no file".to_owned(),
        request_id: "r".to_owned(),
    };
    watch.apply(JobAction::Failed {
        failure: refused.clone(),
        job: Some("abc".to_owned()),
    });
    assert_eq!(
        watch,
        JobWatch::Failed {
            failure: refused,
            job: Some("abc".to_owned())
        }
    );
    // Cancel means nothing before a job is watched.
    let before = watch.clone();
    watch.apply(JobAction::Cancelling);
    assert_eq!(watch, before);
}

#[test]
fn times_left_read_naturally() {
    assert_eq!(eta_text(0), "0 s");
    assert_eq!(eta_text(59), "59 s");
    assert_eq!(eta_text(65), "1 min 05 s");
    assert_eq!(eta_text(3600 * 2 + 60 * 7 + 5), "2 h 07 min");
}

#[test]
fn every_state_has_words() {
    for state in [
        JobState::AwaitingUpload,
        JobState::Splitting,
        JobState::Running,
        JobState::Finished,
        JobState::Cancelled,
        JobState::Failed,
        JobState::Other,
    ] {
        assert!(!state_text(state).get(crate::i18n::Lang::Ja).is_empty());
    }
}
