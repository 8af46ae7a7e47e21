"""What Python `cryptography` sees in the PyCA test corpus (`cryptography_vectors`).

Run by tests/tests/corpus_pyca/, once per mode, for every file at once:

  pyca_facts.py describe
      Walks the corpus, classifies every file by its content, and prints one
      JSON object per line: the file, its kind, the password it needs and
      what `cryptography` reads from it (or why it refuses it).
  pyca_facts.py outputs
      Reads JSON lines from stdin naming files `marshal convert` wrote and
      prints, per line, what `cryptography` reads from them.

Nothing secret is printed: keys are compared through the SHA-256 of the
unencrypted PKCS#8 DER that `cryptography` itself makes of them, and their
public SubjectPublicKeyInfo.
"""

import base64
import fnmatch
import hashlib
import json
import os
import sys
import warnings

import cryptography
import cryptography_vectors
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

# The corpus is full of deprecated and malformed things on purpose.
warnings.simplefilter("ignore")

ROOT = os.path.dirname(cryptography_vectors.__file__)

# Where certificates, PKCS#12 files and private keys live; the rest of the
# package is cipher, hash and KDF vectors.
TOP_DIRECTORIES = ["x509", "pkcs12", "asymmetric"]

# Whole directories left out, and why. Everything else is classified by content.
EXCLUDED_DIRECTORIES = {
    "x509/ocsp": "OCSP requests and responses: marshal reads none",
    "x509/requests": "certificate signing requests: marshal reads none",
    "x509/PKITS_data/crls": "CRLs: marshal reads none",
    "x509/PKITS_data/smime": "S/MIME messages: marshal reads none",
    "x509/PKITS_data/certpairs": "cross-certificate pairs (not certificates): marshal reads none",
    "asymmetric/OpenSSH": "OpenSSH keys and certificates: marshal reads none",
    "asymmetric/DH": "Diffie-Hellman keys and parameters: key agreement, never a device key",
    "asymmetric/X25519": "X25519 keys: key agreement, no certificate signs with them",
    "asymmetric/X448": "X448 keys: key agreement, no certificate signs with them",
    "asymmetric/MLKEM": "ML-KEM keys: key encapsulation, never a device key",
}
# PKITS' 405 PKCS#12 files hold the certificates of PKITS_data/certs (tested
# there) with their keys, all made by one tool in one scheme, and take 55 ms
# each to open: 20 s of cryptography and more of marshal for little news.
# MARSHAL_CORPUS_FULL=1 takes them in.
if os.environ.get("MARSHAL_CORPUS_FULL") != "1":
    EXCLUDED_DIRECTORIES["x509/PKITS_data/pkcs12"] = (
        "PKITS' certificates again, with keys, one scheme; slow (MARSHAL_CORPUS_FULL=1 adds them)")

# File names that can hold a certificate, key or PKCS#12; the other files
# under TOP_DIRECTORIES are text test vectors (.txt, .rsp, .fax, ...).
EXTENSIONS = (".pem", ".der", ".crt", ".cer", ".key", ".p12", ".pfx")

# Passwords, as PyCA's own tests (tests/hazmat/primitives/test_serialization.py,
# test_pkcs12.py) use them; first match wins. Files not listed have none.
PASSWORDS = [
    ("asymmetric/*/enc-rsa-pkcs8.*", "foobar"),
    # Made from enc-rsa-pkcs8 with zero PBKDF2 iterations; both refuse it.
    ("asymmetric/PKCS8/enc-rsa-pkcs8-pbkdf2-0iter.pem", "foobar"),
    ("asymmetric/*/enc2-rsa-pkcs8.*", "baz"),
    ("asymmetric/PKCS8/rsa-40bitrc2.pem", "baz"),
    ("asymmetric/PKCS8/rsa_pkcs8_pbes2_pbkdf2_*", "PolarSSLTest"),
    ("asymmetric/PKCS8/rsa-aes-192-cbc.pem", "PolarSSLTest"),
    ("asymmetric/PKCS8/rsa-rc2-cbc.pem", "Red Hat Enterprise Linux 7.4"),
    ("asymmetric/PKCS8/ed25519-scrypt.pem", "hunter42"),
    ("asymmetric/PKCS8/rsa-pbewithmd5anddescbc.pem", "hunter2"),
    ("asymmetric/PEM_Serialization/*", "123456"),
    ("asymmetric/*/ec_private_key_encrypted.*", "123456"),
    ("asymmetric/PKCS8/pkcs12_s2k_pem-*", "123456"),
    # key1-malformed-* and friends are key1.pem with a broken header: its password.
    ("asymmetric/Traditional_OpenSSL_Serialization/key1*", "123456"),
    ("asymmetric/Traditional_OpenSSL_Serialization/key2.pem", "a123456"),
    # PyCA's tests use "password" for the other encrypted keys (enc-rsa-3des,
    # the *-pkcs8-enc Ed25519/Ed448 keys, RC4, long salt, unknown algorithms).
    ("asymmetric/*", "password"),
    ("pkcs12/*-no-pwd.p12", ""),
    ("pkcs12/no-password.p12", ""),
    ("pkcs12/java-truststore.p12", ""),
    ("pkcs12/*-pwd.p12", "password"),
    ("pkcs12/*", "cryptography"),
    ("x509/PKITS_data/pkcs12/*", "password"),
]


def password_for(rel, encrypted):
    """The password of a PKCS#12 file or an encrypted key; "" for the rest."""
    if not encrypted:
        return ""
    for pattern, password in PASSWORDS:
        if fnmatch.fnmatchcase(rel, pattern):
            return password
    return ""


# --- a minimal DER reader, only to classify files and to quote raw bytes ---

def tlv(data, pos=0):
    """(tag, content start, end) of the element at pos; ValueError if broken."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tag")
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    return tag, start, end


def children(data, start, end):
    out = []
    pos = start
    while pos < end:
        tag, s, e = tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, OID, SET = 0x30, 0x02, 0x03, 0x04, 0x06, 0x31
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18


def classify_der(der):
    """certificate, key, pkcs12, crl, csr, public-key or None, by structure alone."""
    tag, s, e = tlv(der)
    if tag != SEQUENCE:
        return None
    parts = children(der, s, e)
    if not parts:
        return None
    first = parts[0]
    if first[0] == INTEGER:
        if len(parts) == 2 and parts[1][0] == INTEGER:
            return "public-key"  # PKCS#1 RSAPublicKey: modulus, exponent
        version = int.from_bytes(der[first[1]:first[2]], "big")
        if version == 3 and len(parts) >= 2 and parts[1][0] == SEQUENCE:
            return "pkcs12"
        return "key"  # PKCS#8, PKCS#1, SEC1 or OpenSSL DSA: all start with a version
    if first[0] != SEQUENCE:
        return None
    if len(parts) == 2 and parts[1][0] == BIT_STRING:
        return "public-key"
    if len(parts) == 2 and parts[1][0] == OCTET_STRING:
        return "key"  # EncryptedPrivateKeyInfo
    if len(parts) == 3 and parts[2][0] == BIT_STRING:
        tbs = children(der, first[1], first[2])
        if tbs and tbs[0][0] == 0xA0:
            return "certificate"  # [0] EXPLICIT version: v2 or v3
        tags = [t for t, _, _ in tbs]
        if UTC_TIME in tags or GENERALIZED_TIME in tags:
            return "crl"  # thisUpdate sits right in a TBSCertList
        if len(tbs) >= 3 and tbs[0][0] == INTEGER and tbs[2][0] == SEQUENCE:
            inner = children(der, tbs[2][1], tbs[2][2]) if tbs[1][0] == SEQUENCE else []
            if inner and inner[0][0] == OID:
                return "certificate"  # v1: serial, AlgorithmIdentifier
            return "csr"
        return "certificate"
    return None


PEM_KINDS = {
    "CERTIFICATE": "certificate",
    "X509 CERTIFICATE": "certificate",
    "TRUSTED CERTIFICATE": "certificate",
    "X509 CRL": "crl",
    "CERTIFICATE REQUEST": "csr",
    "NEW CERTIFICATE REQUEST": "csr",
    "PUBLIC KEY": "public-key",
    "RSA PUBLIC KEY": "public-key",
    "OPENSSH PRIVATE KEY": "ssh-key",
    "DSA PARAMETERS": "parameters",
    "DH PARAMETERS": "parameters",
    "X9.42 DH PARAMETERS": "parameters",
    "EC PARAMETERS": "parameters",
    "PKCS7": "pkcs7",
}

SKIPPED_KINDS = {
    "crl": "a CRL: marshal reads none",
    "csr": "a certificate signing request: marshal reads none",
    "public-key": "a bare public key: marshal reads certificates and private keys",
    "ssh-key": "an OpenSSH key: marshal reads none",
    "parameters": "domain parameters, no key",
    "pkcs7": "a PKCS#7 bundle: marshal reads none",
}


def pem_labels(data):
    return [
        line.strip()[len(b"-----BEGIN "):-5].decode("ascii", "replace")
        for line in data.splitlines()
        if line.strip().startswith(b"-----BEGIN ") and line.strip().endswith(b"-----")
    ]


def pem_kind(label):
    if label in PEM_KINDS:
        return PEM_KINDS[label]
    if label.endswith("PRIVATE KEY"):
        return "key"
    if label.endswith("PUBLIC KEY"):
        return "public-key"
    return "unknown-pem"


def classify(rel, data):
    """The kind of a file by its content; the directory decides when the
    content is too broken to tell (truncated DER is still a test of the key
    or certificate reader). PEM holding certificates is a certificate file
    even with keys beside them (a bundle)."""
    labels = pem_labels(data)
    if labels:
        kinds = [pem_kind(label) for label in labels]
        return "certificate" if "certificate" in kinds else kinds[0]
    try:
        kind = classify_der(data)
    except ValueError:
        kind = None
    if kind:
        return kind
    top = rel.split("/")[0]
    if rel.endswith((".p12", ".pfx")):
        return "pkcs12"
    return {"x509": "certificate", "pkcs12": "pkcs12", "asymmetric": "key"}[top]


def encrypted(data):
    """An encrypted key: PKCS#8 EncryptedPrivateKeyInfo (PEM or DER) or
    OpenSSL's encrypted PEM headers."""
    if b"ENCRYPTED" in data:
        return True
    try:
        _, s, e = tlv(data)
        parts = children(data, s, e)
        return len(parts) == 2 and parts[0][0] == SEQUENCE and parts[1][0] == OCTET_STRING
    except ValueError:
        return False


# --- facts, as cryptography sees them ---

def rfc3339(t):
    """RFC 3339 in UTC with a Z, four-digit year, as marshal prints validity."""
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)


def name_facts(name, der):
    """RDNs in encoding order, read from the certificate's own DER (`der`:
    the whole Name); per attribute its OID, the value's DER (which the test
    needs when marshal prints `OID=#<DER hex>`), and the text cryptography
    decodes from it (None for a non-string value)."""
    _, s, e = tlv(der)
    out = []
    for rdn, (_, rs, re_) in zip(name.rdns, children(der, s, e)):
        attributes = list(rdn)
        raw = []
        for _, a_s, a_e in children(der, rs, re_):
            oid, value = children(der, a_s, a_e)[:2]
            # The value's TLV runs from the end of the OID to its own end.
            raw.append((decode_oid(der[oid[1]:oid[2]]), der[oid[2]:value[2]].hex()))
        # cryptography keeps an RDN's attributes in encoding order.
        same_order = [a.oid.dotted_string for a in attributes] == [o for o, _ in raw]
        out.append([
            {
                "oid": oid,
                "der": value_der,
                "text": (attributes[i].value if same_order
                         and isinstance(attributes[i].value, str) else None),
            }
            for i, (oid, value_der) in enumerate(raw)
        ])
    return out


def tbs_names(cert):
    """(issuer, subject) DER, straight from the TBSCertificate."""
    tbs = cert.tbs_certificate_bytes
    _, s, e = tlv(tbs)
    parts = children(tbs, s, e)
    if parts[0][0] == 0xA0:
        parts = parts[1:]
    # serial, signature, issuer, validity, subject
    def whole(p):
        return tbs[start_of(tbs, p):p[2]]
    return whole(parts[2]), whole(parts[4])


def start_of(data, part):
    """Start of the TLV whose content is data[part[1]:part[2]]."""
    tag, content_start, end = part
    for header in range(2, 7):
        pos = content_start - header
        if pos >= 0 and data[pos] == tag:
            try:
                if tlv(data, pos)[1:] == (content_start, end):
                    return pos
            except ValueError:
                pass
    raise ValueError("cannot find a header")


def spki(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_oid(spki_der):
    _, s, e = tlv(spki_der)
    algorithm = children(spki_der, s, e)[0]
    oid = children(spki_der, algorithm[1], algorithm[2])[0]
    return decode_oid(spki_der[oid[1]:oid[2]])


def decode_oid(content):
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


RSA_PSS = "1.2.840.113549.1.1.10"


def key_facts(public_key, oid=None):
    """The key as marshal names it: rsa / rsa-pss with bits, ec with the
    curve, ed25519, ed448, dsa; anything else by class name."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return {"type": "rsa-pss" if oid == RSA_PSS else "rsa", "bits": public_key.key_size}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"type": "ec", "curve": public_key.curve.name}
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return {"type": "ed25519"}
    if isinstance(public_key, ed448.Ed448PublicKey):
        return {"type": "ed448"}
    if isinstance(public_key, dsa.DSAPublicKey):
        return {"type": "dsa", "bits": public_key.key_size}
    return {"type": type(public_key).__name__}


def error(e):
    return "%s: %s" % (type(e).__name__, e)


def certificate_facts(cert):
    facts = {
        "id": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "serial": cert.serial_number,
    }
    # Each field on its own: one that cryptography cannot decode must not
    # hide the others.
    for field, get in [
        ("subject", lambda: name_facts(cert.subject, tbs_names(cert)[1])),
        ("issuer", lambda: name_facts(cert.issuer, tbs_names(cert)[0])),
        ("not_before", lambda: rfc3339(cert.not_valid_before_utc)),
        ("not_after", lambda: rfc3339(cert.not_valid_after_utc)),
        ("spki", lambda: spki(cert.public_key()).hex()),
    ]:
        try:
            facts[field] = get()
        except Exception as e:
            facts[field + "_error"] = error(e)
    if "spki" in facts:
        # The certificate's own algorithm OID: cryptography re-encodes an
        # RSA-PSS key as rsaEncryption.
        facts["key"] = key_facts(cert.public_key(), cert.public_key_algorithm_oid.dotted_string)
    # Hex with a sign, as a string: a JSON number would lose digits.
    n = facts["serial"]
    facts["serial"] = ("-" if n < 0 else "") + format(abs(n), "x")
    return facts


def private_key_facts(key, original_oid=None):
    public = spki(key.public_key())
    try:
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        digest = hashlib.sha256(pkcs8).hexdigest()
    except Exception as e:
        digest = "unserialisable: " + error(e)
    return {
        "key": key_facts(key.public_key(), original_oid or spki_oid(public)),
        "spki": public.hex(),
        "pkcs8_sha256": digest,
    }


def pkcs8_oid(der):
    """The algorithm OID of an unencrypted PKCS#8, else None (RSA-PSS keys
    say so only there; cryptography loads them as plain RSA)."""
    try:
        _, s, e = tlv(der)
        parts = children(der, s, e)
        if parts[0][0] == INTEGER and parts[1][0] == SEQUENCE:
            oid = children(der, parts[1][1], parts[1][2])[0]
            return decode_oid(der[oid[1]:oid[2]])
    except (ValueError, IndexError):
        pass
    return None


# A PKCS#8 PEM's BEGIN line, assembled so no key marker sits in the source.
PKCS8_BEGIN = b"-" * 5 + b"BEGIN PRIVATE KEY" + b"-" * 5


def pem_or_der_oid(data):
    if PKCS8_BEGIN in data:
        body = data.split(PKCS8_BEGIN)[1].split(b"-----END")[0]
        try:
            return pkcs8_oid(base64.b64decode(b"".join(body.split())))
        except ValueError:
            return None
    return pkcs8_oid(data)


def load_certificates(data):
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_key(data, password):
    pw = password.encode() if password else None
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, pw, unsafe_skip_rsa_key_validation=False)
    return serialization.load_der_private_key(data, pw)


def describe_certificate(data, password):
    facts = {"certificates": [certificate_facts(c) for c in load_certificates(data)]}
    key_blocks = [b for b in pem_blocks(data) if pem_kind(b[0]) == "key"]
    if key_blocks:
        try:
            key = load_key(key_blocks[0][1], password)
            facts["private_key"] = private_key_facts(key, pem_or_der_oid(key_blocks[0][1]))
        except Exception as e:
            facts["private_key_error"] = error(e)
    return facts


def pem_blocks(data):
    """(label, whole block) for each PEM block."""
    out, label, lines = [], None, []
    for line in data.splitlines(keepends=True):
        stripped = line.strip()
        if label is None and stripped.startswith(b"-----BEGIN ") and stripped.endswith(b"-----"):
            label, lines = stripped[11:-5].decode("ascii", "replace"), [line]
        elif label is not None:
            lines.append(line)
            if stripped.startswith(b"-----END "):
                out.append((label, b"".join(lines)))
                label = None
    return out


def describe_key(data, password):
    key = load_key(data, password)
    return {"private_key": private_key_facts(key, pem_or_der_oid(data)), "certificates": []}


def describe_pkcs12(data, password):
    loaded = pkcs12.load_pkcs12(data, password.encode() if password else None)
    certs = ([loaded.cert.certificate] if loaded.cert else []) + [
        c.certificate for c in loaded.additional_certs
    ]
    return {
        "certificates": [certificate_facts(c) for c in certs],
        "private_key": private_key_facts(loaded.key) if loaded.key else None,
    }


DESCRIBE = {"certificate": describe_certificate, "key": describe_key, "pkcs12": describe_pkcs12}


def describe():
    excluded_hits = {}
    for top in TOP_DIRECTORIES:
        for directory, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames.sort()
            rel_dir = os.path.relpath(directory, ROOT).replace(os.sep, "/")
            if rel_dir in EXCLUDED_DIRECTORIES:
                excluded_hits[rel_dir] = sum(len(f) for _, _, f in os.walk(directory))
                dirnames.clear()
                continue
            for filename in sorted(filenames):
                if not filename.lower().endswith(EXTENSIONS):
                    continue
                rel = rel_dir + "/" + filename
                data = open(os.path.join(directory, filename), "rb").read()
                kind = classify(rel, data)
                entry = {"path": rel, "kind": kind}
                if kind in DESCRIBE:
                    entry["password"] = password_for(rel, kind == "pkcs12" or encrypted(data))
                    try:
                        entry["python"] = dict(ok=True, **DESCRIBE[kind](data, entry["password"]))
                    except Exception as e:
                        entry["python"] = {"ok": False, "error": error(e)}
                else:
                    entry["skip"] = SKIPPED_KINDS.get(kind, "not a certificate, key or PKCS#12")
                print(json.dumps(entry))
    for rel_dir, count in sorted(excluded_hits.items()):
        print(json.dumps({
            "path": rel_dir + "/", "kind": "excluded-directory", "files": count,
            "skip": EXCLUDED_DIRECTORIES[rel_dir],
        }))


def outputs():
    """For each request line {"path", "cert", "key", "p12", "p12_password"}:
    what the files marshal wrote hold."""
    for line in sys.stdin:
        request = json.loads(line)
        result = {"path": request["path"]}
        if request.get("cert"):
            try:
                result["cert_ids"] = [
                    certificate_facts(c)["id"]
                    for c in load_certificates(open(request["cert"], "rb").read())
                ]
            except Exception as e:
                result["cert_error"] = error(e)
        if request.get("key"):
            try:
                data = open(request["key"], "rb").read()
                result["key"] = private_key_facts(load_key(data, ""), pem_or_der_oid(data))
            except Exception as e:
                result["key_error"] = error(e)
        if request.get("p12"):
            try:
                result["p12"] = describe_pkcs12(
                    open(request["p12"], "rb").read(), request["p12_password"])
            except Exception as e:
                result["p12_error"] = error(e)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    major = int(cryptography.__version__.split(".")[0])
    if major < 42:
        sys.exit("%s has cryptography %s; the corpus test needs 42 or newer" % (
            sys.executable, cryptography.__version__))
    if cryptography_vectors.__version__ != cryptography.__version__:
        sys.exit("cryptography_vectors %s does not match cryptography %s (tests/requirements.txt)"
                 % (cryptography_vectors.__version__, cryptography.__version__))
    {"describe": describe, "outputs": outputs}[sys.argv[1]]()
