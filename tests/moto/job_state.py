"""Checks, with boto3 and in a few calls per target, that a large job left
each of its certificates in every target exactly once, ACTIVE, with the
policy, and (for a sample) attached to its thing and nothing else. For jobs
too large for inspect_state.py, which asks about each certificate.

Reads on standard input:

    {"targets": [<as inspect_state.py>], "policy": "MarshalDevice",
     "certificates": [["<id>", "<thing>"], ...], "sample": 200}

Prints per target id the problems found (each list empty when all is well):

    {"<target>": {"registered": N, "missing": [...], "duplicated": [...],
                  "notActive": [...], "withoutPolicy": [...],
                  "thingsWrong": [...]}}

Usage: python tests/moto/job_state.py --endpoint http://127.0.0.1:PORT < spec.json
"""

import argparse
import collections
import json
import random
import sys

from inspect_state import CLIENT_CONFIG, assume, hub_session, paged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto server URL")
    args = parser.parse_args()
    spec = json.load(sys.stdin)
    expected = {cert_id: thing for cert_id, thing in spec["certificates"]}
    sample = random.Random(7).sample(sorted(expected), min(spec.get("sample", 200), len(expected)))

    hub = hub_session()
    report = {}
    for target in spec["targets"]:
        session = assume(hub, args.endpoint, target)
        iot = session.client("iot", region_name=target["region"], endpoint_url=args.endpoint, config=CLIENT_CONFIG)
        listed = [c for c in paged(iot, "list_certificates", "certificates") if c["certificateId"] in expected]
        seen = collections.Counter(c["certificateId"] for c in listed)
        arns = {c["certificateId"]: c["certificateArn"] for c in listed}
        attached = set(
            t for page in iot.get_paginator("list_targets_for_policy").paginate(policyName=spec["policy"])
            for t in page.get("targets", [])
        )
        things_wrong = []
        for cert_id in sample:
            if cert_id not in arns:
                continue
            principals = iot.list_thing_principals(thingName=expected[cert_id])["principals"]
            if principals != [arns[cert_id]]:
                things_wrong.append(cert_id)
        report[target["id"]] = {
            "registered": len(seen),
            "missing": sorted(set(expected) - set(seen)),
            "duplicated": sorted(c for c, n in seen.items() if n > 1),
            "notActive": sorted(c["certificateId"] for c in listed if c["status"] != "ACTIVE"),
            "withoutPolicy": sorted(c for c, arn in arns.items() if arn not in attached),
            "thingsWrong": things_wrong,
        }
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
