"""What the ledger and the expiry report left in moto, read with boto3
independently of Marshal's code. Reads one JSON request on stdin and
writes one JSON answer on stdout:

- {"action": "listen", "region": R, "queue": Q}: an SQS queue Q and an
  EventBridge rule on the default bus sending Marshal's events
  (source "marshal") to it; answers {"queueUrl": ...}.
- {"action": "receive", "region": R, "queueUrl": U}: every message now in
  the queue (deleted once read), each body parsed: {"messages": [...]}.
- {"action": "depth", "region": R, "queueUrl": U}: the messages in the
  queue, visible or in flight (ApproximateNumberOfMessages + ...NotVisible):
  {"messages": N}.
- {"action": "ledger", "region": R, "table": T, "certificateId": C}: the
  ledger items of certificate C, oldest first, with each "event" parsed:
  {"items": [...]}.
- {"action": "scan", "region": R, "table": T}: how many items the table
  holds: {"count": N}.
- {"action": "query", "region": R, "table": T, "registry": "ACCOUNT#REGION",
  "repeats": N}: the inventory index's first 100 straight from moto with
  boto3, N times: {"medianMs": ...} (the floor of the inventory bench).
- {"action": "fill", "region": R, "table": T, "registries": [[ACCOUNT,
  REGION, TARGET], ...], "count": N}: N registered certificates with random
  IDs and notAfter dates, spread over the registries, each with its thing
  (`bench-<i>`), written straight into the ownership table as the API writes
  them (for the inventory bench).
"""

import argparse
import json
import sys

import boto3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    request = json.load(sys.stdin)
    session = boto3.session.Session()

    def client(service):
        return session.client(service, region_name=request["region"], endpoint_url=args.endpoint)

    action = request["action"]
    if action == "listen":
        sqs = client("sqs")
        url = sqs.create_queue(QueueName=request["queue"])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = client("events")
        events.put_rule(Name="marshal-expiry-test", EventPattern=json.dumps({"source": ["marshal"]}), State="ENABLED")
        events.put_targets(Rule="marshal-expiry-test", Targets=[{"Id": "queue", "Arn": arn}])
        answer = {"queueUrl": url}
    elif action == "receive":
        sqs = client("sqs")
        messages = []
        while True:
            got = sqs.receive_message(QueueUrl=request["queueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
            batch = got.get("Messages", [])
            if not batch:
                break
            for m in batch:
                messages.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=request["queueUrl"], ReceiptHandle=m["ReceiptHandle"])
        answer = {"messages": messages}
    elif action == "depth":
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = client("sqs").get_queue_attributes(QueueUrl=request["queueUrl"], AttributeNames=names)["Attributes"]
        answer = {"messages": sum(int(attributes[n]) for n in names)}
    elif action == "ledger":
        dynamodb = client("dynamodb")
        items = []
        for page in dynamodb.get_paginator("query").paginate(
            TableName=request["table"],
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "cert#" + request["certificateId"]}},
        ):
            for item in page["Items"]:
                items.append(
                    {
                        "sk": item["sk"]["S"],
                        "owner": item.get("owner", {}).get("S"),
                        "event": json.loads(item["event"]["S"]),
                    }
                )
        answer = {"items": items}
    elif action == "scan":
        dynamodb = client("dynamodb")
        count = sum(p["Count"] for p in dynamodb.get_paginator("scan").paginate(TableName=request["table"]))
        answer = {"count": count}
    elif action == "query":
        import time as clock

        dynamodb = client("dynamodb")
        samples = []
        for _ in range(request["repeats"]):
            t0 = clock.perf_counter()
            dynamodb.query(
                TableName=request["table"], IndexName="inventory", Limit=100,
                KeyConditionExpression="#r = :r", ExpressionAttributeNames={"#r": "registry"},
                ExpressionAttributeValues={":r": {"S": request["registry"]}},
            )
            samples.append((clock.perf_counter() - t0) * 1000)
        samples.sort()
        answer = {"medianMs": samples[len(samples) // 2]}
    elif action == "fill":
        import random
        import time as clock

        rng = random.Random(20261204)
        now = int(clock.time() * 1000)
        dynamodb = client("dynamodb")
        items = []
        for i in range(request["count"]):
            account, region, target = request["registries"][i % len(request["registries"])]
            cid = "%064x" % rng.getrandbits(256)
            not_after = now + rng.randrange(-30, 3650) * 86_400_000
            items.append({"PutRequest": {"Item": {
                "pk": {"S": f"cert#{account}#{region}#{cid}"},
                "owner": {"S": "bench-sub"}, "state": {"S": "registered"}, "version": {"N": "1"},
                "updated": {"N": str(now)}, "peer": {"S": f"bench-{i}"}, "policy": {"S": "MarshalDevice"},
                "target": {"S": target}, "notAfter": {"N": str(not_after)}, "registeredBy": {"S": "bench"},
                "registeredAt": {"N": str(now)}, "status": {"S": "ACTIVE"},
                "registry": {"S": f"{account}#{region}"}, "expiry": {"S": "%013d#%s" % (max(not_after, 0), cid)},
            }}})
            items.append({"PutRequest": {"Item": {
                "pk": {"S": f"thing#{account}#{region}#bench-{i}"},
                "owner": {"S": "bench-sub"}, "state": {"S": "registered"}, "version": {"N": "1"},
                "updated": {"N": str(now)}, "peer": {"S": cid},
            }}})
        for start in range(0, len(items), 25):
            batch = {request["table"]: items[start:start + 25]}
            while batch:
                batch = dynamodb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or None
        answer = {"written": len(items)}
    else:
        raise SystemExit(f"unknown action {action!r}")
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
