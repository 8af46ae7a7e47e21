"""The floor our API is measured against: the same AWS calls, made directly
with boto3 against moto, one target after another.

Per target: AssumeRole (once per role, cached as the API caches it),
RegisterCertificateWithoutCA (INACTIVE), AttachPolicy, CreateThing,
AttachThingPrincipal, UpdateCertificate ACTIVE, DescribeEndpoint iot:Data-ATS.

Reads {"targets": [{accountId, region, roleArn, externalId}], "policy": NAME,
"certificates": [PEM, ...]} on stdin (one certificate per target, in order)
and prints {"perTargetMs": [...], "totalMs": N} on stdout.

Usage: python tests/moto/bench_sdk.py --endpoint http://127.0.0.1:PORT < spec.json
(run by `cargo xtask bench` through tests/tests/api_bench.rs)
"""

import argparse
import json
import sys
import time

import boto3
import botocore.config

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    spec = json.load(sys.stdin)
    hub = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="dummy", region_name="us-east-1")
    sts = hub.client("sts", endpoint_url=args.endpoint, config=CONFIG)
    sessions = {}
    per_target = []
    started = time.perf_counter()
    for target, pem in zip(spec["targets"], spec["certificates"]):
        t0 = time.perf_counter()
        key = (target["roleArn"], target.get("externalId"))
        if key not in sessions:
            creds = sts.assume_role(RoleArn=target["roleArn"], RoleSessionName="marshal-bench", ExternalId=target["externalId"])["Credentials"]
            sessions[key] = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        iot = sessions[key].client("iot", region_name=target["region"], endpoint_url=args.endpoint, config=CONFIG)
        reg = iot.register_certificate_without_ca(certificatePem=pem, status="INACTIVE")
        iot.attach_policy(policyName=spec["policy"], target=reg["certificateArn"])
        thing = "bench-" + reg["certificateId"][:16]
        iot.create_thing(thingName=thing)
        iot.attach_thing_principal(thingName=thing, principal=reg["certificateArn"])
        iot.update_certificate(certificateId=reg["certificateId"], newStatus="ACTIVE")
        iot.describe_endpoint(endpointType="iot:Data-ATS")
        per_target.append((time.perf_counter() - t0) * 1000)
    json.dump({"perTargetMs": per_target, "totalMs": (time.perf_counter() - started) * 1000}, sys.stdout)


if __name__ == "__main__":
    main()
