//! A test CA and a TLS server certificate it signs, made with the `openssl`
//! CLI (an implementation independent of the rustls/rcgen code under test),
//! for brokers the tests start on loopback.

use std::path::{Path, PathBuf};

use crate::Cmd;

/// Files of a server's PKI, all PEM.
#[derive(Debug, Clone)]
pub struct ServerPki {
    /// The CA certificate: what a client passes as `--ca`.
    pub ca_cert: PathBuf,
    /// The CA's private key (made at run time, never committed).
    pub ca_key: PathBuf,
    /// The server certificate, for `localhost` (DNS name only: no IP address).
    pub cert: PathBuf,
    /// The server's private key (PKCS#8).
    pub key: PathBuf,
}

impl ServerPki {
    /// Makes `<name>-ca.pem`, `<name>-server.pem` and `<name>-server.key`
    /// in `dir`: an ECDSA P-256 CA and a server certificate for `localhost`
    /// (subjectAltName DNS:localhost, extendedKeyUsage serverAuth), valid 2 days.
    pub fn make(dir: &Path, name: &str) -> ServerPki {
        let ca_key = dir.join(format!("{name}-ca.key"));
        let ca_cert = dir.join(format!("{name}-ca.pem"));
        let key = dir.join(format!("{name}-server.key"));
        let csr = dir.join(format!("{name}-server.csr"));
        let cert = dir.join(format!("{name}-server.pem"));
        let extensions = dir.join(format!("{name}-server.ext"));
        std::fs::write(
            &extensions,
            "subjectAltName = DNS:localhost\n\
             extendedKeyUsage = serverAuth\n\
             basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\n",
        )
        .unwrap();
        Cmd::openssl()
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-keyout"])
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca_cert)
            .arg("-subj")
            .arg(format!("/CN=Marshal test CA {name}"))
            .run()
            .assert_success();
        Cmd::openssl()
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .run()
            .assert_success();
        Cmd::openssl()
            .args(["x509", "-req", "-days", "2", "-set_serial", "2", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&ca_cert)
            .arg("-CAkey")
            .arg(&ca_key)
            .arg("-extfile")
            .arg(&extensions)
            .arg("-out")
            .arg(&cert)
            .run()
            .assert_success();
        ServerPki {
            ca_cert,
            ca_key,
            cert,
            key,
        }
    }

    /// The same CA, but the server presents the CA certificate as its own:
    /// what a wrongly configured broker or an intercepting proxy can do
    /// (webpki's `CaUsedAsEndEntity`).
    pub fn ca_as_server(&self) -> ServerPki {
        ServerPki {
            cert: self.ca_cert.clone(),
            key: self.ca_key.clone(),
            ..self.clone()
        }
    }

    /// The same CA and server key, with a server certificate for
    /// `localhost` valid from `from_days` to `to_days` (days from now, may be
    /// negative) in `<name>-server.pem`: expired or not yet valid ones.
    /// Made with Python's `cryptography`, since OpenSSL 3.0's `x509` cannot
    /// set a start date.
    pub fn with_server_validity(
        &self,
        dir: &Path,
        name: &str,
        from_days: i64,
        to_days: i64,
    ) -> ServerPki {
        let cert = dir.join(format!("{name}-server.pem"));
        Cmd::python(
            r#"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ca_cert_path, ca_key_path, key_path, out, start, end = sys.argv[1:]
ca_cert = x509.load_pem_x509_certificate(open(ca_cert_path, "rb").read())
ca_key = serialization.load_pem_private_key(open(ca_key_path, "rb").read(), None)
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
    .issuer_name(ca_cert.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now + datetime.timedelta(days=int(start)))
    .not_valid_after(now + datetime.timedelta(days=int(end)))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .sign(ca_key, hashes.SHA256())
)
open(out, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
"#,
        )
        .arg(&self.ca_cert)
        .arg(&self.ca_key)
        .arg(&self.key)
        .arg(&cert)
        .arg(from_days.to_string())
        .arg(to_days.to_string())
        .run()
        .assert_success();
        ServerPki {
            cert,
            ..self.clone()
        }
    }
}
