"""Prints, as JSON, what a load test may have left behind in a moto server:
per target, the things that still have a principal and what the policy is
attached to; and the ownership records that are still leased.

Reads on standard input:

    {"targets": [<target spec as for inspect_state.py>, ...],
     "policy": "MarshalDevice",
     "ownershipTable": "marshal-ownership", "hubRegion": "ap-northeast-1"}

Prints:

    {"<target id>": {"thingsWithPrincipals": [...], "policyTargets": [...]},
     "leasedRecords": ["<pk>", ...]}

Usage: python tests/moto/load_end_state.py --endpoint http://127.0.0.1:PORT < spec.json
"""

import argparse
import json
import sys

from inspect_state import CLIENT_CONFIG, assume, hub_session, paged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto server URL")
    args = parser.parse_args()
    spec = json.load(sys.stdin)
    hub = hub_session()
    state = {}
    for target in spec["targets"]:
        session = assume(hub, args.endpoint, target)
        iot = session.client("iot", region_name=target["region"], endpoint_url=args.endpoint, config=CLIENT_CONFIG)
        with_principals = []
        for thing in paged(iot, "list_things", "things"):
            name = thing["thingName"]
            if iot.list_thing_principals(thingName=name)["principals"]:
                with_principals.append(name)
        state[target["id"]] = {
            "thingsWithPrincipals": sorted(with_principals),
            "policyTargets": sorted(iot.list_targets_for_policy(policyName=spec["policy"])["targets"]),
        }
    dynamodb = hub.client(
        "dynamodb", region_name=spec["hubRegion"], endpoint_url=args.endpoint, config=CLIENT_CONFIG
    )
    leased = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=spec["ownershipTable"]):
        for item in page["Items"]:
            if "leaseHolder" in item:
                leased.append(item["pk"]["S"])
    state["leasedRecords"] = sorted(leased)
    json.dump(state, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
