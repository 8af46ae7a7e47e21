//! The work the web worker does: a [`GenerateJob`] in, a key and its
//! self-signed certificate out, both as PEM. Pure (the time comes in the
//! job), so it is tested natively and run unchanged in the worker.

use marshal_shared::{
    Certificate, CertificateRequest, KeyAlgorithm, KeyType, OffsetDateTime, PrivateKey,
};
use serde::{Deserialize, Serialize};

/// What the page asks the worker to make. Crosses `postMessage` as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateJob {
    /// Matches the answer to the request; stale answers are dropped.
    pub id: u64,
    /// `KeyType::as_str()`: `ec-p256`, `ec-p384`, `rsa-2048`, ...
    pub key_type: String,
    pub common_name: String,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub country: Option<String>,
    pub validity_days: u32,
    /// The page's clock (`Date.now()`), in milliseconds since the Unix
    /// epoch: `shared` reads no clock and `now_utc()` panics on wasm.
    pub now_unix_ms: f64,
}

/// What comes back. The key stays inside the page: worker → page only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum GenerateOutcome {
    /// Made.
    Made {
        id: u64,
        certificate_pem: String,
        /// PKCS#8 PEM.
        private_key_pem: String,
    },
    /// Refused or failed; `message` is for people.
    Failed { id: u64, message: String },
}

impl GenerateJob {
    /// Runs an ECDSA job (RSA jobs need their key: [`GenerateJob::run_with`]).
    pub fn run(&self) -> GenerateOutcome {
        self.run_with(None)
    }

    /// Runs the job; `rsa_pkcs8` is the key WebCrypto made for an RSA job.
    pub fn run_with(&self, rsa_pkcs8: Option<&[u8]>) -> GenerateOutcome {
        match self.make(rsa_pkcs8) {
            Ok((certificate_pem, private_key_pem)) => GenerateOutcome::Made {
                id: self.id,
                certificate_pem,
                private_key_pem,
            },
            Err(error) => GenerateOutcome::Failed {
                id: self.id,
                message: error.to_string(),
            },
        }
    }

    fn make(&self, rsa_pkcs8: Option<&[u8]>) -> marshal_shared::Result<(String, String)> {
        let (certificate, key) = self.credentials(&self.common_name, rsa_pkcs8)?;
        Ok((certificate.to_pem(), key.to_pkcs8_pem().to_string()))
    }

    /// The key and certificate for `common_name` with this job's settings
    /// (a batch runs one job for many names).
    pub fn credentials(
        &self,
        common_name: &str,
        rsa_pkcs8: Option<&[u8]>,
    ) -> marshal_shared::Result<(Certificate, PrivateKey)> {
        let key_type: KeyType = self.key_type.parse()?;
        let request = CertificateRequest {
            common_name: common_name.to_owned(),
            organization: self.organization.clone(),
            organizational_unit: self.organizational_unit.clone(),
            country: self.country.clone(),
            validity_days: self.validity_days,
        };
        let now = now_from_unix_ms(self.now_unix_ms)?;
        let Some(bits) = key_type.rsa_bits() else {
            let made = marshal_shared::generate_ec(key_type, &request, now)?;
            return Ok((made.certificate, made.private_key));
        };
        let der = rsa_pkcs8.ok_or_else(|| {
            marshal_shared::Error::InvalidRequest(
                "RSA keys come from the browser's WebCrypto, and none came with the job".to_owned(),
            )
        })?;
        let key = PrivateKey::from_pkcs8_der(der)?;
        if !matches!(key.algorithm(), KeyAlgorithm::Rsa { bits: b } if *b as usize == bits) {
            return Err(marshal_shared::Error::InvalidRequest(format!(
                "the browser made a {} key for an RSA-{bits} job",
                key.algorithm()
            )));
        }
        let certificate = marshal_shared::self_signed(&key, &request, now)?;
        Ok((certificate, key))
    }
}

/// `Date.now()` → a UTC time, whole seconds.
pub fn now_from_unix_ms(ms: f64) -> marshal_shared::Result<OffsetDateTime> {
    // `as` saturates; the range check below refuses nonsense.
    let secs = (ms / 1000.0).floor() as i64;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
        // Seconds, not the f64: formatting floats would add ~6 KB to the page.
        marshal_shared::Error::InvalidRequest(format!(
            "the page's clock reads {secs} s since 1970, not a usable time"
        ))
    })
}

/// JSON in, JSON out: the worker's single-job interface. `rsa_pkcs8`:
/// the key WebCrypto made, for RSA jobs.
pub fn run_json(job_json: &str, rsa_pkcs8: Option<&[u8]>) -> String {
    let outcome = match serde_json::from_str::<GenerateJob>(job_json) {
        Ok(job) => job.run_with(rsa_pkcs8),
        Err(error) => GenerateOutcome::Failed {
            id: 0,
            message: format!("the page sent the worker a job it cannot read: {error}"),
        },
    };
    // Serialising strings and numbers cannot fail; the fallback keeps the
    // worker answering even so.
    serde_json::to_string(&outcome)
        .unwrap_or_else(|_| r#"{"outcome":"failed","id":0,"message":"internal error"}"#.to_owned())
}

// Native only: the browser tests are in `browser_tests`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn job(key_type: &str) -> GenerateJob {
        GenerateJob {
            id: 7,
            key_type: key_type.to_owned(),
            common_name: "sensor-01".to_owned(),
            organization: Some("ACME".to_owned()),
            organizational_unit: None,
            country: Some("JP".to_owned()),
            validity_days: 365,
            now_unix_ms: 1_764_374_400_000.0,
        }
    }

    #[test]
    fn p256_job_makes_a_matching_key_and_certificate() {
        let GenerateOutcome::Made {
            id,
            certificate_pem,
            private_key_pem,
        } = job("ec-p256").run()
        else {
            panic!("P-256 generation failed");
        };
        assert_eq!(id, 7);
        let cert = marshal_shared::Certificate::from_pem(&certificate_pem).unwrap();
        assert_eq!(cert.common_name().as_deref(), Some("sensor-01"));
        let key = marshal_shared::PrivateKey::from_pem(&private_key_pem, "").unwrap();
        key.check_matches(&cert).unwrap();
        // PKCS#8 in PEM, as the device kit ships it.
        let blocks = marshal_shared::pem::parse_blocks(&private_key_pem).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PRIVATE KEY");
        let (not_before, _) = cert.validity();
        assert_eq!(not_before.unix_timestamp(), 1_764_374_400);
    }

    #[test]
    fn bad_jobs_fail_with_words_not_panics() {
        let mut bad = job("ec-p256");
        bad.country = Some("Japan".to_owned());
        assert!(matches!(bad.run(), GenerateOutcome::Failed { id: 7, .. }));
        assert!(matches!(
            job("dsa-1024").run(),
            GenerateOutcome::Failed { .. }
        ));
        let answer: GenerateOutcome = serde_json::from_str(&run_json("{not json", None)).unwrap();
        assert!(matches!(answer, GenerateOutcome::Failed { id: 0, .. }));
    }

    #[test]
    fn rsa_jobs_sign_with_the_key_they_bring() {
        let pkcs8 = marshal_shared::generate_rsa_pkcs8(2048).unwrap();
        let GenerateOutcome::Made {
            certificate_pem,
            private_key_pem,
            ..
        } = job("rsa-2048").run_with(Some(&pkcs8))
        else {
            panic!("RSA generation failed");
        };
        let cert = marshal_shared::Certificate::from_pem(&certificate_pem).unwrap();
        let key = marshal_shared::PrivateKey::from_pem(&private_key_pem, "").unwrap();
        key.check_matches(&cert).unwrap();
        assert_eq!(key.pkcs8_der(), pkcs8.as_slice());
        // No key, or a key of the wrong size: refused in words.
        let GenerateOutcome::Failed { message, .. } = job("rsa-2048").run() else {
            panic!("an RSA job without a key was accepted");
        };
        assert!(message.contains("WebCrypto"), "{message}");
        let GenerateOutcome::Failed { message, .. } = job("rsa-3072").run_with(Some(&pkcs8)) else {
            panic!("a 2048-bit key was accepted for RSA-3072");
        };
        assert!(message.contains("RSA-3072"), "{message}");
    }

    #[test]
    fn outcome_round_trips_through_json() {
        let outcome = run_json(&serde_json::to_string(&job("ec-p384")).unwrap(), None);
        let parsed: GenerateOutcome = serde_json::from_str(&outcome).unwrap();
        assert!(matches!(parsed, GenerateOutcome::Made { id: 7, .. }));
    }
}
