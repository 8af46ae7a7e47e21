//! Where the verifier gets the issuer's key set: over HTTP(S) from the
//! `jwks_uri` of the issuer's OpenID discovery document, or from a
//! configured JWKS URL. A port, so tests can count and stage fetches.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Gives the issuer's current key set (the JWKS JSON text).
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    /// Fetches the key set; the error says why in words.
    async fn fetch(&self) -> Result<String, String>;
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The key set of `issuer`, found by discovery unless `jwks_url` is given.
pub struct HttpKeySource {
    issuer: String,
    jwks_url: Option<String>,
    discovered: tokio::sync::Mutex<Option<String>>,
    client: HttpsClient,
}

impl HttpKeySource {
    /// An HTTP(S) key source; fails only when the system's root
    /// certificates cannot be loaded.
    pub fn new(issuer: &str, jwks_url: Option<&str>) -> Result<HttpKeySource, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("the system's root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpKeySource {
            issuer: issuer.trim_end_matches('/').to_owned(),
            jwks_url: jwks_url.map(str::to_owned),
            discovered: tokio::sync::Mutex::new(None),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn get(&self, url: &str) -> Result<String, String> {
        let request = Request::get(url)
            .header("accept", "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("{url}: {e}"))?;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if response.status() != StatusCode::OK {
                return Err(format!("{url} answered HTTP {}", response.status()));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| format!("{url}: {e}"))?
                .to_bytes();
            String::from_utf8(body.to_vec()).map_err(|_| format!("{url}: not UTF-8"))
        };
        tokio::time::timeout(FETCH_TIMEOUT, work)
            .await
            .map_err(|_| format!("{url}: no answer within {} s", FETCH_TIMEOUT.as_secs()))?
    }

    /// The `jwks_uri` of the discovery document, whose `issuer` must be ours
    /// (OpenID Connect Discovery 1.0, section 4.3).
    async fn discover(&self) -> Result<String, String> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let doc: Value = serde_json::from_str(&self.get(&url).await?)
            .map_err(|e| format!("{url}: not JSON: {e}"))?;
        let issuer = doc
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if issuer.trim_end_matches('/') != self.issuer {
            return Err(format!(
                "{url} names another issuer ({issuer:?}); check jwt.issuer"
            ));
        }
        doc.get("jwks_uri")
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_owned)
            .ok_or_else(|| format!("{url} has no http(s) jwks_uri"))
    }
}

impl std::fmt::Debug for HttpKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpKeySource")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .finish()
    }
}

#[async_trait::async_trait]
impl KeySource for HttpKeySource {
    async fn fetch(&self) -> Result<String, String> {
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let mut discovered = self.discovered.lock().await;
                match &*discovered {
                    Some(url) => url.clone(),
                    None => {
                        let url = self.discover().await?;
                        *discovered = Some(url.clone());
                        url
                    }
                }
            }
        };
        self.get(&url).await
    }
}
