#!/usr/bin/env bash
# Regenerates every fixture in this directory with the openssl CLI.
#
# Usage: bash make-fixtures.sh   (from anywhere; it works in its own directory)
#
# Made with OpenSSL 3.0 (Debian 12). File names are fixed; contents are not
# (keys and serials are random), so re-running changes every file and
# openssl-fingerprints.txt is rewritten to match. README.md lists what each
# file is and the command that made it. All private keys here are test-only.
#
# Everything below is possible with openssl alone, so Python is not needed.
# `openssl ca -selfsign` is used for the two certificates whose validity
# window is not "from now", because OpenSSL 3.0's `x509`/`req` have no
# -not_before/-not_after (added in 3.4).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

PW=marshal-test

case "$(openssl version)" in
OpenSSL\ 3.*) ;;
*) echo "make-fixtures.sh: needs OpenSSL 3.x, found: $(openssl version)" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Our own config, so the result does not depend on the distribution's
# openssl.cnf (Debian's adds CA:TRUE extensions to every `req -x509`).
cat >"$work/openssl.cnf" <<'CNF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = placeholder

# The "SSL client" profile a device certificate has (as made by Marshal and
# by macOS Keychain Access): end entity, digitalSignature, clientAuth.
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# Only for `openssl ca -selfsign` (expired / not-yet-valid).
[ca]
default_ca = fixture_ca
[fixture_ca]
dir = $ENV::FIXTURE_CA_DIR
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
policy = policy_any
default_md = sha256
unique_subject = no
[policy_any]
commonName = supplied
CNF
export OPENSSL_CONF="$work/openssl.cnf"
export FIXTURE_CA_DIR="$work/ca"
mkdir "$FIXTURE_CA_DIR"
touch "$FIXTURE_CA_DIR/index.txt"

rm -f ./*.pem ./*.der ./*.cer ./*.p12 ./*.pfx openssl-fingerprints.txt

ec_key() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$1" -out "$2"; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2" 2>/dev/null; }
# self_signed KEY CN OUT [openssl req options...]: 3650-day "SSL client" certificate.
self_signed() {
	local key=$1 cn=$2 out=$3
	shift 3
	openssl req -x509 -new -key "$key" -subj "/CN=$cn" -days 3650 -extensions leaf "$@" -out "$out"
}

# --- the good ones ----------------------------------------------------------
ec_key P-256 p256.key.pem
self_signed p256.key.pem fixture-p256 p256.cert.pem -sha256
openssl x509 -in p256.cert.pem -outform DER -out p256.cert.der
cp p256.cert.der p256.cer
openssl pkey -in p256.key.pem -traditional -out p256.sec1.pem
openssl pkcs8 -topk8 -nocrypt -in p256.key.pem -outform DER -out p256.key.der
openssl pkcs8 -topk8 -in p256.key.pem -passout "pass:$PW" -out p256.key.enc.pem
# Older encryptions: OpenSSL 1.0's default (a PKCS#12 scheme), PBES2 with
# 3DES and SHA-1, and scrypt (which Marshal refuses, naming it).
openssl pkcs8 -topk8 -in p256.key.pem -v1 PBE-SHA1-3DES -passout "pass:$PW" -out p256.key.pbe-sha1-3des.pem
openssl pkcs8 -topk8 -in p256.key.pem -v2 des3 -v2prf hmacWithSHA1 -passout "pass:$PW" -out p256.key.des3.pem
openssl pkcs8 -topk8 -in p256.key.pem -scrypt -passout "pass:$PW" -out p256.key.scrypt.pem

ec_key P-384 p384.key.pem
self_signed p384.key.pem fixture-p384 p384.cert.pem -sha384

ec_key P-521 p521.key.pem
self_signed p521.key.pem fixture-p521 p521.cert.pem -sha512

rsa_key 2048 rsa2048.key.pem
self_signed rsa2048.key.pem fixture-rsa2048 rsa2048.cert.pem -sha256
openssl rsa -in rsa2048.key.pem -traditional -out rsa2048.pkcs1.pem 2>/dev/null

# --- PKCS#12 ------------------------------------------------------------------
p12() { # OUT CERT KEY NAME PASSWORD [extra options...]
	local out=$1 cert=$2 key=$3 name=$4 pass=$5
	shift 5
	openssl pkcs12 -export "$@" -in "$cert" -inkey "$key" -name "$name" -passout "pass:$pass" -out "$out"
}
p12 p256.legacy.p12 p256.cert.pem p256.key.pem fixture-p256 "" -legacy
p12 p256.legacy.pw.p12 p256.cert.pem p256.key.pem fixture-p256 "$PW" -legacy
p12 p256.modern.p12 p256.cert.pem p256.key.pem fixture-p256 ""
p12 p256.modern.pw.p12 p256.cert.pem p256.key.pem fixture-p256 "$PW"
p12 rsa2048.legacy.pfx rsa2048.cert.pem rsa2048.key.pem fixture-rsa2048 "" -legacy
# The rarer shapes a reader meets: other legacy ciphers and a SHA-512 MAC,
# bags in the clear with no MAC, no MAC over a shrouded key, and BER framing.
p12 p256.rc2-128.pw.p12 p256.cert.pem p256.key.pem fixture-p256 "$PW" -legacy \
	-certpbe PBE-SHA1-RC2-128 -keypbe PBE-SHA1-2DES -macalg sha512
p12 p256.plain.p12 p256.cert.pem p256.key.pem fixture-p256 "" -keypbe NONE -certpbe NONE -nomac
p12 p256.nomac.pw.p12 p256.cert.pem p256.key.pem fixture-p256 "$PW" -nomac
python3 to-ber.py p256.modern.pw.p12 >p256.ber.pw.p12
# RC4, which Marshal does not implement: the error must name it.
p12 p256.rc4.p12 p256.cert.pem p256.key.pem fixture-p256 "" -legacy -certpbe PBE-SHA1-RC4-128 -keypbe PBE-SHA1-3DES

# --- what AWS IoT (or Marshal) must refuse ----------------------------------
rsa_key 1024 "$work/rsa1024.key.pem"
self_signed "$work/rsa1024.key.pem" fixture-rsa1024 rsa1024.cert.pem -sha256

openssl genpkey -algorithm ED25519 -out "$work/ed25519.key.pem"
self_signed "$work/ed25519.key.pem" fixture-ed25519 ed25519.cert.pem

ec_key secp256k1 "$work/secp256k1.key.pem"
self_signed "$work/secp256k1.key.pem" fixture-secp256k1 secp256k1.cert.pem -sha256

rsa_key 2048 "$work/sha1.key.pem"
self_signed "$work/sha1.key.pem" fixture-sha1-rsa2048 sha1-rsa2048.cert.pem -sha1

rsa_key 2048 "$work/md5.key.pem"
self_signed "$work/md5.key.pem" fixture-md5-rsa2048 md5-rsa2048.cert.pem -md5

# Validity windows in the past and the future: a CSR self-signed by `openssl ca`.
ec_key P-256 "$work/dated.key.pem"
ca_selfsign() { # CN START END OUT
	openssl req -new -key "$work/dated.key.pem" -subj "/CN=$1" -out "$work/$1.csr.pem"
	openssl ca -batch -selfsign -keyfile "$work/dated.key.pem" -in "$work/$1.csr.pem" \
		-startdate "$2" -enddate "$3" -rand_serial -extensions leaf -notext -out "$4" 2>/dev/null
}
ca_selfsign fixture-expired 20190101000000Z 20200101000000Z expired.cert.pem
ca_selfsign fixture-not-yet-valid 20990101000000Z 21090101000000Z not-yet-valid.cert.pem

ec_key P-256 "$work/ca.key.pem"
openssl req -x509 -new -key "$work/ca.key.pem" -subj /CN=fixture-ca -days 3650 -sha256 \
	-extensions ca_ext -out ca.cert.pem

# Two certificates as `openssl pkcs12 -nokeys` prints them (Bag Attributes,
# subject= and issuer= lines before each block), with Windows line endings.
p12 "$work/bundle.p12" p256.cert.pem p256.key.pem fixture-p256 "" -certfile p384.cert.pem
openssl pkcs12 -in "$work/bundle.p12" -nokeys -passin pass: | sed 's/$/\r/' >bundle.crlf.pem

ec_key P-256 other.key.pem

# --- openssl's answers, for the tests to compare with -------------------------
for f in *.cert.pem; do
	printf '%s %s\n' "$f" "$(openssl x509 -noout -fingerprint -sha256 -in "$f")"
done >openssl-fingerprints.txt

# --- checks -------------------------------------------------------------------
pub() { openssl pkey -pubout "$@"; }
same_key() { # CERT KEY [pkey options...]
	local cert=$1 key=$2
	shift 2
	if [ "$(openssl x509 -in "$cert" -noout -pubkey)" != "$(pub -in "$key" "$@")" ]; then
		echo "make-fixtures.sh: $key does not match $cert" >&2
		exit 1
	fi
}
same_key p256.cert.pem p256.key.pem
same_key p256.cert.pem p256.sec1.pem
same_key p256.cert.pem p256.key.der -inform DER
same_key p256.cert.pem p256.key.enc.pem -passin "pass:$PW"
same_key p256.cert.pem p256.key.pbe-sha1-3des.pem -passin "pass:$PW"
same_key p256.cert.pem p256.key.des3.pem -passin "pass:$PW"
same_key p384.cert.pem p384.key.pem
same_key p521.cert.pem p521.key.pem
same_key rsa2048.cert.pem rsa2048.key.pem
same_key rsa2048.cert.pem rsa2048.pkcs1.pem
if [ "$(pub -in other.key.pem)" = "$(pub -in p256.key.pem)" ]; then
	echo "make-fixtures.sh: other.key.pem matches p256" >&2
	exit 1
fi

for f in p256.legacy.p12 p256.legacy.pw.p12 p256.modern.p12 p256.modern.pw.p12 rsa2048.legacy.pfx \
	p256.rc2-128.pw.p12 p256.plain.p12 p256.nomac.pw.p12 p256.ber.pw.p12 p256.rc4.p12; do
	case $f in *.pw.p12) pass=$PW ;; *) pass= ;; esac
	case $f in *legacy* | *rc2* | *rc4*) legacy=-legacy ;; *) legacy= ;; esac
	echo "== openssl pkcs12 -info -noout $legacy -in $f"
	openssl pkcs12 -info -noout $legacy -in "$f" -passin "pass:$pass" 2>&1
done

# Keys that must be refused, made from the keys above (README, "Broken private keys").
python3 make-broken-keys.py

echo "fixtures written to $(pwd)"
