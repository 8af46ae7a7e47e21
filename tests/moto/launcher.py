"""Runs moto server on 127.0.0.1:PORT with AWS IoT's `use_valid_cert` on.

With it on, moto names a registered certificate by the SHA-256 of its DER,
as AWS IoT does; by default moto hashes the PEM text instead. The setting
cannot be changed over HTTP (`/moto-api/config` takes only batch, lambda and
stepfunctions), so it is set here, in the server's own process, before the
server starts. `/moto-api/reset` keeps it.

Usage: python tests/moto/launcher.py PORT   (run by tests/src/moto.rs)
"""

import sys

from moto.core.config import default_user_config
import moto.server

default_user_config["iot"] = {"use_valid_cert": True}

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: launcher.py PORT")
    moto.server.main(["--host", "127.0.0.1", "--port", sys.argv[1]])
