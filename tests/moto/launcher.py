"""Runs moto server on 127.0.0.1:PORT with AWS IoT's `use_valid_cert` on.

With it on, moto names a registered certificate by the SHA-256 of its DER,
as AWS IoT does; by default moto hashes the PEM text instead. The setting
cannot be changed over HTTP (`/moto-api/config` takes only batch, lambda and
stepfunctions), so it is set here, in the server's own process, before the
server starts. `/moto-api/reset` keeps it.

It also makes moto's conditional DynamoDB writes atomic, as DynamoDB's are:
moto checks a write's condition and then writes, and with requests served on
several threads another write can land in between (two requests could both
make a record "only if none exists"). Every DynamoDB read and write here runs
under one lock.

moto's server answers every request with permissive CORS headers of its
own by default; here it does not (MOTO_DISABLE_GLOBAL_CORS), so a browser
reaches a bucket only as its CORS configuration allows, as on AWS.

Usage: python tests/moto/launcher.py PORT   (run by tests/src/moto.rs)
"""

import functools
import os
import sys
import threading

# Read by moto.settings at import, so before any moto import.
os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "1"

from moto.core.config import default_user_config
from moto.dynamodb.models import DynamoDBBackend
import moto.server

default_user_config["iot"] = {"use_valid_cert": True}

_dynamodb = threading.RLock()


def _serialised(name):
    original = getattr(DynamoDBBackend, name)

    @functools.wraps(original)
    def call(self, *args, **kwargs):
        with _dynamodb:
            return original(self, *args, **kwargs)

    setattr(DynamoDBBackend, name, call)


for _name in (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "batch_get_item",
    "batch_write_item",
    "query",
    "scan",
    "transact_get_items",
    "transact_write_items",
):
    if hasattr(DynamoDBBackend, _name):
        _serialised(_name)

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: launcher.py PORT")
    moto.server.main(["--host", "127.0.0.1", "--port", sys.argv[1]])
