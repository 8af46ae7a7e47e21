"""What our API is measured against: the same AWS calls, made directly
against moto, one target after another, either with boto3 in this process
(`--via boto3`, the floor) or with the AWS CLI, one `aws` process per call, as
an operator following the blog would (`--via awscli`).

Per target: AssumeRole (boto3: once per role, cached as the API caches it;
AWS CLI: every target, as a shell script does), RegisterCertificateWithoutCA
(INACTIVE), AttachPolicy, CreateThing, AttachThingPrincipal, UpdateCertificate
ACTIVE, DescribeEndpoint iot:Data-ATS.

Reads {"targets": [{accountId, region, roleArn, externalId}], "policy": NAME,
"certificates": [PEM, ...]} on stdin (one certificate per target, in order)
and prints {"perTargetMs": [...], "totalMs": N} on stdout.

`--via awscli-rotate` reads {"targets", "old": ID, "certificate": PEM} and
rotates by hand (see rotate_awscli).

Usage: python tests/moto/bench_sdk.py --endpoint http://127.0.0.1:PORT [--via awscli] < spec.json
(run by `cargo xtask bench` through tests/tests/api_bench.rs)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})


HUB_KEY = "AKIAIOSFODNN7EXAMPLE"


def aws(endpoint, env, *args):
    """One AWS CLI call, as its own process; its JSON answer."""
    aws_bin = os.path.join(os.path.dirname(sys.executable), "aws")
    done = subprocess.run(
        [aws_bin, "--endpoint-url", endpoint, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"aws {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def via_awscli(endpoint, spec):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(AWS_ACCESS_KEY_ID=HUB_KEY, AWS_SECRET_ACCESS_KEY="dummy", AWS_DEFAULT_REGION="us-east-1")
    per_target = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (target, pem) in enumerate(zip(spec["targets"], spec["certificates"])):
            t0 = time.perf_counter()
            creds = aws(endpoint, base, "sts", "assume-role", "--role-arn", target["roleArn"],
                        "--role-session-name", "marshal-bench", "--external-id", target["externalId"])["Credentials"]
            env = dict(base, AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                       AWS_SESSION_TOKEN=creds["SessionToken"], AWS_DEFAULT_REGION=target["region"])
            path = os.path.join(tmp, f"cert-{i}.pem")
            with open(path, "w") as f:
                f.write(pem)
            reg = aws(endpoint, env, "iot", "register-certificate-without-ca",
                      "--certificate-pem", f"file://{path}", "--status", "INACTIVE")
            aws(endpoint, env, "iot", "attach-policy", "--policy-name", spec["policy"], "--target", reg["certificateArn"])
            thing = "cli-" + reg["certificateId"][:16]
            aws(endpoint, env, "iot", "create-thing", "--thing-name", thing)
            aws(endpoint, env, "iot", "attach-thing-principal", "--thing-name", thing, "--principal", reg["certificateArn"])
            aws(endpoint, env, "iot", "update-certificate", "--certificate-id", reg["certificateId"], "--new-status", "ACTIVE")
            aws(endpoint, env, "iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
            per_target.append((time.perf_counter() - t0) * 1000)
    return {"perTargetMs": per_target, "totalMs": (time.perf_counter() - started) * 1000}


def rotate_awscli(endpoint, spec):
    """Rotation by hand, make before break: per target, read what the old
    certificate ("old", an ID) has, register the new one ACTIVE, attach the
    same policy and thing, learn the endpoint. {"calls": N} counts processes."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(AWS_ACCESS_KEY_ID=HUB_KEY, AWS_SECRET_ACCESS_KEY="dummy", AWS_DEFAULT_REGION="us-east-1")
    calls = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "new.pem")
        with open(path, "w") as f:
            f.write(spec["certificate"])
        for target in spec["targets"]:
            creds = aws(endpoint, base, "sts", "assume-role", "--role-arn", target["roleArn"],
                        "--role-session-name", "marshal-bench", "--external-id", target["externalId"])["Credentials"]
            env = dict(base, AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                       AWS_SESSION_TOKEN=creds["SessionToken"], AWS_DEFAULT_REGION=target["region"])
            old = aws(endpoint, env, "iot", "describe-certificate", "--certificate-id", spec["old"])["certificateDescription"]
            policies = aws(endpoint, env, "iot", "list-attached-policies", "--target", old["certificateArn"])["policies"]
            things = aws(endpoint, env, "iot", "list-principal-things", "--principal", old["certificateArn"])["things"]
            reg = aws(endpoint, env, "iot", "register-certificate-without-ca",
                      "--certificate-pem", f"file://{path}", "--status", "ACTIVE")
            for p in policies:
                aws(endpoint, env, "iot", "attach-policy", "--policy-name", p["policyName"], "--target", reg["certificateArn"])
            for t in things:
                aws(endpoint, env, "iot", "attach-thing-principal", "--thing-name", t, "--principal", reg["certificateArn"])
            aws(endpoint, env, "iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
            calls += 6 + len(policies) + len(things)
    return {"totalMs": (time.perf_counter() - started) * 1000, "calls": calls}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--via", choices=["boto3", "awscli", "awscli-rotate"], default="boto3")
    args = parser.parse_args()
    spec = json.load(sys.stdin)
    if args.via == "awscli":
        json.dump(via_awscli(args.endpoint, spec), sys.stdout)
        return
    if args.via == "awscli-rotate":
        json.dump(rotate_awscli(args.endpoint, spec), sys.stdout)
        return
    hub = boto3.session.Session(aws_access_key_id=HUB_KEY, aws_secret_access_key="dummy", region_name="us-east-1")
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
