//! Factory jobs from the page end to end: the built page served by
//! `marshal-lambda --static-dir` against moto (SQS, S3, DynamoDB, IoT) with
//! `marshal-worker --poll` running, driven in Debian's Chromium by
//! `tests/e2e/jobs.cjs`. A batch made in the browser is registered as a job
//! into two targets: a small one in the request body, a large one PUT to
//! the bucket's presigned URL (allowed by the bucket's CORS rule, as the
//! template sets it, and the page's connect-src). Both are followed to the
//! end and their results CSVs downloaded; boto3 finds every certificate
//! exactly once, ACTIVE, with policy and thing. axe-core judges the page.
//!
//! Screenshots, the CSVs and `result.json` stay in
//! `<target>/tmp/page-jobs/` (paths printed), to be looked at.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::api::{Api, free_port};
use marshal_tests::jobs::{self, Worker};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state;
use marshal_tests::page::{self, PageTest};
use serde_json::Value;

const POLICY: &str = "MarshalDevice";
const SMALL: usize = 5;
const LARGE: usize = 40;
/// Small enough that the large batch (about 700 bytes a certificate) must
/// be uploaded, large enough for the small one and every other request.
const MAX_BODY: usize = 16 * 1024;

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_batch_made_in_the_page_is_registered_as_a_job_inline_and_uploaded() {
    let setup = PageTest::prepare(Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-jobs"));
    let moto = Moto::start();
    let targets = moto_state::tokyo_and_virginia();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let seeded = jobs::seed_for_page(&moto.endpoint(), &[&origin]);
    let config = moto_state::config_toml(
        &format!("[limits]\nmaxBodyBytes = {MAX_BODY}\n"),
        &targets,
        POLICY,
    ) + &jobs::config(&seeded, "chunkSize = 10");
    let api = Api::start_serving_on(port, &config, &moto.endpoint(), Some(&setup.built));
    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);

    let result = setup
        .script("jobs.cjs", &format!("{origin}/"))
        .env("MARSHAL_TARGETS", "a-tokyo,b-virginia")
        .env("MARSHAL_SMALL", SMALL.to_string())
        .env("MARSHAL_LARGE", LARGE.to_string())
        .run();
    let explain = || page::explain(&result, &[("worker", worker.log())], &api);
    setup.print_screenshots("page jobs", &result);

    let requests = result["requests"].as_array().cloned().unwrap_or_default();
    let mut ids = Vec::new();
    let mut things = Vec::new();
    for (kind, count) in [("small", SMALL), ("large", LARGE)] {
        let job = &result["jobs"][kind];
        assert_eq!(text(&job["state"]), "finished", "{kind}\n{}", explain());
        assert_eq!(
            (job["done"].as_u64(), job["total"].as_u64()),
            (Some(2 * count as u64), Some(2 * count as u64)),
            "{kind}\n{}",
            explain()
        );
        assert!(
            text(&job["counts"]).starts_with(&format!("{} succeeded · 0 failed", 2 * count)),
            "{kind}: {}\n{}",
            job["counts"],
            explain()
        );
        // The results CSV: a header, then one row per certificate × target.
        let csv = std::fs::read_to_string(text(&job["csvPath"])).unwrap();
        let id = text(&job["id"]);
        assert_eq!(text(&job["csvName"]), format!("marshal-job-{id}.csv"));
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2 * count, "{csv}");
        for row in &rows {
            assert_eq!(&row[4], "registered", "{csv}");
            if &row[3] == "a-tokyo" {
                ids.push(row[2].to_owned());
                things.push(row[1].to_owned());
            }
        }
    }
    // Only the large batch's file went to the bucket, once, by PUT.
    let puts: Vec<&Value> = requests
        .iter()
        .filter(|r| r["method"] == "PUT" && text(&r["url"]).contains(jobs::JOBS_NAME))
        .collect();
    assert_eq!(puts.len(), 1, "{}", explain());
    let created: Vec<&Value> = requests
        .iter()
        .filter(|r| r["method"] == "POST" && text(&r["url"]).ends_with("/v1/jobs"))
        .collect();
    assert_eq!(created.len(), 2, "{}", explain());
    assert!(text(&created[0]["body"]).contains("\"certificates\""));
    assert!(text(&created[1]["body"]).contains("\"upload\":\"ndjson\""));
    assert_eq!(ids.len(), SMALL + LARGE);
    jobs::assert_registered_once(&moto.endpoint(), &targets, &ids, &things, POLICY);

    // No request carried a private key, and nothing went wrong in the page.
    for request in &requests {
        assert!(
            !request["body"].to_string().contains("PRIVATE KEY"),
            "a request carried key material: {}",
            request["url"]
        );
    }
    // config.json is absent on purpose (the page's own origin is the API).
    let errors: Vec<&Value> = result["consoleErrors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| !text(e).contains("/config.json"))
                .collect()
        })
        .unwrap_or_default();
    assert!(errors.is_empty(), "{errors:?}\n{}", explain());
    for key in ["axeReady", "axeFinished"] {
        let serious = page::serious_violations(&result[key]);
        assert!(
            serious.is_empty(),
            "axe-core ({key}): {}",
            serde_json::to_string_pretty(&serious).unwrap_or_default()
        );
    }
}
