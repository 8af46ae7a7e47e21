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
        ServerPki { ca_cert, cert, key }
    }
}
