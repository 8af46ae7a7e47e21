//! Every rustls and webpki error this client can meet, through the
//! translation: a known code, and words only (no `Debug` shapes).

use std::sync::Arc;

use marshal_shared::debug_text::debug_shapes;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::{
    ContentType, ExtendedKeyPurpose, HandshakeType, InvalidMessage, OtherError, PeerIncompatible,
    PeerMisbehaved,
};

use super::*;

const PEER: Peer<'static> = Peer {
    host: "example-ats.iot.eu-west-1.amazonaws.com",
    trust: "Amazon Root CA 1, built in",
    right_server: "use the account's iot:Data-ATS endpoint",
};

/// The explanation, checked for words; returns it for further checks.
#[track_caller]
fn words(explained: Explained, what: &str) -> Explained {
    let all = std::iter::once(&explained.message)
        .chain(&explained.causes)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let shapes = debug_shapes(&all);
    assert!(
        shapes.is_empty(),
        "{what}: Debug text {shapes:?} in:\n{all}"
    );
    assert!(!explained.message.is_empty(), "{what}: no message");
    explained
}

fn time(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs))
}

fn other(error: webpki::Error) -> CertificateError {
    CertificateError::Other(OtherError(Arc::new(error)))
}

#[test]
#[allow(deprecated)]
fn every_certificate_error_is_words() {
    let now = 1_796_000_000;
    let cases = vec![
        (
            CertificateError::BadEncoding,
            "tls_server_certificate_invalid",
        ),
        (CertificateError::Expired, "tls_server_certificate_expired"),
        (
            CertificateError::ExpiredContext {
                time: time(now),
                not_after: time(now - 3 * 86_400),
            },
            "tls_server_certificate_expired",
        ),
        (
            CertificateError::NotValidYet,
            "tls_server_certificate_expired",
        ),
        (
            CertificateError::NotValidYetContext {
                time: time(now),
                not_before: time(now + 7_200),
            },
            "tls_server_certificate_expired",
        ),
        (CertificateError::Revoked, "tls_server_certificate_invalid"),
        (
            CertificateError::UnhandledCriticalExtension,
            "tls_server_certificate_invalid",
        ),
        (CertificateError::UnknownIssuer, "tls_server_untrusted"),
        (
            CertificateError::UnknownRevocationStatus,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::ExpiredRevocationList,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::ExpiredRevocationListContext {
                time: time(now),
                next_update: time(now - 1),
            },
            "tls_server_certificate_invalid",
        ),
        (CertificateError::BadSignature, "tls_server_untrusted"),
        (
            CertificateError::UnsupportedSignatureAlgorithm,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: vec![1, 2, 3],
                supported_algorithms: vec![rustls::pki_types::alg_id::ECDSA_SHA256],
            },
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
                signature_algorithm_id: vec![1, 2, 3],
                public_key_algorithm_id: vec![4, 5],
            },
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::NotValidForName,
            "tls_server_name_mismatch",
        ),
        (
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("example.com").unwrap(),
                presented: vec!["DnsName(\"localhost\")".to_owned(), "10.0.0.1".to_owned()],
            },
            "tls_server_name_mismatch",
        ),
        (
            CertificateError::InvalidPurpose,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::InvalidPurposeContext {
                required: ExtendedKeyPurpose::ServerAuth,
                presented: vec![ExtendedKeyPurpose::Other(vec![1, 2, 3])],
            },
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::InvalidOcspResponse,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::ApplicationVerificationFailure,
            "tls_server_certificate_invalid",
        ),
        (
            CertificateError::Other(OtherError(Arc::new(std::io::Error::other("x")))),
            "tls_server_certificate_invalid",
        ),
    ];
    for (error, code) in cases {
        let what = format!("{error:?}");
        let explained = words(server_certificate(&error, &PEER), &what);
        assert_eq!(explained.code, code, "{what}");
        // Through the whole rustls error, as it arrives.
        let explained = words(
            explain(&rustls::Error::InvalidCertificate(error), &PEER),
            &what,
        );
        assert_eq!(explained.code, code, "{what}");
    }
}

/// rustls passes the webpki errors it has no variant for as `Other`.
#[test]
#[allow(deprecated)]
fn every_webpki_error_that_arrives_as_other_is_words() {
    use webpki::Error as W;
    let cases = [
        W::BadDer,
        W::BadDerTime,
        W::CaUsedAsEndEntity,
        W::CertDistrusted,
        W::CertExpired {
            time: time(2_000),
            not_after: time(1_000),
        },
        W::CertNotValidYet {
            time: time(1_000),
            not_before: time(2_000),
        },
        W::CertRevoked,
        W::CrlExpired {
            time: time(2_000),
            next_update: time(1_000),
        },
        W::EmptyEkuExtension,
        W::EndEntityUsedAsCa,
        W::ExtensionValueInvalid,
        W::InvalidCertValidity,
        W::InvalidCrlNumber,
        W::InvalidNetworkMaskConstraint,
        W::InvalidSerialNumber,
        W::InvalidCrlSignatureForPublicKey,
        W::InvalidSignatureForPublicKey,
        W::IssuerNotCrlSigner,
        W::MalformedDnsIdentifier,
        W::MalformedExtensions,
        W::MalformedNameConstraint,
        W::MaximumNameConstraintComparisonsExceeded,
        W::MaximumPathBuildCallsExceeded,
        W::MaximumPathDepthExceeded,
        W::MaximumSignatureChecksExceeded,
        W::NameConstraintViolation,
        W::PathLenConstraintViolated,
        W::RequiredEkuNotFound,
        W::SignatureAlgorithmMismatch,
        W::UnknownIssuer,
        W::UnknownRevocationStatus,
        W::UnsupportedCertVersion,
        W::UnsupportedCriticalExtension,
        W::UnsupportedCrlIssuingDistributionPoint,
        W::UnsupportedCrlVersion,
        W::UnsupportedDeltaCrl,
        W::UnsupportedIndirectCrl,
        W::UnsupportedNameType,
        W::UnsupportedRevocationReason,
        W::UnsupportedRevocationReasonsPartitioning,
        W::UnsupportedCrlSignatureAlgorithm,
        W::UnsupportedSignatureAlgorithm,
        W::UnsupportedCrlSignatureAlgorithmForPublicKey,
        W::UnsupportedSignatureAlgorithmForPublicKey,
    ];
    for error in cases {
        let what = format!("{error:?}");
        words(server_certificate(&other(error), &PEER), &what);
    }
}

/// The example: `Other(OtherError(CaUsedAsEndEntity))`.
#[test]
fn a_ca_certificate_as_the_servers_own_says_so_and_what_to_do() {
    let explained = words(
        explain(
            &rustls::Error::InvalidCertificate(other(webpki::Error::CaUsedAsEndEntity)),
            &PEER,
        ),
        "CaUsedAsEndEntity",
    );
    assert_eq!(explained.code, "tls_server_certificate_is_ca");
    assert_eq!(
        explained.message,
        "the server presented a CA certificate as its own certificate"
    );
    assert!(
        explained.causes[0].contains("proxy") && explained.causes[0].contains("iot:Data-ATS"),
        "{explained:?}"
    );
}

#[test]
fn dates_and_spans_are_read_by_people() {
    let explained = server_certificate(
        &CertificateError::ExpiredContext {
            time: time(1_796_400_000),
            not_after: time(1_796_400_000 - 3 * 86_400 - 60),
        },
        &PEER,
    );
    assert_eq!(
        explained.message,
        "the server's certificate expired on 2026-12-01 15:59 UTC (3 days ago)"
    );
    assert!(explained.causes[0].contains("it says 2026-12-04 16:00 UTC"));
    assert_eq!(span(1), "1 second");
    assert_eq!(span(7_200), "2 hours");
    assert_eq!(span(119), "119 seconds");
}

#[test]
fn presented_names_lose_their_debug_form() {
    let explained = server_certificate(
        &CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("example.com").unwrap(),
            presented: vec!["DnsName(\"localhost\")".to_owned()],
        },
        &PEER,
    );
    assert!(
        explained.message.ends_with("(it names localhost)"),
        "{explained:?}"
    );
    assert_eq!(bare_name("10.0.0.1"), "10.0.0.1");
}

#[test]
#[allow(deprecated)]
fn every_other_rustls_error_is_words() {
    let cases = [
        rustls::Error::InappropriateMessage {
            expect_types: vec![ContentType::Handshake],
            got_type: ContentType::ApplicationData,
        },
        rustls::Error::InappropriateHandshakeMessage {
            expect_types: vec![HandshakeType::ServerHello],
            got_type: HandshakeType::Finished,
        },
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType),
        rustls::Error::NoCertificatesPresented,
        rustls::Error::UnsupportedNameType,
        rustls::Error::DecryptError,
        rustls::Error::EncryptError,
        rustls::Error::PeerIncompatible(PeerIncompatible::Tls12NotOffered),
        rustls::Error::PeerMisbehaved(PeerMisbehaved::BadCertChainExtensions),
        rustls::Error::General("something".to_owned()),
        rustls::Error::FailedToGetCurrentTime,
        rustls::Error::FailedToGetRandomBytes,
        rustls::Error::HandshakeNotComplete,
        rustls::Error::PeerSentOversizedRecord,
        rustls::Error::NoApplicationProtocol,
        rustls::Error::BadMaxFragmentSize,
        rustls::Error::Other(OtherError(Arc::new(std::io::Error::other("x")))),
    ];
    for error in cases {
        let what = format!("{error:?}");
        words(explain(&error, &PEER), &what);
    }
    for n in 0..=255u8 {
        let alert = AlertDescription::from(n);
        let explained = words(
            explain(&rustls::Error::AlertReceived(alert), &PEER),
            &format!("alert {n}"),
        );
        let code = if refuses_client_certificate(alert) {
            "tls_certificate_refused"
        } else {
            "tls_alert"
        };
        assert_eq!(explained.code, code, "alert {n}");
    }
}

#[test]
fn alert_names_follow_the_rfc() {
    assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
    assert_eq!(
        alert_name(AlertDescription::CertificateRequired),
        "certificate_required"
    );
    assert_eq!(alert_name(AlertDescription::from(0xfe)), "number 254");
    assert!(refuses_client_certificate(AlertDescription::BadCertificate));
    assert!(!refuses_client_certificate(
        AlertDescription::ProtocolVersion
    ));
}

#[test]
fn rustls_errors_are_found_inside_io_errors() {
    let io = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(other(webpki::Error::CaUsedAsEndEntity)),
    );
    assert!(find_rustls_error(&io).is_some());
    assert!(find_rustls_error(&std::io::Error::other("plain")).is_none());
}
