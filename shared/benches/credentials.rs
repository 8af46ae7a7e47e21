//! Criterion benchmarks of the credential paths a user waits for: making a
//! P-256 key and certificate, RSA-2048 key generation, the certificate ID,
//! importing a legacy PKCS#12 file; and what the API waits for on every
//! request: the key-material scan of a 1 MiB body. Run with `cargo xtask bench`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

// Criterion is a native dev-dependency; for wasm32 (`cargo clippy --target
// wasm32-unknown-unknown --all-targets`) this bench is an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;

    use criterion::{Criterion, criterion_group};
    use marshal_shared::{
        CertificateRequest, KeyType, OffsetDateTime, certificate_id, find_key_material, generate,
        pkcs12,
    };

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
    }

    fn p256_credentials(c: &mut Criterion) {
        let request = CertificateRequest::new("bench-thing");
        c.bench_function("p256 key + self-signed certificate", |b| {
            b.iter(|| generate(KeyType::EcP256, black_box(&request), now()).unwrap())
        });
    }

    fn rsa_keygen(c: &mut Criterion) {
        let mut group = c.benchmark_group("rsa");
        group.sample_size(10);
        group.bench_function("rsa-2048 key + self-signed certificate", |b| {
            b.iter(|| {
                generate(
                    KeyType::Rsa2048,
                    &CertificateRequest::new("bench-rsa"),
                    now(),
                )
                .unwrap()
            })
        });
        group.finish();
    }

    fn fingerprint(c: &mut Criterion) {
        let creds = generate(KeyType::EcP256, &CertificateRequest::new("bench"), now()).unwrap();
        let der = creds.certificate.der().to_vec();
        c.bench_function("certificate ID (sha-256 of DER)", |b| {
            b.iter(|| certificate_id(black_box(&der)))
        });
    }

    fn legacy_pkcs12(c: &mut Criterion) {
        let p12 = include_bytes!("../tests/examples/p256.legacy.p12");
        c.bench_function("legacy PKCS#12 import (RC2-40 + 3DES, SHA-1 MAC)", |b| {
            b.iter(|| pkcs12::import(black_box(p12), "").unwrap())
        });
    }

    /// The largest body the API takes (1 MiB), as the two passes of
    /// `lambda/src/routes/body.rs` see it: raw JSON (PEM with `\n` escapes) and
    /// the decoded certificate PEM string. Neither holds a key: the whole scan
    /// runs.
    fn key_material_scan(c: &mut Criterion) {
        let pems: Vec<String> = (0..8)
            .map(|i| {
                let request = CertificateRequest::new(format!("bench-{i}"));
                generate(KeyType::EcP256, &request, now())
                    .unwrap()
                    .certificate
                    .to_pem()
            })
            .collect();
        let mut bundle = String::new();
        while bundle.len() < (1 << 20) - 2048 {
            bundle.push_str(&pems[bundle.len() % pems.len()]);
        }
        let body = serde_json::json!({ "certificatePem": bundle }).to_string();
        assert!(find_key_material(&body).is_none() && find_key_material(&bundle).is_none());
        let mut group = c.benchmark_group("key material scan");
        group.sample_size(20);
        group.bench_function("1 MiB JSON body of certificate PEM", |b| {
            b.iter(|| find_key_material(black_box(&body)))
        });
        group.bench_function("1 MiB certificate PEM string", |b| {
            b.iter(|| find_key_material(black_box(&bundle)))
        });
        group.finish();
    }

    criterion_group!(
        benches,
        p256_credentials,
        rsa_keygen,
        fingerprint,
        legacy_pkcs12,
        key_material_scan
    );
}
