//! Optional AWS Signature Version 4 verification (`--verify-sigv4`, off by default): recomputes
//! the signature of each request from the configured access key / secret pairs and rejects
//! mismatches with `InvalidSignatureException` (HTTP 403).

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Config;
use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Authorization<'a> {
    access_key: &'a str,
    scope: String,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential?;
    let mut pieces = credential.split('/');
    let access_key = pieces.next()?;
    let date = pieces.next()?;
    let region = pieces.next()?;
    let service = pieces.next()?;
    let terminator = pieces.next()?;
    if terminator != "aws4_request" {
        return None;
    }
    Some(Authorization {
        access_key,
        scope: format!("{date}/{region}/{service}/aws4_request"),
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// Verifies the request's SigV4 signature.
pub fn verify(
    config: &Config,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::MissingAuthenticationToken("Missing Authentication Token".into())
        })?;
    let auth = parse_authorization(authorization).ok_or_else(|| {
        ApiError::InvalidSignature("Malformed Authorization header".into())
    })?;
    let secret = config
        .credentials
        .iter()
        .find(|(key, _)| key == auth.access_key)
        .map(|(_, secret)| secret)
        .ok_or_else(|| {
            ApiError::InvalidSignature(format!(
                "The security token included in the request is invalid (access key {})",
                auth.access_key
            ))
        })?;
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::InvalidSignature("Missing X-Amz-Date header".into()))?;
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let canonical_uri = uri_encode(&percent_decode(path), true);
    let mut query_pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    query_pairs.sort();
    let canonical_query = query_pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex(&Sha256::digest(body)));
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        auth.signed_headers.join(";")
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        auth.scope,
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    let k_region = hmac(&k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let expected = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    if expected != auth.signature {
        return Err(ApiError::InvalidSignature(
            "The request signature we calculated does not match the signature you provided"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_authorization_header() {
        let auth = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/personalize/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .expect("valid header");
        assert_eq!(auth.access_key, "AKID");
        assert_eq!(auth.service, "personalize");
        assert_eq!(auth.signed_headers, vec!["host", "x-amz-date"]);
        assert!(parse_authorization("Basic xyz").is_none());
    }

    #[test]
    fn missing_authorization_is_rejected() {
        let config = Config::default();
        let err = verify(&config, "POST", "/", &HeaderMap::new(), b"{}").expect_err("no header");
        assert_eq!(err.code(), "MissingAuthenticationTokenException");
    }
}
