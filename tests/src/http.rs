//! A minimal HTTP/1.1 client over a std `TcpStream`, for black-box API
//! tests: one request per connection (`Connection: close`), bodies sent with
//! `Content-Length`, answers read to the end (plain or chunked).
//!
//! Deliberately tiny instead of a client crate: the tests talk to a server
//! on loopback and must show exactly what was sent and received.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// How long one exchange may take; generous for a batch against moto.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/v1/certificates/abc?targets=a,b`.
    pub path: String,
    pub content_type: Option<String>,
    /// More headers (`Authorization`, `Cookie`), sent as given.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// One more header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// A body and its content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some(content_type.to_owned());
        self.body = body.into();
        self
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Every header called `name` (case-insensitive), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` to 127.0.0.1:`port` and reads the whole answer.
///
/// A server may answer and close before reading a large body (413): write
/// errors are then ignored and whatever answer arrived is returned.
pub fn send(port: u16, request: &Request) -> io::Result<Response> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n",
        request.method, request.path
    );
    if let Some(content_type) = &request.content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !request.body.is_empty() || matches!(request.method.as_str(), "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let write_error = stream.write_all(&request.body).err();

    let mut raw = Vec::new();
    let read_error = read_until_closed(&mut stream, &mut raw).err();
    match parse(&raw) {
        Some(response) => Ok(response),
        None => Err(read_error.or(write_error).unwrap_or_else(|| {
            io::Error::other(format!(
                "not an HTTP answer: {:?}",
                String::from_utf8_lossy(&raw)
            ))
        })),
    }
}

/// Reads until EOF, keeping what arrived before an error (a reset after the
/// answer is common when the server did not read the whole body).
fn read_until_closed(stream: &mut TcpStream, raw: &mut Vec<u8>) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A complete answer, or `None` when `raw` is not one (yet).
fn parse(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().ok()?;
        rest.get(..length)?.to_vec()
    } else {
        rest.to_vec()
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

impl fmt::Display for Request {
    /// The request line, content type and body (long bodies shortened).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.path)?;
        if let Some(content_type) = &self.content_type {
            writeln!(f, "content-type: {content_type}")?;
        }
        // Header names only: values may be tokens, which tests never print.
        for (name, _) in &self.headers {
            writeln!(f, "{name}: (set)")?;
        }
        write!(f, "{}", shorten(&String::from_utf8_lossy(&self.body), 2000))
    }
}

impl fmt::Display for Response {
    /// The status and body (long bodies shortened).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "status {}", self.status)?;
        write!(f, "{}", shorten(&self.body_text(), 8000))
    }
}

/// `text` cut to about `max` bytes around the middle, saying how much went.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let head = text.floor_char_boundary(max / 2);
    let tail = text.ceil_char_boundary(text.len() - max / 2);
    format!(
        "{} [... {} bytes left out ...] {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain =
            parse(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi").unwrap();
        assert_eq!(
            (plain.status, plain.body.as_slice(), plain.header("x-a")),
            (201, &b"hi"[..], Some("b"))
        );
        let chunked = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.body, b"abcde");
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab").is_none());
        assert!(parse(b"garbage").is_none());
    }

    #[test]
    fn shortens_long_text() {
        assert_eq!(shorten("abc", 10), "abc");
        let long = "x".repeat(100);
        let short = shorten(&long, 10);
        assert!(short.contains("[... 90 bytes left out ...]"), "{short}");
    }
}
