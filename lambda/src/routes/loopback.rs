//! The guard of a server without authentication (`auth = "none"`): it
//! answers only requests that came straight from this machine's browser or
//! tools, addressed to a loopback name.
//!
//! Binding to loopback is not enough: a page on `http://rebind.example:8080`
//! whose name starts resolving to 127.0.0.1 (DNS rebinding) calls the API as
//! its own origin, and a proxy or sidecar hands remote requests to loopback.
//! Browsers always send the name they resolved as `Host` (and `Origin` on
//! cross-origin and non-GET requests); proxies add forwarding headers.

use std::net::IpAddr;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use marshal_shared::api::ErrorCode;

use crate::{config::AuthMode, error::ApiError};

/// Headers a proxy in front adds; with no authentication, a proxied request
/// may come from anywhere.
const FORWARDING: [&str; 4] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-real-ip",
];

/// Middleware: with `auth = "none"`, refuses (403 `host_not_allowed`) any
/// request whose `Host` or URI authority is not a loopback name, whose
/// `Origin` is not a loopback `http` origin, or that a proxy forwarded.
/// With `auth = "jwt"` it lets everything through (API Gateway's host names
/// the API, and the JWT is the protection).
///
/// A request with no `Host` at all (in-process tests, hand-made HTTP/1.0)
/// passes: every browser sends one, so a rebinding page cannot omit it.
pub async fn loopback_only(State(auth): State<AuthMode>, request: Request, next: Next) -> Response {
    if auth == AuthMode::None
        && let Err(why) = check(&request)
    {
        tracing::warn!(
            refused = why,
            "request not from loopback refused (auth = \"none\")"
        );
        return ApiError::new(
            ErrorCode::HostNotAllowed,
            format!(
                "this server runs without authentication and answers only requests \
                 from this machine addressed to 127.0.0.1, [::1] or localhost: {why}"
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// Why the request may not be answered, in words safe to send back (no
/// header values echoed).
fn check(request: &Request) -> Result<(), &'static str> {
    let headers = request.headers();
    if let Some(authority) = request.uri().authority()
        && !is_loopback_authority(authority.as_str())
    {
        return Err("the request URI names another host");
    }
    match single(headers, &header::HOST)? {
        Some(host) if !host.to_str().is_ok_and(is_loopback_authority) => {
            return Err("the Host header names another host");
        }
        _ => {}
    }
    match single(headers, &header::ORIGIN)? {
        Some(origin) if !origin.to_str().is_ok_and(is_loopback_origin) => {
            return Err("the request comes from a page that is not on this machine");
        }
        _ => {}
    }
    if FORWARDING.iter().any(|name| headers.contains_key(*name)) {
        return Err("the request was forwarded by a proxy");
    }
    Ok(())
}

/// The header's one value, `None` when absent; two values are refused
/// (which one a proxy or a browser would act on is anyone's guess).
fn single<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a axum::http::HeaderValue>, &'static str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err("a header that must appear once appears twice");
    }
    Ok(first)
}

/// `host[:port]` where host is `localhost`, a loopback IPv4 address or
/// `[::1]`, and port, when present, a port number.
pub fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // [v6]:port
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        match v6.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => return ip.is_loopback() && port.is_none_or(is_port),
            Err(_) => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_ipv4() && ip.is_loopback());
    host_ok && port.is_none_or(is_port)
}

/// An `Origin` (`http://host[:port]`, nothing after) on a loopback name.
fn is_loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|authority| !authority.contains('/') && is_loopback_authority(authority))
}

/// An `http(s)://` URL (such as `AWS_ENDPOINT_URL`) whose host is loopback.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !authority.contains('@') && is_loopback_authority(authority)
}

/// Digits only (`u16::from_str` would take `+80`).
fn is_port(port: &str) -> bool {
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:1",
            "localhost:3000",
            "LocalHost",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "localhost.:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "127.0.0.1:+80",
            "127.0.0.1:80:80",
            "user@127.0.0.1",
            "[::ffff:127.0.0.1]:80",
            "[::1]x",
            "[::1",
            "::1",
            "0.0.0.0:8080",
            "10.0.0.1",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn loopback_urls() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://localhost:5000/",
            "https://[::1]:4566/path",
        ] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "",
            "127.0.0.1:5000",
            "https://sts.amazonaws.com",
            "http://127.0.0.1@evil.example",
            "http://evil.example/127.0.0.1",
            "ftp://127.0.0.1",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }
}
