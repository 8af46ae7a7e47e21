//! The `--endpoint` value: host and port, and what TLS derives from them
//! (the SNI name, and the ALPN protocol AWS IoT wants for MQTT on port 443).

use std::fmt;

use rustls::pki_types::ServerName;

/// MQTT over TLS.
pub(crate) const DEFAULT_PORT: u16 = 8883;

/// The ALPN protocol AWS IoT Core requires for MQTT with a client
/// certificate on port 443 (where it otherwise expects HTTPS).
pub(crate) const AWS_MQTT_ALPN: &str = "x-amzn-mqtt-ca";

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The name TLS checks the server certificate against (and sends as SNI).
    pub(crate) server_name: ServerName<'static>,
}

impl Endpoint {
    /// Reads `HOST` or `HOST:PORT`. The message of an error says what to give instead.
    pub(crate) fn parse(text: &str) -> Result<Endpoint, String> {
        let text = text.trim();
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "give HOST or HOST:PORT without a scheme (not {scheme}://), \
                 e.g. xxxxxxxxxxxxxx-ats.iot.ap-northeast-1.amazonaws.com"
            ));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{port:?} is not a port number (1-65535)"))?;
                (host, port)
            }
            None => (text, DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err("the host is empty".to_owned());
        }
        if host.contains(':') || host.starts_with('[') {
            // The MQTT client joins host and port as `HOST:PORT`, which an
            // IPv6 literal breaks; AWS IoT endpoints are names anyway.
            return Err(format!(
                "{host:?}: IPv6 address literals are not supported, give a host name"
            ));
        }
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("{host:?} is not a valid host name or IP address"))?;
        Ok(Endpoint {
            host: host.to_owned(),
            port,
            server_name,
        })
    }

    /// The name sent as TLS SNI: the host, unless it is an IP address (TLS
    /// never sends addresses as SNI).
    pub(crate) fn sni(&self) -> Option<&str> {
        match &self.server_name {
            ServerName::DnsName(name) => Some(name.as_ref()),
            _ => None,
        }
    }

    /// The ALPN protocol to offer: AWS IoT's MQTT protocol on port 443, else none.
    pub(crate) fn alpn(&self) -> Option<&'static str> {
        (self.port == 443).then_some(AWS_MQTT_ALPN)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, host: &str, port: u16) {
        let endpoint = Endpoint::parse(input).unwrap();
        assert_eq!(
            (endpoint.host.as_str(), endpoint.port),
            (host, port),
            "{input}"
        );
    }

    #[test]
    fn hosts_and_ports() {
        check(
            "abc123-ats.iot.ap-northeast-1.amazonaws.com",
            "abc123-ats.iot.ap-northeast-1.amazonaws.com",
            8883,
        );
        check("localhost:18883", "localhost", 18883);
        check(" 127.0.0.1:443 ", "127.0.0.1", 443);
    }

    #[test]
    fn refusals_say_why() {
        for (input, why) in [
            ("mqtts://example.com", "without a scheme"),
            ("example.com:0", "not a port number"),
            ("example.com:x", "not a port number"),
            ("example.com:70000", "not a port number"),
            (":8883", "empty"),
            ("::1", "IPv6"),
            ("[::1]:8883", "IPv6"),
            ("bad host", "not a valid host name"),
        ] {
            let error = Endpoint::parse(input).unwrap_err();
            assert!(error.contains(why), "{input}: {error}");
        }
    }

    #[test]
    fn sni_is_the_name_never_an_address() {
        let name = Endpoint::parse("localhost").unwrap();
        assert_eq!(name.sni(), Some("localhost"));
        assert_eq!(Endpoint::parse("127.0.0.1").unwrap().sni(), None);
    }

    #[test]
    fn alpn_only_on_443() {
        assert_eq!(
            Endpoint::parse("h:443").unwrap().alpn(),
            Some(AWS_MQTT_ALPN)
        );
        assert_eq!(Endpoint::parse("h").unwrap().alpn(), None);
    }
}
