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
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// The canonical request; `headers` are the signed (lowercase name, value) pairs, sorted.
fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> String {
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
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    )
}

/// The hex signature of a canonical request.
fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    canonical: &str,
) -> String {
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex(&hmac(&k_signing, string_to_sign.as_bytes()))
}

/// Formats epoch seconds as SigV4's `YYYYMMDDTHHMMSSZ`.
fn amz_date(epoch: u64) -> String {
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Signs an outgoing request with an empty body (used for S3 GETs): returns the headers to add
/// (`x-amz-date`, `x-amz-content-sha256`, `authorization`).
pub fn sign_get(
    host: &str,
    path_and_query: &str,
    region: &str,
    service: &str,
    access_key: &str,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let amz = amz_date(now);
    let date = amz[..8].to_string();
    let date = date.as_str();
    let payload_hash = hex(&Sha256::digest(b""));
    let headers = vec![
        ("host".to_string(), host.to_string()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
        ("x-amz-date".to_string(), amz.clone()),
    ];
    let canonical = canonical_request("GET", path_and_query, &headers, &payload_hash);
    let sig = signature(secret, date, region, service, &amz, &canonical);
    vec![
        ("x-amz-date", amz),
        ("x-amz-content-sha256", payload_hash),
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={access_key}/{date}/{region}/{service}/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"
            ),
        ),
    ]
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
    let auth = parse_authorization(authorization)
        .ok_or_else(|| ApiError::InvalidSignature("Malformed Authorization header".into()))?;
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
    let signed: Vec<(String, String)> = auth
        .signed_headers
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            (name.to_string(), values.join(","))
        })
        .collect();
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex(&Sha256::digest(body)));
    let canonical = canonical_request(method, path_and_query, &signed, &payload_hash);
    let expected = signature(
        secret,
        auth.date,
        auth.region,
        auth.service,
        amz_date,
        &canonical,
    );
    if expected != auth.signature {
        return Err(ApiError::InvalidSignature(
            "The request signature we calculated does not match the signature you provided".into(),
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
    fn formats_amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_700_000_000), "20231114T221320Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn missing_authorization_is_rejected() {
        let config = Config::default();
        let err = verify(&config, "POST", "/", &HeaderMap::new(), b"{}").expect_err("no header");
        assert_eq!(err.code(), "MissingAuthenticationTokenException");
    }
}
