//! Reads the Prometheus text a gateway serves on `/metrics`: the per-arm counts a rollout's
//! analysis judges (see `reconcile::rollout::arm_counts`). Behind a trait so the kinds' scenario
//! tests set the text by hand.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one read may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The most text read from one URL.
const MAX_BYTES: usize = 4 << 20;

/// Reads a metrics URL.
#[async_trait]
pub trait Scrape: Send + Sync {
    /// The body of `GET url`, or why not.
    async fn get(&self, url: &str) -> Result<String, String>;
}

/// Plain HTTP (`http://` URLs; the CRD refuses others).
pub struct Http(Client<HttpConnector, Empty<Bytes>>);

impl Default for Http {
    fn default() -> Self {
        Self(Client::builder(TokioExecutor::new()).build_http())
    }
}

#[async_trait]
impl Scrape for Http {
    async fn get(&self, url: &str) -> Result<String, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let read = async {
            let response = self.0.get(uri).await.map_err(|e| format!("{url}: {e}"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("{url}: HTTP {status}"));
            }
            let body = http_body_util::Limited::new(response.into_body(), MAX_BYTES);
            let bytes = body.collect().await.map_err(|e| format!("{url}: {e}"))?;
            String::from_utf8(bytes.to_bytes().to_vec()).map_err(|e| format!("{url}: {e}"))
        };
        tokio::time::timeout(TIMEOUT, read)
            .await
            .map_err(|_| format!("{url}: no answer within {TIMEOUT:?}"))?
    }
}

/// Fixed text per URL (tests); an unknown URL does not answer.
#[derive(Default)]
pub struct Fixed(Mutex<HashMap<String, String>>);

impl Fixed {
    /// Serves `text` at `url` from now on.
    pub fn set(&self, url: &str, text: &str) {
        let mut texts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        texts.insert(url.to_owned(), text.to_owned());
    }
}

#[async_trait]
impl Scrape for Fixed {
    async fn get(&self, url: &str) -> Result<String, String> {
        let texts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        texts
            .get(url)
            .cloned()
            .ok_or_else(|| format!("{url}: connection refused"))
    }
}
