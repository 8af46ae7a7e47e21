"""Prints, as JSON, what a moto server holds in each target: certificates
(ID, status, attached policies and things), things and policies.

An independent view for tests: it reaches each target with boto3 the way the
API does (AssumeRole into the target's role), so a test can compare AWS's
state with what the API claims instead of trusting the API's word.

Reads on standard input:

    {
      "targets": [{"id": "a-tokyo", "accountId": "111111111111",
                   "region": "ap-northeast-1",
                   "roleArn": "arn:aws:iam::111111111111:role/MarshalTarget",
                   "externalId": "marshal-test"}],
      "certificateIds": ["<64 hex>", ...]   (optional)
    }

With `certificateIds`, only those certificates are described (the rest are
only counted), which keeps the output small when tests share one server.
Prints:

    {"<target id>": {"account": "<account moto acted as>",
                     "certificateCount": N,
                     "certificates": [{"id", "arn", "status",
                                       "policies": [...], "things": [...]}],
                     "things": [...], "policies": [...]}}

Usage: python tests/moto/inspect_state.py --endpoint http://127.0.0.1:PORT < spec.json
"""

import argparse
import json
import os
import sys

import boto3
import botocore.config

DUMMY_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET_ACCESS_KEY = "dummy"
CLIENT_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 2})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto server URL")
    args = parser.parse_args()
    spec = json.load(sys.stdin)
    wanted = spec.get("certificateIds")
    wanted = None if wanted is None else set(wanted)

    hub = hub_session()
    state = {}
    for target in spec["targets"]:
        session = assume(hub, args.endpoint, target)
        region = target["region"]
        sts = session.client("sts", region_name=region, endpoint_url=args.endpoint, config=CLIENT_CONFIG)
        iot = session.client("iot", region_name=region, endpoint_url=args.endpoint, config=CLIENT_CONFIG)
        listed = paged(iot, "list_certificates", "certificates")
        certificates = []
        for cert in listed:
            if wanted is not None and cert["certificateId"] not in wanted:
                continue
            arn = cert["certificateArn"]
            certificates.append(
                {
                    "id": cert["certificateId"],
                    "arn": arn,
                    "status": cert["status"],
                    "policies": [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]],
                    "things": iot.list_principal_things(principal=arn)["things"],
                }
            )
        state[target["id"]] = {
            "account": sts.get_caller_identity()["Account"],
            "certificateCount": len(listed),
            "certificates": sorted(certificates, key=lambda c: c["id"]),
            "things": sorted(t["thingName"] for t in paged(iot, "list_things", "things")),
            "policies": sorted(p["policyName"] for p in paged(iot, "list_policies", "policies")),
        }
    json.dump(state, sys.stdout, indent=1, sort_keys=True)
    print()


def hub_session():
    """The hub account's session: the API's credentials, or moto's dummies."""
    return boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
    )


def assume(hub, endpoint, target):
    params = {"RoleArn": target["roleArn"], "RoleSessionName": "marshal-inspect"}
    if target.get("externalId"):
        params["ExternalId"] = target["externalId"]
    sts = hub.client("sts", region_name=target["region"], endpoint_url=endpoint, config=CLIENT_CONFIG)
    creds = sts.assume_role(**params)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def paged(iot, operation, key):
    """Every item over all pages. The calls page differently (list_things by
    nextToken, 50 a page in moto; the others by marker), so boto3's
    paginators follow them."""
    pages = iot.get_paginator(operation).paginate()
    return [item for page in pages for item in page.get(key, [])]


if __name__ == "__main__":
    main()
