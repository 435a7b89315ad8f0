//! Reading import data from an S3-compatible endpoint (moto in tests): path-style
//! `GET /<bucket>/<key>` for one object, else `ListObjectsV2` under the prefix and every `.csv`
//! object found. Requests are SigV4-signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
//! (default `test`), path-style.
//! Depends on hyper and the wire layer's SigV4 signing only.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use percent_encoding::utf8_percent_encode;

use crate::wire::sigv4::{PATH, sign_get};

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

/// Percent-encodes an object key for a path-style URL (`/` kept).
fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, PATH).to_string()
}

async fn get(client: &HttpClient, region: &str, url: &str) -> Result<(u16, Vec<u8>), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad S3 URL {url}: {e}"))?;
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
    let mut request = hyper::Request::get(uri);
    request = request.header("host", &host);
    for (name, value) in sign_get(&host, &path, region, "s3", &access_key, &secret) {
        request = request.header(name, value);
    }
    let request = request
        .body(Empty::new())
        .map_err(|e| format!("building S3 request {url}: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("S3 request {url} failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading S3 response {url}: {e}"))?
        .to_bytes()
        .to_vec();
    Ok((status, body))
}

/// Every `<tag>value</tag>` in a small XML document.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(
            after[..end]
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'"),
        );
        rest = &after[end + close.len()..];
    }
    out
}

/// Fetches the object `key`, or every `.csv` object under prefix `key`.
pub async fn fetch(
    endpoint: &str,
    region: &str,
    bucket: &str,
    key: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let base = endpoint.trim_end_matches('/');
    if !key.is_empty() && !key.ends_with('/') {
        let (status, body) = get(
            &client,
            region,
            &format!("{base}/{bucket}/{}", encode_key(key)),
        )
        .await?;
        if status == 200 {
            return Ok(vec![(key.to_string(), body)]);
        }
        if status != 404 {
            return Err(format!(
                "S3 GetObject s3://{bucket}/{key} failed with HTTP {status}"
            ));
        }
    }
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{base}/{bucket}?list-type=2&prefix={}", encode_key(key));
        if let Some(t) = &token {
            url.push_str(&format!("&continuation-token={}", encode_key(t)));
        }
        let (status, body) = get(&client, region, &url).await?;
        if status != 200 {
            return Err(format!(
                "Input data not found at s3://{bucket}/{key} (ListObjectsV2: HTTP {status})"
            ));
        }
        let xml = String::from_utf8_lossy(&body);
        keys.extend(
            xml_values(&xml, "Key")
                .into_iter()
                .filter(|k| k.to_ascii_lowercase().ends_with(".csv")),
        );
        let truncated = xml_values(&xml, "IsTruncated").first().map(String::as_str) == Some("true");
        token = xml_values(&xml, "NextContinuationToken").into_iter().next();
        if !truncated || token.is_none() {
            break;
        }
    }
    if keys.is_empty() {
        return Err(format!("Input data not found at s3://{bucket}/{key}"));
    }
    keys.sort();
    let mut files = Vec::new();
    for k in keys {
        let (status, body) = get(
            &client,
            region,
            &format!("{base}/{bucket}/{}", encode_key(&k)),
        )
        .await?;
        if status != 200 {
            return Err(format!(
                "S3 GetObject s3://{bucket}/{k} failed with HTTP {status}"
            ));
        }
        files.push((k, body));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_keys_from_a_listing() {
        let xml = "<ListBucketResult><Contents><Key>a/1.csv</Key></Contents>\
                   <Contents><Key>a/b&amp;c.csv</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(xml_values(xml, "Key"), vec!["a/1.csv", "a/b&c.csv"]);
        assert_eq!(xml_values(xml, "IsTruncated"), vec!["false"]);
    }
}
