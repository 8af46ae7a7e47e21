"""Writes a factory job's file: N self-signed P-256 device certificates
made with Python `cryptography` (an implementation independent of
Marshal's), as NDJSON lines `{"thingName", "certificatePem"}` or CSV
`thing_name,certificate_pem`. The keys are thrown away: a job carries
certificates only.

    python job_certificates.py --count 1000 --prefix dev --format ndjson --out job.ndjson

`--leak-key-at I` puts a private key (PKCS#8 PEM) into certificate I's
entry instead of after it, as a careless export would: the job must refuse
the whole file. `--expired-at I` makes certificate I expired, which
preflight refuses. Prints a JSON summary: {"ids": [...], "things": [...]}.
"""

import argparse
import csv
import datetime
import hashlib
import io
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def certificate(name, expired):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        not_before, not_after = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
    else:
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=365)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key, pem, hashlib.sha256(der).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")
    parser.add_argument("--out", required=True)
    parser.add_argument("--leak-key-at", type=int, default=-1)
    parser.add_argument("--expired-at", type=int, default=-1)
    args = parser.parse_args()

    rows, ids, things = [], [], []
    for i in range(args.count):
        thing = f"{args.prefix}-{i:05d}"
        key, pem, cert_id = certificate(thing, i == args.expired_at)
        if i == args.leak_key_at:
            pem += key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
        rows.append((thing, pem))
        ids.append(cert_id)
        things.append(thing)

    with open(args.out, "w", newline="") as out:
        if args.format == "ndjson":
            for thing, pem in rows:
                out.write(json.dumps({"thingName": thing, "certificatePem": pem}) + "\n")
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["thing_name", "certificate_pem"])
            writer.writerows(rows)
            out.write(buffer.getvalue())
    json.dump({"ids": ids, "things": things}, __import__("sys").stdout)


if __name__ == "__main__":
    main()
