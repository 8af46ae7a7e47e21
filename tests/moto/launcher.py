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

A few of moto's per-request costs are taken out, without changing what any
request answers, because one moto process (one core: Python's lock) serves
every AWS call of a test, and a factory job's pace against a modelled budget
must measure Marshal, not moto. Profiled with py-spy --gil during a job of
1,000 certificates, these were a fifth of moto's time:
- `list_of_moto_modules()` lists moto's own package directory on every
  request (to route it); the list is read once here.
- `method_names_from_class()` inspects a response class's members on every
  request; it is kept per class here.
- werkzeug logs every request; here only 4xx and 5xx answers (and errors),
  unless `--log-every-request` is given (tests that count moto's calls).
- AWS IoT's `describe_thing`, `describe_certificate` (which
  `update_certificate` calls) and the look-up of a certificate by ARN scan
  every thing and every certificate of the account; here they are looked up
  by the key moto stores them under (the thing's ARN, the certificate's ID),
  so a job's calls do not slow down as its thousands of things accumulate.

Usage: python tests/moto/launcher.py PORT [--log-every-request]
(run by tests/src/moto.rs)
"""

import functools
import os
import sys
import threading

# Read by moto.settings at import, so before any moto import.
os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "1"

from moto.core.config import default_user_config
from moto.dynamodb.models import DynamoDBBackend
from moto.iot.exceptions import ResourceNotFoundException
from moto.iot.models import IoTBackend
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.utilities.utils import get_partition
import moto.backends
import moto.core.responses
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

_modules = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: _modules

moto.core.responses.method_names_from_class = functools.cache(
    moto.core.responses.method_names_from_class
)

_log_request = MotoRequestHandler.log_request


def _log_failures(self, code="-", size="-"):
    if not str(code).startswith(("1", "2", "3")):
        _log_request(self, code, size)



def _describe_thing(self, thing_name):
    partition = get_partition(self.region_name)
    arn = f"arn:{partition}:iot:{self.region_name}:{self.account_id}:thing/{thing_name}"
    thing = self.things.get(arn)
    if thing is None:
        raise ResourceNotFoundException()
    return thing


IoTBackend.describe_thing = _describe_thing


def _describe_certificate(self, certificate_id):
    certificate = self.certificates.get(certificate_id)
    if certificate is None:
        raise ResourceNotFoundException()
    return certificate


IoTBackend.describe_certificate = _describe_certificate

_get_principal = IoTBackend._get_principal


def _principal_by_key(self, principal_arn):
    if ":cert/" in principal_arn:
        certificate = self.certificates.get(principal_arn.rsplit("/", 1)[-1])
        if certificate is None or certificate.arn != principal_arn:
            raise ResourceNotFoundException()
        return certificate
    return _get_principal(self, principal_arn)


IoTBackend._get_principal = _principal_by_key

if __name__ == "__main__":
    port, options = sys.argv[1:2], sys.argv[2:]
    every = options == ["--log-every-request"]
    if not (port and port[0].isdigit() and (every or not options)):
        sys.exit("usage: launcher.py PORT [--log-every-request]")
    if not every:
        MotoRequestHandler.log_request = _log_failures
    moto.server.main(["--host", "127.0.0.1", "--port", sys.argv[1]])
