//! Outgoing requests to AWS-compatible endpoints (S3 and CloudWatch; moto in tests): one
//! SigV4-signed HTTP/1 call with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default `test`),
//! answering the status and body. Depends on hyper and SigV4 signing only.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::wire::sigv4::{Credential, sign_request};

/// Longest wait for one call.
const TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP client for [`send`] (keeps connections alive between calls).
#[derive(Clone)]
pub struct Outgoing {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Outgoing {
    fn default() -> Self {
        Outgoing {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

/// One signed call: what it is for (`service`, `region`) and what it sends.
pub struct Call<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// The signing name (`s3`, `monitoring`).
    pub service: &'a str,
    pub region: &'a str,
    /// Headers sent besides `host` and the signature's (not signed).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Vec<u8>,
}

impl Outgoing {
    /// Sends `call` signed; the status and body of the answer, or why there is none.
    pub async fn send(&self, call: Call<'_>) -> Result<(u16, Vec<u8>), String> {
        let url = call.url;
        let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let access_key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "test".into());
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "test".into());
        let credential = Credential {
            region: call.region,
            service: call.service,
            access_key: &access_key,
            secret: &secret,
        };
        let mut request = hyper::Request::builder()
            .method(call.method)
            .uri(uri)
            .header("host", &host);
        for (name, value) in call.headers {
            request = request.header(*name, *value);
        }
        for (name, value) in sign_request(call.method, &host, &path, &call.body, &credential) {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(call.body)))
            .map_err(|e| format!("building the request {} {url}: {e}", call.method))?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("{} {url} timed out", call.method))?
            .map_err(|e| format!("{} {url} failed: {e}", call.method))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer to {} {url}: {e}", call.method))?
            .to_bytes()
            .to_vec();
        Ok((status, body))
    }
}
