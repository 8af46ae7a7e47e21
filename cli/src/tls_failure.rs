//! Why a TLS connection failed, in words: what happened and what to do, for
//! `connect-test` and the API client alike. rustls's own `Display` prints
//! `Debug` text for most errors (`invalid peer certificate:
//! Other(OtherError(CaUsedAsEndEntity))`, `received fatal alert:
//! BadCertificate`), so no rustls or webpki error is ever printed as it is:
//! each variant has its sentence here.

use std::error::Error as StdError;
use std::io;

use marshal_shared::OffsetDateTime;
use rustls::{AlertDescription, CertificateError, pki_types::UnixTime};

/// A TLS failure explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Explained {
    /// Stable snake_case code (`connect-test --json`; append-only).
    pub(crate) code: &'static str,
    /// What happened, one sentence.
    pub(crate) message: String,
    /// What to do about it, most likely first.
    pub(crate) causes: Vec<String>,
}

impl Explained {
    fn new(code: &'static str, message: impl Into<String>) -> Explained {
        Explained {
            code,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    fn cause(mut self, cause: impl Into<String>) -> Explained {
        self.causes.push(cause.into());
        self
    }
}

/// What the sentences need to know about the server we talked to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer<'a> {
    /// The host name (or IP address) we connected to.
    pub(crate) host: &'a str,
    /// Where the trust anchors came from, for messages.
    pub(crate) trust: &'a str,
    /// How to find the right server: the advice for a wrong endpoint.
    pub(crate) right_server: &'a str,
}

/// The rustls error anywhere in `error`'s chain. An `io::Error` wrapping one
/// hides it from `source()` (which skips to the wrapped error's own source),
/// so look inside each `io::Error` too.
pub(crate) fn find_rustls_error<'a>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a rustls::Error> {
    std::iter::successors(Some(error), |e| (*e).source()).find_map(|e| {
        e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        })
    })
}

/// Any rustls error, in words. Alerts are described as coming from the
/// server; callers that know more about when an alert came (connect-test)
/// explain refusals of the client certificate themselves.
pub(crate) fn explain(error: &rustls::Error, peer: &Peer<'_>) -> Explained {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(certificate) => server_certificate(certificate, peer),
        E::AlertReceived(alert) => received_alert(*alert, peer),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => Explained::new(
            "tls_protocol_error",
            "the server sent something that is not a TLS message this client expected",
        )
        .cause("this port does not speak TLS, or something between here and the server rewrites the connection"),
        E::InappropriateHandshakeMessage { .. } | E::PeerMisbehaved(_) => Explained::new(
            "tls_protocol_error",
            "the server broke the rules of the TLS handshake",
        )
        .cause("this port does not speak TLS as expected, or something between here and the server rewrites the connection"),
        E::PeerIncompatible(_) => Explained::new(
            "tls_incompatible",
            "the server has no TLS version, cipher suite, key exchange or signature scheme in \
             common with this client (TLS 1.2 or 1.3)",
        )
        .cause("the server only speaks old TLS (1.0/1.1) or unusual algorithms; AWS IoT speaks TLS 1.2 and 1.3"),
        E::NoCertificatesPresented => Explained::new(
            "tls_server_certificate_invalid",
            "the server sent no certificate, so it cannot be trusted",
        )
        .cause(peer.right_server),
        E::DecryptError | E::PeerSentOversizedRecord => Explained::new(
            "tls_protocol_error",
            "a TLS record from the server could not be read (corrupted or oversized)",
        )
        .cause("something between here and the server damages or rewrites the connection"),
        E::NoApplicationProtocol => Explained::new(
            "tls_alert",
            "the server accepts none of the ALPN protocols this client offered",
        )
        .cause("on port 443 AWS IoT wants ALPN x-amzn-mqtt-ca, which connect-test offers only on 443"),
        E::UnsupportedNameType => Explained::new(
            "tls_failed",
            format!("{} cannot be checked against a certificate: give a host name", peer.host),
        ),
        E::FailedToGetCurrentTime => Explained::new(
            "tls_failed",
            "this computer's clock could not be read, so no certificate can be checked",
        ),
        _ => Explained::new(
            "tls_failed",
            "TLS failed inside this client for a reason it cannot name",
        )
        .cause("try again; if it persists, report it with the command line you ran"),
    }
}

/// An alert from the server (not a refusal of our certificate: see
/// [`refuses_client_certificate`]).
fn received_alert(alert: AlertDescription, peer: &Peer<'_>) -> Explained {
    if refuses_client_certificate(alert) {
        return Explained::new(
            "tls_certificate_refused",
            format!(
                "the server refused our client certificate: TLS alert {}",
                alert_name(alert)
            ),
        )
        .cause("the server does not accept this client certificate");
    }
    let explained = Explained::new(
        "tls_alert",
        format!(
            "the server ended the TLS handshake with alert {}",
            alert_name(alert)
        ),
    );
    match alert {
        AlertDescription::UnrecognisedName => explained.cause(format!(
            "the server does not serve the name {}: check the host",
            peer.host
        )),
        AlertDescription::NoApplicationProtocol => explained.cause(
            "the server does not accept the ALPN protocol offered (x-amzn-mqtt-ca on port 443)",
        ),
        _ => explained
            .cause("no TLS version, cipher suite or signature algorithm in common with the server"),
    }
}

/// Why the server's certificate was not accepted, every rustls variant and
/// the webpki errors that rustls passes on as `Other`.
pub(crate) fn server_certificate(error: &CertificateError, peer: &Peer<'_>) -> Explained {
    use CertificateError as C;
    let invalid = |what: &str| {
        Explained::new(
            "tls_server_certificate_invalid",
            format!("the server's certificate {what}"),
        )
    };
    #[allow(deprecated)] // Matched so that older rustls paths get words too.
    match error {
        C::UnknownIssuer => untrusted("is not signed by a CA we trust", peer),
        C::BadSignature => untrusted("has a bad signature", peer),
        C::NotValidForName => name_mismatch(peer, &[]),
        C::NotValidForNameContext { presented, .. } => name_mismatch(peer, presented),
        C::Expired => expired("has expired", None),
        C::ExpiredContext { time, not_after } => expired(
            &format!(
                "expired on {} ({} ago)",
                date(*not_after),
                span(time.as_secs().saturating_sub(not_after.as_secs()))
            ),
            Some(*time),
        ),
        C::NotValidYet => expired("is not valid yet", None),
        C::NotValidYetContext { time, not_before } => expired(
            &format!(
                "is not valid before {} ({} from now)",
                date(*not_before),
                span(not_before.as_secs().saturating_sub(time.as_secs()))
            ),
            Some(*time),
        ),
        C::BadEncoding => {
            invalid("is not a well-formed X.509 certificate").cause(peer.right_server)
        }
        C::Revoked => invalid("has been revoked by its CA").cause(peer.right_server),
        C::UnhandledCriticalExtension => invalid(
            "has a critical extension this client does not understand, so it must refuse it",
        )
        .cause(peer.right_server),
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. } => {
            invalid("could not be checked for revocation").cause(peer.right_server)
        }
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => invalid(
            "is signed with an algorithm this client does not support (it checks RSA, ECDSA \
             and Ed25519 signatures)",
        )
        .cause(peer.right_server),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            invalid("is not meant for TLS servers (its extended key usage lacks serverAuth)")
                .cause(peer.right_server)
        }
        C::InvalidOcspResponse => {
            invalid("came with an unreadable revocation (OCSP) answer").cause(peer.right_server)
        }
        C::ApplicationVerificationFailure => invalid("was refused by this client's checks"),
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki) => webpki_error(webpki, peer),
            None => invalid("was refused by certificate verification").cause(peer.right_server),
        },
        _ => invalid("was refused by certificate verification").cause(peer.right_server),
    }
}

/// The webpki errors that rustls does not map to a [`CertificateError`].
fn webpki_error(error: &webpki::Error, peer: &Peer<'_>) -> Explained {
    use webpki::Error as W;
    let invalid = |what: &str| {
        Explained::new(
            "tls_server_certificate_invalid",
            format!("the server's certificate {what}"),
        )
        .cause(peer.right_server)
    };
    #[allow(deprecated)] // Matched so that older webpki paths get words too.
    match error {
        W::CaUsedAsEndEntity => Explained::new(
            "tls_server_certificate_is_ca",
            "the server presented a CA certificate as its own certificate",
        )
        .cause(format!(
            "the endpoint is wrong or a proxy is in the way: {}",
            peer.right_server
        ))
        .cause(
            "a server you run is configured with its CA certificate where its own (server) \
             certificate belongs",
        ),
        W::EndEntityUsedAsCa => invalid("chain uses a server or device certificate as a CA"),
        W::CertDistrusted => invalid("has a key that is explicitly distrusted"),
        W::UnknownIssuer => untrusted("is not signed by a CA we trust", peer),
        W::CertExpired { time, not_after } => server_certificate(
            &CertificateError::ExpiredContext {
                time: *time,
                not_after: *not_after,
            },
            peer,
        ),
        W::CertNotValidYet { time, not_before } => server_certificate(
            &CertificateError::NotValidYetContext {
                time: *time,
                not_before: *not_before,
            },
            peer,
        ),
        W::InvalidCertValidity => invalid("has a validity period that ends before it begins"),
        W::CertNotValidForName(_) => name_mismatch(peer, &[]),
        W::CertRevoked => invalid("has been revoked by its CA"),
        W::UnsupportedCertVersion => invalid("is not an X.509 version 3 certificate"),
        W::BadDer
        | W::BadDerTime
        | W::TrailingData(_)
        | W::MalformedExtensions
        | W::ExtensionValueInvalid
        | W::MalformedDnsIdentifier
        | W::MalformedNameConstraint
        | W::InvalidSerialNumber => invalid("is not a well-formed X.509 certificate"),
        W::UnsupportedCriticalExtension => invalid(
            "has a critical extension this client does not understand, so it must refuse it",
        ),
        W::EmptyEkuExtension | W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) => {
            invalid("is not meant for TLS servers (its extended key usage lacks serverAuth)")
        }
        W::NameConstraintViolation | W::PathLenConstraintViolated => {
            invalid("is outside what its CA is allowed to sign (name or path length constraints)")
        }
        W::MaximumNameConstraintComparisonsExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumPathDepthExceeded
        | W::MaximumSignatureChecksExceeded => {
            invalid("comes with a chain too long or complex to check")
        }
        W::InvalidSignatureForPublicKey => untrusted("has a bad signature", peer),
        W::SignatureAlgorithmMismatch => {
            invalid("names two different signature algorithms for its own signature")
        }
        W::UnsupportedSignatureAlgorithm
        | W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKey
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => invalid(
            "is signed with an algorithm this client does not support (it checks RSA, ECDSA \
             and Ed25519 signatures)",
        ),
        W::UnknownRevocationStatus | W::CrlExpired { .. } => {
            invalid("could not be checked for revocation")
        }
        W::UnsupportedNameType => Explained::new(
            "tls_failed",
            format!(
                "{} cannot be checked against a certificate: give a host name",
                peer.host
            ),
        ),
        // The rest are about revocation lists, which this client never loads.
        _ => invalid("was refused by certificate verification"),
    }
}

fn untrusted(what: &str, peer: &Peer<'_>) -> Explained {
    Explained::new(
        "tls_server_untrusted",
        format!("the server's certificate {what} (trusted: {})", peer.trust),
    )
    .cause(format!(
        "the trusted CAs do not include this server's CA: {}",
        peer.right_server
    ))
    .cause("something between here and the server intercepts TLS (a proxy)")
}

fn name_mismatch(peer: &Peer<'_>, presented: &[String]) -> Explained {
    let names: Vec<&str> = presented.iter().map(|n| bare_name(n)).collect();
    let named = match names.as_slice() {
        [] => String::new(),
        names => format!(" (it names {})", names.join(", ")),
    };
    Explained::new(
        "tls_server_name_mismatch",
        format!(
            "the server's certificate is not valid for {}{named}",
            peer.host
        ),
    )
    .cause(
        "the endpoint host is not this server's name: give the name its certificate has, not \
         an IP address or an alias",
    )
}

fn expired(what: &str, now: Option<UnixTime>) -> Explained {
    let clock = match now {
        Some(now) => format!(
            "this computer's clock is wrong (it says {}): set it right",
            date(now)
        ),
        None => "this computer's clock is wrong: set it right".to_owned(),
    };
    Explained::new(
        "tls_server_certificate_expired",
        format!("the server's certificate {what}"),
    )
    .cause(clock)
    .cause(
        "the server's operator has not renewed its certificate (AWS IoT's endpoints renew \
         theirs, so on AWS this means the endpoint is wrong or a proxy is in the way)",
    )
}

/// `localhost` from rustls's `DnsName("localhost")`; names that rustls
/// printed plainly stay as they are.
pub(crate) fn bare_name(presented: &str) -> &str {
    presented
        .split_once("(\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .unwrap_or(presented)
}

/// `2026-12-03 19:59 UTC`.
fn date(time: UnixTime) -> String {
    let seconds = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    match OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "a date far in the future".to_owned(),
    }
}

/// `3 days`, `5 hours`, `1 minute`, `20 seconds`.
fn span(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s >= 2 * 86_400 => (s / 86_400, "day"),
        s if s >= 2 * 3_600 => (s / 3_600, "hour"),
        s if s >= 2 * 60 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// An alert's name as RFC 8446 writes it (`unknown_ca`, `bad_certificate`).
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UnexpectedMessage => "unexpected_message",
        AlertDescription::BadRecordMac => "bad_record_mac",
        AlertDescription::RecordOverflow => "record_overflow",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::NoCertificate => "no_certificate",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::IllegalParameter => "illegal_parameter",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecodeError => "decode_error",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::InappropriateFallback => "inappropriate_fallback",
        AlertDescription::UserCanceled => "user_canceled",
        AlertDescription::MissingExtension => "missing_extension",
        AlertDescription::UnsupportedExtension => "unsupported_extension",
        AlertDescription::UnrecognisedName => "unrecognized_name",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::NoApplicationProtocol => "no_application_protocol",
        other => return format!("number {}", u8::from(other)),
    };
    name.to_owned()
}

/// Alerts by which a server says it does not accept our client certificate.
pub(crate) fn refuses_client_certificate(alert: AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateRequired
            | AlertDescription::NoCertificate
    )
}

#[cfg(test)]
mod tests;
