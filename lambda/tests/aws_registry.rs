//! `AwsRegistryProvider` and `AwsIotRegistry` against moto server: role
//! assumption per account, region separation, every registry call, error
//! classification and the caches.
//!
//! Each test starts its own moto (tests run in parallel; moto's state is
//! per process). moto's output is printed when a test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Duration};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iot::config::Credentials;
use marshal_lambda::{
    aws::{AwsRegistryProvider, DynamoOwnershipStore},
    config::Target,
    service::{
        ownership::{Owner, Ownership, OwnershipKey, OwnershipStore, StoreError},
        registry::{
            CertificateRegistry, CertificateStatus, RegistryErrorKind, RegistryProvider,
            RegistryResult,
        },
    },
};
use marshal_shared::{CertificateRequest, KeyType, OffsetDateTime};
use marshal_tests::moto::Moto;

const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";
/// Where moto puts requests signed with keys it did not hand out.
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";
const SESSION: &str = "marshal-test-session";
const POLICY: &str = "MarshalDevicePolicy";
const POLICY_DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"}]}"#;

/// The function's own configuration, pointed at moto. Built explicitly
/// rather than through process environment variables, which tests running in
/// parallel would share.
async fn base_config(moto: &Moto) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "not-a-secret",
            None,
            None,
            "marshal-test",
        ))
        .load()
        .await
}

async fn provider(moto: &Moto) -> AwsRegistryProvider {
    AwsRegistryProvider::new(base_config(moto).await, Duration::from_secs(10))
}

fn target(id: &str, account: &str, region: &str, role: bool, external_id: Option<&str>) -> Target {
    Target {
        id: id.to_owned(),
        name: id.to_owned(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        role_arn: role.then(|| format!("arn:aws:iam::{account}:role/MarshalTarget")),
        external_id: external_id.map(str::to_owned),
        allowed_groups: None,
        admin_groups: Vec::new(),
        job_calls_per_second: None,
    }
}

fn tokyo_a() -> Target {
    target(
        "a-tokyo",
        ACCOUNT_A,
        "ap-northeast-1",
        true,
        Some("marshal-test"),
    )
}

fn virginia_a() -> Target {
    target(
        "a-virginia",
        ACCOUNT_A,
        "us-east-1",
        true,
        Some("marshal-test"),
    )
}

fn tokyo_b() -> Target {
    target("b-tokyo", ACCOUNT_B, "ap-northeast-1", true, None)
}

/// A fresh self-signed device certificate: (PEM, AWS certificate ID).
fn certificate(cn: &str) -> (String, String) {
    let credentials = marshal_shared::generate(
        KeyType::EcP256,
        &CertificateRequest::new(cn),
        OffsetDateTime::now_utc(),
    )
    .expect("generate a certificate");
    (
        credentials.certificate.to_pem(),
        credentials.certificate.id(),
    )
}

async fn registry(provider: &AwsRegistryProvider, target: &Target) -> Arc<dyn CertificateRegistry> {
    provider
        .registry(target, SESSION)
        .await
        .unwrap_or_else(|e| panic!("registry for {}: {e}", target.id))
}

/// Asserts that `result` failed with `kind`, showing what came instead.
#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: RegistryResult<T>, kind: RegistryErrorKind) {
    match result {
        Err(e) if e.kind == kind => assert!(!e.message.is_empty(), "{kind:?} without a message"),
        other => panic!("expected {kind:?}, got {other:?}"),
    }
}

/// The blog's whole story in one target: register without CA, activate,
/// policy, thing, endpoint, then take it all apart again.
async fn lifecycle(registry: &dyn CertificateRegistry, target: &Target, pem: &str, id: &str) {
    let at = &target.id;
    let record = registry
        .register_without_ca(pem, CertificateStatus::Inactive)
        .await
        .unwrap_or_else(|e| panic!("{at}: register: {e}"));
    assert_eq!(
        record.id, id,
        "{at}: moto's ID must be the SHA-256 of the DER"
    );
    let arn = format!(
        "arn:aws:iot:{}:{}:cert/{id}",
        target.region, target.account_id
    );
    assert_eq!(record.arn, arn, "{at}");
    assert_eq!(record.status, CertificateStatus::Inactive, "{at}");

    assert_kind(
        registry
            .register_without_ca(pem, CertificateStatus::Inactive)
            .await,
        RegistryErrorKind::AlreadyExists,
    );

    let described = registry
        .describe_certificate(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{at}: registered certificate not described"));
    assert_eq!(
        (described.id.as_str(), described.arn.as_str()),
        (id, arn.as_str()),
        "{at}"
    );
    assert_eq!(described.status, CertificateStatus::Inactive, "{at}");
    assert!(described.pem.contains("BEGIN CERTIFICATE"), "{at}");

    registry
        .update_status(id, CertificateStatus::Active)
        .await
        .unwrap();
    let described = registry.describe_certificate(id).await.unwrap().unwrap();
    assert_eq!(described.status, CertificateStatus::Active, "{at}");

    assert!(!registry.policy_exists(POLICY).await.unwrap(), "{at}");
    registry
        .create_policy(POLICY, POLICY_DOCUMENT)
        .await
        .unwrap();
    assert!(registry.policy_exists(POLICY).await.unwrap(), "{at}");
    assert_kind(
        registry.create_policy(POLICY, POLICY_DOCUMENT).await,
        RegistryErrorKind::AlreadyExists,
    );
    registry.attach_policy(POLICY, &arn).await.unwrap();
    registry.attach_policy(POLICY, &arn).await.unwrap(); // idempotent
    assert_eq!(
        registry.attached_policies(&arn).await.unwrap(),
        [POLICY],
        "{at}"
    );

    let thing = "marshal-dev-001";
    assert!(!registry.thing_exists(thing).await.unwrap(), "{at}");
    registry.create_thing(thing).await.unwrap();
    assert!(registry.thing_exists(thing).await.unwrap(), "{at}");
    registry.attach_thing(thing, &arn).await.unwrap();
    assert_eq!(
        registry.attached_things(&arn).await.unwrap(),
        [thing],
        "{at}"
    );
    assert_eq!(
        registry.thing_principals(thing).await.unwrap(),
        [arn.as_str()],
        "{at}"
    );
    assert_kind(
        registry.thing_principals("no-such-thing").await,
        RegistryErrorKind::NotFound,
    );
    let described = registry.describe_certificate(id).await.unwrap().unwrap();
    assert!(
        described.created_ms.is_some_and(|c| c > 1_700_000_000_000),
        "creation date from DescribeCertificate: {described:?}"
    );

    let endpoint = registry.data_ats_endpoint().await.unwrap();
    let pattern = format!(
        r"^[a-z0-9]+-ats\.iot\.{}\.amazonaws\.com$",
        regex_lite::escape(&target.region)
    );
    assert!(
        regex_lite::Regex::new(&pattern)
            .unwrap()
            .is_match(&endpoint),
        "{at}: endpoint {endpoint} does not match {pattern}"
    );
    assert_eq!(
        registry.data_ats_endpoint().await.unwrap(),
        endpoint,
        "{at}: the endpoint must be stable"
    );

    // Deleting while things are still attached, or while ACTIVE, is refused.
    assert_kind(
        registry.delete_thing(thing).await,
        RegistryErrorKind::Conflict,
    );
    assert_kind(
        registry.delete_certificate(id).await,
        RegistryErrorKind::Conflict,
    );

    for policy in registry.attached_policies(&arn).await.unwrap() {
        registry.detach_policy(&policy, &arn).await.unwrap();
    }
    assert_kind(
        registry.detach_policy(POLICY, &arn).await,
        RegistryErrorKind::NotFound,
    );
    for thing in registry.attached_things(&arn).await.unwrap() {
        registry.detach_thing(&thing, &arn).await.unwrap();
    }
    assert!(registry.attached_policies(&arn).await.unwrap().is_empty());
    assert!(registry.attached_things(&arn).await.unwrap().is_empty());

    registry
        .update_status(id, CertificateStatus::Inactive)
        .await
        .unwrap();
    registry.delete_certificate(id).await.unwrap();
    assert_eq!(
        registry.describe_certificate(id).await.unwrap(),
        None,
        "{at}"
    );
    assert_kind(
        registry.delete_certificate(id).await,
        RegistryErrorKind::NotFound,
    );
    registry.delete_thing(thing).await.unwrap();
    assert!(!registry.thing_exists(thing).await.unwrap(), "{at}");
}

#[tokio::test]
async fn one_certificate_through_its_whole_life_in_two_regions_and_two_accounts() {
    let moto = Moto::start_logging_every_request();
    let provider = provider(&moto).await;
    let (pem, id) = certificate("t");

    let (tokyo, virginia, other) = (tokyo_a(), virginia_a(), tokyo_b());
    let in_tokyo = registry(&provider, &tokyo).await;
    let in_virginia = registry(&provider, &virginia).await;
    let in_other = registry(&provider, &other).await;

    // Registered in account A's Tokyo only: invisible in Virginia and in account B.
    in_tokyo
        .register_without_ca(&pem, CertificateStatus::Inactive)
        .await
        .unwrap();
    assert_eq!(in_virginia.describe_certificate(&id).await.unwrap(), None);
    assert_eq!(in_other.describe_certificate(&id).await.unwrap(), None);
    in_tokyo.delete_certificate(&id).await.unwrap();

    for (target, registry) in [(&tokyo, &in_tokyo), (&virginia, &in_virginia)] {
        lifecycle(registry.as_ref(), target, &pem, &id).await;
    }

    // Account B has its own registry: the same certificate registers there
    // too, and its policies are its own.
    let record = in_other
        .register_without_ca(&pem, CertificateStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        record.arn,
        format!("arn:aws:iot:ap-northeast-1:{ACCOUNT_B}:cert/{id}")
    );
    assert_kind(
        in_other.attach_policy("NoSuchPolicy", &record.arn).await,
        RegistryErrorKind::NotFound,
    );
    assert!(
        in_other
            .attached_policies(&record.arn)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        in_other
            .attached_things(&record.arn)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(in_tokyo.describe_certificate(&id).await.unwrap(), None);
}

#[tokio::test]
async fn a_target_without_a_role_uses_the_functions_own_credentials() {
    let moto = Moto::start_logging_every_request();
    let provider = provider(&moto).await;
    let (pem, id) = certificate("own-credentials");

    let own = target("own", MOTO_DEFAULT_ACCOUNT, "eu-west-1", false, None);
    let registry = registry(&provider, &own).await;
    let record = registry
        .register_without_ca(&pem, CertificateStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        record.arn,
        format!("arn:aws:iot:eu-west-1:{MOTO_DEFAULT_ACCOUNT}:cert/{id}")
    );
    let in_a = self::registry(&provider, &target("a", ACCOUNT_A, "eu-west-1", true, None)).await;
    assert_eq!(in_a.describe_certificate(&id).await.unwrap(), None);
}

#[tokio::test]
async fn missing_resources_are_not_found_or_absent() {
    let moto = Moto::start_logging_every_request();
    let provider = provider(&moto).await;
    let registry = registry(&provider, &tokyo_a()).await;
    let (_, id) = certificate("never-registered");
    let arn = format!("arn:aws:iot:ap-northeast-1:{ACCOUNT_A}:cert/{id}");

    assert_eq!(registry.describe_certificate(&id).await.unwrap(), None);
    assert!(!registry.policy_exists("Nope").await.unwrap());
    assert!(!registry.thing_exists("nope").await.unwrap());
    assert!(registry.attached_things(&arn).await.unwrap().is_empty());
    for result in [
        registry.update_status(&id, CertificateStatus::Active).await,
        registry.delete_certificate(&id).await,
        registry.attach_policy("Nope", &arn).await,
        registry.detach_policy("Nope", &arn).await,
        registry.attach_thing("nope", &arn).await,
        registry.detach_thing("nope", &arn).await,
        registry.delete_thing("nope").await,
    ] {
        assert_kind(result, RegistryErrorKind::NotFound);
    }
    // Marshal never sends a status it does not know.
    assert_kind(
        registry.update_status(&id, CertificateStatus::Other).await,
        RegistryErrorKind::Invalid,
    );
}

/// Each `AssumeRole` is one `POST /` in moto's log (IoT calls have paths).
fn assume_role_calls(moto: &Moto) -> usize {
    moto.log().matches("\"POST / HTTP/1.1\"").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_is_assumed_once_per_session_and_shared_by_its_regions() {
    let moto = Moto::start_logging_every_request();
    let provider = Arc::new(provider(&moto).await);

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let provider = Arc::clone(&provider);
            let target = if i % 2 == 0 { tokyo_a() } else { virginia_a() };
            tokio::spawn(async move { provider.registry(&target, SESSION).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // moto writes its log line just after answering.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        assume_role_calls(&moto),
        1,
        "16 concurrent requests for one role, ExternalId and session name"
    );

    provider
        .registry(&tokyo_a(), "another-session")
        .await
        .unwrap();
    provider.registry(&tokyo_b(), SESSION).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(assume_role_calls(&moto), 3, "a new session and a new role");
}

#[tokio::test]
async fn the_endpoint_is_asked_once_per_account_and_region() {
    let moto = Moto::start_logging_every_request();
    let provider = provider(&moto).await;
    let tokyo = registry(&provider, &tokyo_a()).await;
    let first = tokyo.data_ats_endpoint().await.unwrap();
    // A registry made later, under another session name, shares the cache.
    let again = provider
        .registry(&tokyo_a(), "another-session")
        .await
        .unwrap();
    assert_eq!(again.data_ats_endpoint().await.unwrap(), first);
    // Another region has an endpoint of its own.
    let virginia = registry(&provider, &virginia_a()).await;
    let other = virginia.data_ats_endpoint().await.unwrap();
    assert!(
        other.ends_with("-ats.iot.us-east-1.amazonaws.com"),
        "{other}"
    );
    assert_eq!(virginia.data_ats_endpoint().await.unwrap(), other);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        moto.log().matches("GET /endpoint?").count(),
        2,
        "one DescribeEndpoint per account and region"
    );
}

#[tokio::test]
async fn a_pem_moto_cannot_read_is_tried_three_times_then_unavailable() {
    let moto = Moto::start_logging_every_request();
    let provider = provider(&moto).await;
    let registry = registry(&provider, &tokyo_a()).await;
    // AWS answers CertificateValidationException; moto answers an HTML 500,
    // which the SDK retries. The use cases check certificates before calling.
    assert_kind(
        registry
            .register_without_ca("not a certificate", CertificateStatus::Active)
            .await,
        RegistryErrorKind::Unavailable,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        moto.log()
            .matches("\"POST /certificate/register-no-ca HTTP/1.1\" 500")
            .count(),
        3,
        "standard retry mode, 3 attempts"
    );
}

/// A base configuration whose endpoint is `endpoint` (no moto).
async fn provider_at(endpoint: String, call_timeout: Duration) -> AwsRegistryProvider {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "x", None, None, "test"))
        .load()
        .await;
    AwsRegistryProvider::new(base, call_timeout)
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out_within_the_call_timeout() {
    // Connections complete into the listen backlog, but nobody ever reads.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let provider = provider_at(endpoint, Duration::from_millis(500)).await;

    let started = std::time::Instant::now();
    let error = match provider.registry(&tokyo_a(), SESSION).await {
        Err(e) => e,
        Ok(_) => panic!("AssumeRole against a silent endpoint succeeded"),
    };
    assert_eq!(error.kind, RegistryErrorKind::Timeout, "{error}");
    assert!(error.message.contains("AssumeRole"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let own = target("own", ACCOUNT_A, "us-east-1", false, None);
    let registry = registry(&provider, &own).await;
    assert_kind(
        registry.data_ats_endpoint().await,
        RegistryErrorKind::Timeout,
    );
}

#[tokio::test]
async fn an_endpoint_that_refuses_connections_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let provider = provider_at(endpoint, Duration::from_secs(10)).await;
    let own = target("own", ACCOUNT_A, "us-east-1", false, None);
    let registry = registry(&provider, &own).await;
    assert_kind(
        registry.describe_certificate(&"0".repeat(64)).await,
        RegistryErrorKind::Unavailable,
    );
}

/// The ownership table through aws-sdk-dynamodb against moto's DynamoDB:
/// writes only at the version read, a second creator loses, deletes too.
#[tokio::test]
async fn ownership_records_in_dynamodb_are_compare_and_set() {
    let moto = Moto::start_logging_every_request();
    let base = base_config(&moto).await;
    let store = DynamoOwnershipStore::new(&base, "ownership-test".into(), Duration::from_secs(5));
    assert!(
        matches!(store.check().await, Err(StoreError::Unavailable(_))),
        "a missing table is said at start"
    );
    aws_sdk_dynamodb::Client::new(&base)
        .create_table()
        .table_name("ownership-test")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    store.check().await.unwrap();

    let key = OwnershipKey::certificate(&tokyo_a(), &"ab".repeat(32));
    let owner = Owner {
        subject: "alice-sub".into(),
        group: Some("line-7".into()),
    };
    let mut record = Ownership::claimed(&owner, 1_000);
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(store.put(&key, &record, None).await.unwrap(), 1);
    assert_eq!(
        store.put(&key, &record, None).await,
        Err(StoreError::Conflict)
    );
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!((stored.record.clone(), stored.version), (record.clone(), 1));

    record.peer = Some("pump-17".into());
    record.lease = Some(marshal_lambda::service::ownership::Lease {
        holder: "token".into(),
        until_ms: 99_000,
    });
    assert_eq!(store.put(&key, &record, Some(1)).await.unwrap(), 2);
    assert_eq!(
        store.put(&key, &record, Some(1)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(store.get(&key).await.unwrap().unwrap().record, record);
    assert_eq!(store.delete(&key, 1).await, Err(StoreError::Conflict));
    store.delete(&key, 2).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
}

fn attribute(name: &str) -> aws_sdk_dynamodb::types::AttributeDefinition {
    aws_sdk_dynamodb::types::AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn key(
    name: &str,
    kind: aws_sdk_dynamodb::types::KeyType,
) -> aws_sdk_dynamodb::types::KeySchemaElement {
    aws_sdk_dynamodb::types::KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

/// The inventory index of the ownership table and the ledger table, as
/// template.yaml and tests/moto/seed.py make them, through the SDK against
/// moto: pages by registry in `notAfter` order, bounds, and events appended
/// once, read back in order.
#[tokio::test]
async fn the_inventory_index_and_the_ledger_in_dynamodb() {
    use aws_sdk_dynamodb::types::{GlobalSecondaryIndex, KeyType, Projection, ProjectionType};
    use marshal_lambda::service::{
        ledger::{LedgerStore, Recorded},
        ownership::{Facts, InventoryRead, OwnershipState, Registry},
    };
    let moto = Moto::start_logging_every_request();
    let base = base_config(&moto).await;
    let client = aws_sdk_dynamodb::Client::new(&base);
    client
        .create_table()
        .table_name("ownership-test")
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("registry"))
        .attribute_definitions(attribute("expiry"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("inventory")
                .key_schema(key("registry", KeyType::Hash))
                .key_schema(key("expiry", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    client
        .create_table()
        .table_name("ledger-test")
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();

    let store = DynamoOwnershipStore::new(&base, "ownership-test".into(), Duration::from_secs(5));
    let owner = Owner {
        subject: "alice-sub".into(),
        group: None,
    };
    let tokyo = tokyo_a();
    let other = target("b", ACCOUNT_B, "ap-northeast-1", false, None);
    let mut ids = Vec::new();
    for (i, (t, not_after_ms)) in [
        (&tokyo, 3_000),
        (&tokyo, 1_000),
        (&other, 2_000),
        (&tokyo, 2_000),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("{i}").repeat(64);
        let mut record = Ownership::claimed(&owner, 1);
        record.state = OwnershipState::Registered;
        record.facts = Some(Facts {
            target: t.id.clone(),
            not_after_ms,
            status: Some(CertificateStatus::Active),
            registered_by: "alice".into(),
            registered_at_ms: 5,
            successor: None,
            predecessor: None,
        });
        store
            .put(&OwnershipKey::certificate(t, &id), &record, None)
            .await
            .unwrap();
        ids.push(id);
    }
    // A claim not yet registered, and a thing: neither is in the inventory.
    store
        .put(
            &OwnershipKey::certificate(&tokyo, &"9".repeat(64)),
            &Ownership::claimed(&owner, 1),
            None,
        )
        .await
        .unwrap();
    store
        .put(
            &OwnershipKey::thing(&tokyo, "pump"),
            &Ownership::claimed(&owner, 1),
            None,
        )
        .await
        .unwrap();

    let registry = Registry::of(&tokyo);
    let read = |after: Option<&'static str>, before_ms: Option<i64>, limit: usize| InventoryRead {
        registry: &registry,
        after,
        before_ms,
        limit,
    };
    let page = store.inventory(&read(None, None, 2)).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(got, [ids[1].as_str(), ids[3].as_str()]);
    assert!(page.more);
    assert_eq!(
        page.items[0].record.facts.as_ref().unwrap().registered_by,
        "alice"
    );
    let after: &'static str = Box::leak(page.items[1].position.clone().into_boxed_str());
    let page = store.inventory(&read(Some(after), None, 2)).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(got, [ids[0].as_str()]);
    let page = store.inventory(&read(None, Some(2_000), 10)).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(got, [ids[1].as_str()]);

    let ledger =
        marshal_lambda::aws::DynamoLedger::new(&base, "ledger-test".into(), Duration::from_secs(5));
    ledger.check().await.unwrap();
    let event = |at: &str, phase: marshal_shared::api::EventPhase| Recorded {
        event: marshal_shared::api::LedgerEvent {
            certificate_id: ids[0].clone(),
            target: "a-tokyo".into(),
            action: marshal_shared::api::LedgerAction::Register,
            phase,
            ok: None,
            code: None,
            detail: None,
            subject: "alice-sub".into(),
            username: Some("alice".into()),
            request_id: "req-1".into(),
            at: at.into(),
            thing: Some("pump".into()),
            policy: None,
            not_after: None,
            status: None,
            related: None,
        },
        owner: "alice-sub".into(),
        owner_group: Some("line-7".into()),
        nonce: "0123456789abcdef".into(),
    };
    let later = event(
        "2026-12-04T10:00:00.002Z",
        marshal_shared::api::EventPhase::Outcome,
    );
    let first = event(
        "2026-12-04T10:00:00.001Z",
        marshal_shared::api::EventPhase::Intent,
    );
    ledger.append(&later).await.unwrap();
    ledger.append(&first).await.unwrap();
    // A retried write of the same event is no error and writes nothing new.
    ledger.append(&first).await.unwrap();
    assert_eq!(ledger.history(&ids[0]).await.unwrap(), [first, later]);
    assert_eq!(ledger.history(&ids[1]).await.unwrap(), []);
}
