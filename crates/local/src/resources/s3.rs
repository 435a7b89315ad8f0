//! Reading import and batch-job input from an S3-compatible endpoint (moto in tests): path-style
//! `GET /<bucket>/<key>` for one object, else `ListObjectsV2` under the prefix and every object
//! found that the caller keeps (`.csv` for imports); and writing metric attribution reports and
//! batch-job output there (`PUT /<bucket>/<key>`), signed through `wire::outgoing`.
//! Depends on the wire layer only.

use percent_encoding::utf8_percent_encode;

use crate::wire::outgoing::{Call, Outgoing};
use crate::wire::sigv4::PATH;

/// Percent-encodes an object key for a path-style URL (`/` kept).
fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, PATH).to_string()
}

async fn get(client: &Outgoing, region: &str, url: &str) -> Result<(u16, Vec<u8>), String> {
    client
        .send(Call {
            method: "GET",
            url,
            service: "s3",
            region,
            headers: &[],
            body: Vec::new(),
        })
        .await
        .map_err(|e| format!("S3 {e}"))
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

/// Fetches the object `key`, or every object under prefix `key` whose key `keep` accepts,
/// sorted by key.
pub async fn fetch_where(
    endpoint: &str,
    region: &str,
    bucket: &str,
    key: &str,
    keep: fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let client = Outgoing::default();
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
        keys.extend(xml_values(&xml, "Key").into_iter().filter(|k| keep(k)));
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

/// An object to write.
pub struct NewObject<'a> {
    /// Its bucket.
    pub bucket: &'a str,
    /// Its key in the bucket.
    pub key: &'a str,
    /// Its `Content-Type`.
    pub content_type: &'a str,
    /// Its content.
    pub body: Vec<u8>,
    /// The KMS key to encrypt it under (SSE-KMS), if any.
    pub kms_key: Option<&'a str>,
}

impl<'a> NewObject<'a> {
    /// A CSV object (`text/csv`).
    pub fn csv(bucket: &'a str, key: &'a str, csv: String, kms_key: Option<&'a str>) -> Self {
        NewObject {
            bucket,
            key,
            content_type: "text/csv",
            body: csv.into_bytes(),
            kms_key,
        }
    }
}

/// Writes `object` (PutObject, path-style), encrypted with SSE-KMS under its KMS key when it
/// has one.
pub async fn put(endpoint: &str, region: &str, object: NewObject<'_>) -> Result<(), String> {
    let NewObject {
        bucket,
        key,
        content_type,
        body,
        kms_key,
    } = object;
    let url = format!(
        "{}/{bucket}/{}",
        endpoint.trim_end_matches('/'),
        encode_key(key)
    );
    let mut headers = vec![("content-type", content_type)];
    if let Some(kms_key) = kms_key {
        headers.push(("x-amz-server-side-encryption", "aws:kms"));
        headers.push(("x-amz-server-side-encryption-aws-kms-key-id", kms_key));
    }
    let (status, _) = Outgoing::default()
        .send(Call {
            method: "PUT",
            url: &url,
            service: "s3",
            region,
            headers: &headers,
            body,
        })
        .await
        .map_err(|e| format!("S3 PutObject s3://{bucket}/{key}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "S3 PutObject s3://{bucket}/{key} failed with HTTP {status}"
        ));
    }
    Ok(())
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
