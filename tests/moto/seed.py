"""Seeds a moto server with Marshal's targets: per account, the cross-account
role the API assumes; per account and region, the IoT policies devices get.

Reads a JSON spec on standard input and prints a JSON summary on standard
output. Safe to run again: what exists is left alone (a policy whose document
changed gets a new default version).

    {
      "targets": [
        {
          "accountId": "111111111111",
          "region": "ap-northeast-1",
          "roleArn": "arn:aws:iam::111111111111:role/MarshalTarget",
          "externalId": "marshal-dev",
          "policies": [{"name": "MarshalDevice", "document": {...}}]
        }
      ]
    }

A policy `document` is a JSON object or a string holding one; documents that
allow `iot:*` (or `*`) are refused, as Marshal never attaches them.

A target's `"foreign": [{"certificatePem", "policy", "thing"}]` registers
certificates the way another team would, straight into AWS IoT and outside
Marshal: without a CA, ACTIVE, with that (seeded) policy and a new thing
attached. Tests use them to show Marshal leaves such things alone.

With `"ownershipTable": {"name": "marshal-ownership", "region": "..."}` the
hub account also gets the API's DynamoDB table of ownership records (key
`pk`, with the `inventory` index) and its ledger table (`"ledgerTable"`,
default `marshal-ledger` in the same region; keys `pk` and `sk`), on demand,
as template.yaml creates them. `"targets"` may be empty.

With `"jobs": {"table": "marshal-jobs", "queue": "marshal-jobs", "bucket":
"marshal-jobs", "region": "..."}` the hub also gets what factory jobs use:
the jobs table (keys `pk`, `sk`), the queue with its dead-letter queue
(`<queue>-dlq`, after 5 receives) and the bucket; with `"pageOrigins": ["http://127.0.0.1:8080"]` the bucket
gets the template's CORS rule for those page origins. The summary gives
`jobs.queueUrl`.

The caller's own credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
dummy values by default) act as the "hub" account: moto maps unknown access
keys to 123456789012. Each target is reached the way the API reaches it, by
AssumeRole into its roleArn with its ExternalId; moto maps the credentials it
returns to the role's account. moto does not check the role's trust policy,
so the role is created after the first assumption, for realism: the trust
policy names the hub account and requires the ExternalId, as the companion
SAM template does in a real target account.

Usage: python tests/moto/seed.py --endpoint http://127.0.0.1:5055 < spec.json
(run by `cargo xtask dev` and tests/tests/api_moto.rs)
"""

import argparse
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

DUMMY_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET_ACCESS_KEY = "dummy"
SESSION_NAME = "marshal-seed"
# Local server: fail fast instead of botocore's legacy backoff.
# Enough attempts to get through the fault proxy of the API's fault tests.
CLIENT_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 6})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto server URL")
    args = parser.parse_args()
    spec = json.load(sys.stdin)

    hub = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        region_name="us-east-1",
    )
    hub_account = client(hub, "sts", "us-east-1", args.endpoint).get_caller_identity()["Account"]

    summary = {"hubAccountId": hub_account, "targets": []}
    table = spec.get("ownershipTable")
    if table:
        summary["ownershipTable"] = ensure_table(hub, args.endpoint, table["name"], table["region"], OWNERSHIP_SCHEMA)
        ledger = spec.get("ledgerTable", {"name": "marshal-ledger", "region": table["region"]})
        summary["ledgerTable"] = ensure_table(hub, args.endpoint, ledger["name"], ledger["region"], LEDGER_SCHEMA)
    jobs = spec.get("jobs")
    if jobs:
        summary["jobs"] = ensure_jobs(hub, args.endpoint, jobs)
    roles_done = {}
    for target in spec["targets"]:
        account, region, role_arn = target["accountId"], target["region"], target["roleArn"]
        external_id = target.get("externalId")
        session = assume(hub, args.endpoint, role_arn, external_id, region)
        seen = client(session, "sts", region, args.endpoint).get_caller_identity()["Account"]
        if seen != account:
            sys.exit(f"seed: assuming {role_arn} acts as account {seen}, expected {account}")

        if role_arn not in roles_done:
            roles_done[role_arn] = ensure_role(session, args.endpoint, role_arn, hub_account, external_id)

        iot = client(session, "iot", region, args.endpoint)
        policies = {}
        for policy in target.get("policies", []):
            policies[policy["name"]] = ensure_policy(iot, policy["name"], document_text(policy))
        foreign = [register_foreign(iot, f) for f in target.get("foreign", [])]
        summary["targets"].append(
            {
                "accountId": account,
                "region": region,
                "role": roles_done[role_arn],
                "policies": policies,
                "foreign": foreign,
            }
        )
    json.dump(summary, sys.stdout, indent=2)
    print()


def register_foreign(iot, foreign):
    """A certificate, its policy and its thing, as another team sets them up."""
    cert = iot.register_certificate_without_ca(certificatePem=foreign["certificatePem"], status="ACTIVE")
    iot.attach_policy(policyName=foreign["policy"], target=cert["certificateArn"])
    iot.create_thing(thingName=foreign["thing"])
    iot.attach_thing_principal(thingName=foreign["thing"], principal=cert["certificateArn"])
    return cert["certificateId"]


def string_attributes(*names):
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


# The tables as template.yaml declares them (tests/tests/deploy_templates
# checks the template's side).
OWNERSHIP_SCHEMA = {
    "AttributeDefinitions": string_attributes("pk", "registry", "expiry"),
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "inventory",
            "KeySchema": [
                {"AttributeName": "registry", "KeyType": "HASH"},
                {"AttributeName": "expiry", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}
LEDGER_SCHEMA = {
    "AttributeDefinitions": string_attributes("pk", "sk"),
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
}


def ensure_jobs(hub, endpoint, jobs):
    """The jobs table, queue (with its DLQ) and bucket, as template.yaml makes them."""
    region = jobs["region"]
    table = ensure_table(hub, endpoint, jobs["table"], region, LEDGER_SCHEMA)
    sqs = client(hub, "sqs", region, endpoint)
    # CreateQueue with the same attributes is idempotent.
    dlq_url = sqs.create_queue(QueueName=jobs["queue"] + "-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=jobs["queue"],
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    s3 = client(hub, "s3", region, endpoint)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=jobs["bucket"])
        else:
            s3.create_bucket(Bucket=jobs["bucket"], CreateBucketConfiguration={"LocationConstraint": region})
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    origins = jobs.get("pageOrigins") or []
    if origins:
        # As the template's CorsConfiguration: the page PUTs job files and
        # GETs results from its own origin only.
        s3.put_bucket_cors(
            Bucket=jobs["bucket"],
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": origins,
                        "AllowedMethods": ["PUT", "GET"],
                        "AllowedHeaders": ["content-type", "x-amz-*"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        )
    return {"table": table, "queueUrl": queue_url, "dlqUrl": dlq_url, "bucket": jobs["bucket"]}


def ensure_table(hub, endpoint, name, region, schema):
    """A table of the API in the hub account, made when missing."""
    dynamodb = client(hub, "dynamodb", region, endpoint)
    try:
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **schema)
        return "created"
    except botocore.exceptions.ClientError as e:
        # A retried call whose first reply was lost, or a second run.
        if e.response["Error"]["Code"] == "ResourceInUseException":
            return "exists"
        raise


def client(session, service, region, endpoint):
    return session.client(service, region_name=region, endpoint_url=endpoint, config=CLIENT_CONFIG)


def assume(hub, endpoint, role_arn, external_id, region):
    params = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
    if external_id:
        params["ExternalId"] = external_id
    creds = client(hub, "sts", region, endpoint).assume_role(**params)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def ensure_role(session, endpoint, role_arn, hub_account, external_id):
    """The target account's role, trusting the hub account (with the ExternalId)."""
    name = role_arn.rsplit("/", 1)[-1]
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{hub_account}:root"},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    iam = client(session, "iam", "us-east-1", endpoint)
    try:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust,
            Description="Lets the Marshal hub register device certificates (local moto seed)",
        )
        return "created"
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        return "present"


def document_text(policy):
    document = policy["document"]
    parsed = json.loads(document) if isinstance(document, str) else document
    for statement in parsed.get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and any(a in ("*", "iot:*") for a in actions):
            sys.exit(f"seed: policy {policy['name']} allows {actions}: refusing a wildcard policy")
    return json.dumps(parsed, separators=(",", ":"), sort_keys=True)


def ensure_policy(iot, name, document):
    try:
        iot.create_policy(policyName=name, policyDocument=document)
        return "created"
    except iot.exceptions.ResourceAlreadyExistsException:
        current = iot.get_policy(policyName=name)["policyDocument"]
        if json.loads(current) == json.loads(document):
            return "present"
        iot.create_policy_version(policyName=name, policyDocument=document, setAsDefault=True)
        return "updated"


if __name__ == "__main__":
    try:
        main()
    except botocore.exceptions.EndpointConnectionError as error:
        sys.exit(f"seed: cannot reach moto: {error}")
