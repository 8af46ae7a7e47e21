//! Browser benchmark (not a test of speed: it asserts nothing about time).
//! Prints the median time to make a P-256 key + certificate and the time for
//! 1,000 of them in headless Chromium. Run with `cargo xtask bench`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use marshal_shared::{CertificateRequest, KeyType, OffsetDateTime, generate};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn p256_credentials_in_the_browser() {
    let now = OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap();
    let request = CertificateRequest::new("bench-thing");
    // Warm up (first call instantiates tables).
    for _ in 0..20 {
        generate(KeyType::EcP256, &request, now).unwrap();
    }
    let mut samples: Vec<f64> = (0..300)
        .map(|_| {
            let start = now_ms();
            generate(KeyType::EcP256, &request, now).unwrap();
            now_ms() - start
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];

    let start = now_ms();
    for _ in 0..1000 {
        generate(KeyType::EcP256, &request, now).unwrap();
    }
    let thousand = now_ms() - start;
    console_log!(
        "browser P-256 key + certificate: median {median:.3} ms, p90 {p90:.3} ms; 1,000 in {thousand:.0} ms"
    );
}
