//! Amazon Root CA 1: the CA that signs the server certificates of AWS IoT
//! Core's `iot:Data-ATS` endpoints, which devices must trust to connect.

/// Amazon Root CA 1 (RSA 2048, valid 2015-05-26 to 2038-01-17) as PEM.
///
/// Devices verify the AWS IoT endpoint against it; the CLI's `connect-test`
/// uses it when no `--ca` is given and the page ships it in device kits. It
/// is public: Amazon publishes it at <https://www.amazontrust.com/repository/AmazonRootCA1.pem>
/// and Debian's `ca-certificates` carries it
/// (`mozilla/Amazon_Root_CA_1.crt`, which `assets/AmazonRootCA1.pem` is a
/// copy of). Its SHA-256 fingerprint is
/// `8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E`
/// (checked by a test).
pub const AMAZON_ROOT_CA_1_PEM: &str = include_str!("../assets/AmazonRootCA1.pem");

#[cfg(test)]
mod tests {
    use super::AMAZON_ROOT_CA_1_PEM;
    use crate::{Certificate, Fingerprints};

    #[test]
    fn amazon_root_ca_1_is_the_published_certificate() {
        let cert = Certificate::from_pem(AMAZON_ROOT_CA_1_PEM).unwrap();
        // The fingerprint Amazon publishes and `openssl x509 -fingerprint -sha256` prints.
        assert_eq!(
            Fingerprints::of(cert.der()).sha256_colon,
            "8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E"
        );
        assert_eq!(cert.common_name().as_deref(), Some("Amazon Root CA 1"));
        assert!(cert.is_ca());
        assert!(cert.is_self_signed());
    }
}
