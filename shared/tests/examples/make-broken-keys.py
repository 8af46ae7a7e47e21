#!/usr/bin/env python3
"""Private keys that must be refused (issue 13), made from the fixture keys
by hand-written DER, each checked to be refused by Python `cryptography`.

Run from anywhere: python3 shared/tests/examples/make-broken-keys.py
Writes broken-keys/*.pem beside this script. Deterministic except
ed25519-v2-mismatch.pem's and rsa-wrong-modulus.pkcs1.pem's random keys.
"""
import base64
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "broken-keys")


def length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + length(len(content)) + content


def integer(n):
    body = n.to_bytes(n.bit_length() // 8 + 1, "big") if n else b"\x00"
    return tlv(0x02, body)


def seq(*items):
    return tlv(0x30, b"".join(items))


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, body)


def octets(b):
    return tlv(0x04, b)


def bits(b):
    return tlv(0x03, b"\x00" + b)


EC_PUBLIC_KEY = oid("1.2.840.10045.2.1")
P256 = oid("1.2.840.10045.3.1.7")
P384 = oid("1.3.132.0.34")
ED25519 = oid("1.3.101.112")
RSA = seq(oid("1.2.840.113549.1.1.1"), b"\x05\x00")


def pem(label, der):
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def load(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def point(key):
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def ec_private_key(secret, curve=None, public=None):
    fields = [integer(1), octets(secret)]
    if curve is not None:
        fields.append(tlv(0xA0, curve))
    if public is not None:
        fields.append(tlv(0xA1, bits(public)))
    return seq(*fields)


def pkcs8(algorithm, inner, version=0, public=None):
    fields = [integer(version), algorithm, octets(inner)]
    if public is not None:
        fields.append(tlv(0x81, b"\x00" + public))
    return seq(*fields)


def rsa_private_key(n, e, d, p, q):
    return seq(*(integer(x) for x in (0, n, e, d, p, q, d % (p - 1), d % (q - 1) if q > 1 else 0, pow(q, -1, p))))


p256 = load("p256.key.pem")
other = load("other.key.pem")
secret = p256.private_numbers().private_value.to_bytes(32, "big")
p256_ec = seq(integer(1), octets(secret), tlv(0xA1, bits(point(p256))))

# The inner ECPrivateKey with a long-form length where DER needs the short form.
inner = ec_private_key(secret, public=point(p256))
non_der_inner = b"\x30\x81" + inner[1:]

rsa_key = load("rsa2048.key.pem").private_numbers()
fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
p = rsa_key.p
seed_a, seed_b = os.urandom(32), os.urandom(32)
public_b = ed25519.Ed25519PrivateKey.from_private_bytes(seed_b).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)
one = ec.derive_private_key(1, ec.SECP256R1())

CASES = {
    # p256's secret beside other.key.pem's public point: matched p256.cert.pem's key? no, other's.
    "mismatch.sec1.pem": ("EC PRIVATE KEY", ec_private_key(secret, P256, point(other))),
    "mismatch.pkcs8.pem": (
        "PRIVATE KEY",
        pkcs8(seq(EC_PUBLIC_KEY, P256), ec_private_key(secret, public=point(other))),
    ),
    # rsa2048.key.pem's n and e with another key's primes and exponents.
    "rsa-wrong-modulus.pkcs1.pem": (
        "RSA PRIVATE KEY",
        rsa_private_key(rsa_key.public_numbers.n, 65537, fresh.d, fresh.p, fresh.q),
    ),
    # An Ed25519 seed with another seed's public key (PKCS#8 v2).
    "ed25519-v2-mismatch.pem": (
        "PRIVATE KEY",
        pkcs8(seq(ED25519), octets(seed_a), version=1, public=public_b),
    ),
    # P-256 outside, secp384r1 in the ECPrivateKey's [0].
    "curve-mismatch.pkcs8.pem": (
        "PRIVATE KEY",
        pkcs8(seq(EC_PUBLIC_KEY, P256), ec_private_key(secret, P384, point(p256))),
    ),
    # The secret 1 in one byte (P-256 needs 32), with its point (the generator).
    "short-secret.sec1.pem": ("EC PRIVATE KEY", ec_private_key(b"\x01", P256, point(one))),
    # q = 2: n = 2p, consistent numbers otherwise.
    "rsa-q2.pkcs1.pem": (
        "RSA PRIVATE KEY",
        rsa_private_key(2 * p, 65537, pow(65537, -1, p - 1), p, 2),
    ),
    "pkcs8-v1-with-public.pem": (
        "PRIVATE KEY",
        pkcs8(seq(EC_PUBLIC_KEY, P256), p256_ec, version=0, public=point(p256)),
    ),
    "pkcs8-v3.pem": ("PRIVATE KEY", pkcs8(seq(EC_PUBLIC_KEY, P256), p256_ec, version=2)),
    "non-der-inner.pkcs8.pem": ("PRIVATE KEY", pkcs8(seq(EC_PUBLIC_KEY, P256), non_der_inner)),
}

os.makedirs(OUT, exist_ok=True)
failed = False
for name, (label, der) in CASES.items():
    text = pem(label, der)
    try:
        serialization.load_pem_private_key(text.encode(), None)
        print(f"{name}: cryptography LOADS it (it should refuse)", file=sys.stderr)
        failed = True
    except Exception as e:  # noqa: BLE001 - any refusal will do
        print(f"{name}: cryptography refuses: {type(e).__name__}: {e}")
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)
sys.exit(1 if failed else 0)
