"""What the ledger and the expiry report left in moto, read with boto3
independently of Marshal's code. Reads one JSON request on stdin and
writes one JSON answer on stdout:

- {"action": "listen", "region": R, "queue": Q}: an SQS queue Q and an
  EventBridge rule on the default bus sending Marshal's events
  (source "marshal") to it; answers {"queueUrl": ...}.
- {"action": "receive", "region": R, "queueUrl": U}: every message now in
  the queue (deleted once read), each body parsed: {"messages": [...]}.
- {"action": "ledger", "region": R, "table": T, "certificateId": C}: the
  ledger items of certificate C, oldest first, with each "event" parsed:
  {"items": [...]}.
- {"action": "scan", "region": R, "table": T}: how many items the table
  holds: {"count": N}.
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
    else:
        raise SystemExit(f"unknown action {action!r}")
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
