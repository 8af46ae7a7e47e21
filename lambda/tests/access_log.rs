//! The access log, in a test binary of its own: the JSON log is captured by
//! the process-wide subscriber, so no other test's thread can change which
//! callsites are enabled while this one runs (a thread-local subscriber in
//! `router.rs` missed the line now and then under a loaded machine).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use support::*;

/// A buffer that the JSON log writes into.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// I9: a path no route matched is the caller's text; the access log names
/// the method and the path's length, not the path.
#[tokio::test]
async fn unmatched_paths_are_not_logged_raw() {
    const PATH: &str = "/v2/secret-token-0123456789abcdef/x";
    let log = LogBuffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let w = world();
    let r = w.get(PATH).await;
    expect(&r, 404, Some("not_found"));
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("\"status\":404")
            && text.contains(&format!("(no route, {} bytes)", PATH.len())),
        "no access log line with the path's length: {text}"
    );
    assert!(
        !text.contains("secret-token"),
        "the unmatched path was logged: {text}"
    );
}
