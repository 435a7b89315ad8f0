//! Optional AWS Signature Version 4 verification (`--verify-sigv4`, off by default): recomputes
//! the signature of each request, over the body actually received, from the configured access
//! key / secret pairs, with AWS's time window, scope checks and error codes; and signing of the S3 GETs imports
//! make. Keys and signatures come from `aws-sigv4`, percent-encoding from `percent-encoding`; the
//! canonical request is rebuilt here from the headers the client says it signed. Depends only on
//! the AWS error shape.

use std::time::{Duration, SystemTime};

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::wire::error::ApiError;

/// What SigV4 leaves unencoded: the unreserved characters `A-Z a-z 0-9 - _ . ~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A canonical URI path: the unreserved characters and `/`.
pub const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let set = if keep_slash { PATH } else { UNRESERVED };
    utf8_percent_encode(s, set).to_string()
}

fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
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

/// The hex signature of a canonical request, with the signing key derived by `aws-sigv4` for
/// the credential scope's `date` (`YYYYMMDD`); None when the date is malformed.
fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    canonical: &str,
) -> Option<String> {
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let key = generate_signing_key(secret, scope_day(date)?, region, service);
    Some(calculate_signature(key, string_to_sign.as_bytes()))
}

/// Midnight UTC of a credential scope's `YYYYMMDD`.
fn scope_day(date: &str) -> Option<SystemTime> {
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let iso = format!("{}-{}-{}T00:00:00Z", &date[..4], &date[4..6], &date[6..]);
    SystemTime::try_from(DateTime::from_str(&iso, Format::DateTime).ok()?).ok()
}

/// Formats epoch seconds as SigV4's `YYYYMMDDTHHMMSSZ`.
fn amz_date(epoch: u64) -> String {
    let time = DateTime::from(SystemTime::UNIX_EPOCH + Duration::from_secs(epoch));
    time.fmt(Format::DateTime)
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect()
}

/// Who signs an outgoing request, and for which service and region.
pub struct Credential<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub access_key: &'a str,
    pub secret: &'a str,
}

/// Signs an outgoing request (S3 GET and PUT, CloudWatch POST): returns the headers to add
/// (`x-amz-date`, `x-amz-content-sha256`, `authorization`); `host`, the content hash and the
/// date are the signed headers.
pub fn sign_request(
    method: &str,
    host: &str,
    path_and_query: &str,
    body: &[u8],
    key: &Credential<'_>,
) -> Vec<(&'static str, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let amz = amz_date(now);
    let date = amz[..8].to_string();
    let date = date.as_str();
    let payload_hash = hex_sha256(body);
    let headers = vec![
        ("host".to_string(), host.to_string()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
        ("x-amz-date".to_string(), amz.clone()),
    ];
    let canonical = canonical_request(method, path_and_query, &headers, &payload_hash);
    let Credential {
        region,
        service,
        access_key,
        secret,
    } = key;
    let sig = signature(secret, date, region, service, &amz, &canonical).unwrap_or_default();
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

/// What a signature must be scoped to: the server's region and the service's signing name
/// (`signingName` in the service model: `personalize` for all three Personalize APIs).
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// How far X-Amz-Date may be from the server's clock, either way (AWS: 15 minutes).
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Verifies the request's SigV4 signature as AWS does for its JSON APIs: the access key must be
/// known (`UnrecognizedClientException`), the Authorization header complete
/// (`IncompleteSignatureException`), `host` and the date header signed, the date within
/// [`WINDOW`] of `now` and the credential scope's day, region and service right; the payload hash
/// is that of the body received (a differing `x-amz-content-sha256`, or `UNSIGNED-PAYLOAD`, is
/// refused); and the signature must match (`InvalidSignatureException` otherwise).
pub fn verify(
    credentials: &[(String, String)],
    scope: &Scope<'_>,
    now: SystemTime,
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
        ApiError::IncompleteSignature(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' \
             parameters (AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request)"
                .into(),
        )
    })?;
    let secret = credentials
        .iter()
        .find(|(key, _)| key == auth.access_key)
        .map(|(_, secret)| secret)
        .ok_or_else(|| {
            ApiError::UnrecognizedClient(
                "The security token included in the request is invalid.".into(),
            )
        })?;
    let (date_header, amz_date) = request_date(headers)?;
    if !auth.signed_headers.contains(&"host") {
        return Err(ApiError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    if !auth.signed_headers.contains(&date_header) {
        return Err(ApiError::InvalidSignature(format!(
            "'{date_header}' must be a 'SignedHeader' in the AWS Authorization."
        )));
    }
    check_window(&amz_date, now)?;
    if auth.date != &amz_date[..8] {
        return Err(ApiError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        )));
    }
    if auth.region != scope.region {
        return Err(ApiError::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'. Expected '{}'.",
            auth.region, scope.region
        )));
    }
    if auth.service != scope.service {
        return Err(ApiError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{}'. ",
            scope.service
        )));
    }
    let payload_hash = hex_sha256(body);
    if let Some(declared) = headers
        .get("x-amz-content-sha256")
        .map(|v| v.to_str().unwrap_or_default())
    {
        if declared == "UNSIGNED-PAYLOAD" {
            return Err(ApiError::InvalidSignature(
                "UNSIGNED-PAYLOAD is not accepted by this service: sign the request body".into(),
            ));
        }
        if declared != payload_hash {
            return Err(ApiError::InvalidSignature(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ));
        }
    }
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
    let canonical = canonical_request(method, path_and_query, &signed, &payload_hash);
    let expected = signature(
        secret,
        auth.date,
        auth.region,
        auth.service,
        &amz_date,
        &canonical,
    );
    if expected.as_deref() != Some(auth.signature) {
        return Err(ApiError::InvalidSignature(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method."
                .into(),
        ));
    }
    Ok(())
}

/// The request's date: which header carries it (`x-amz-date`, else `date`) and its value as
/// SigV4's `YYYYMMDDTHHMMSSZ`.
fn request_date(headers: &HeaderMap) -> Result<(&'static str, String), ApiError> {
    let missing = || {
        ApiError::IncompleteSignature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    };
    if let Some(value) = headers.get("x-amz-date") {
        let value = value.to_str().map_err(|_| missing())?;
        parse_amz_date(value).ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{value}'."
            ))
        })?;
        return Ok(("x-amz-date", value.to_string()));
    }
    let value = headers
        .get("date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let time = DateTime::from_str(value, Format::HttpDate).map_err(|_| {
        ApiError::IncompleteSignature(format!("Date header is not an HTTP date: '{value}'."))
    })?;
    Ok(("date", amz_date(u64::try_from(time.secs()).unwrap_or(0))))
}

/// Seconds since the epoch of a `YYYYMMDDTHHMMSSZ` date.
fn parse_amz_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &value[..4],
        &value[4..6],
        &value[6..8],
        &value[9..11],
        &value[11..13],
        &value[13..15]
    );
    DateTime::from_str(&iso, Format::DateTime)
        .ok()
        .map(|t| t.secs())
}

/// AWS's 15-minute window, with its messages for a date too old or too new.
fn check_window(amz: &str, now: SystemTime) -> Result<(), ApiError> {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let signed = u64::try_from(parse_amz_date(amz).unwrap_or(0)).unwrap_or(0);
    let window = WINDOW.as_secs();
    if signed + window < now {
        return Err(ApiError::InvalidSignature(format!(
            "Signature expired: {amz} is now earlier than {} ({} - 15 min.)",
            amz_date(now - window),
            amz_date(now)
        )));
    }
    if signed > now + window {
        return Err(ApiError::InvalidSignature(format!(
            "Signature not yet current: {amz} is still later than {} ({} + 15 min.)",
            amz_date(now + window),
            amz_date(now)
        )));
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
    fn the_window_is_fifteen_minutes_either_way() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |secs: u64| amz_date(secs);
        assert!(check_window(&at(1_700_000_000 - 900), now).is_ok());
        assert!(check_window(&at(1_700_000_000 + 900), now).is_ok());
        let old = check_window(&at(1_700_000_000 - 901), now).expect_err("too old");
        assert_eq!(old.code(), "InvalidSignatureException");
        assert!(old.to_string().starts_with("Signature expired: 20231114T215819Z is now earlier than 20231114T215820Z (20231114T221320Z - 15 min.)"), "{old}");
        let new = check_window(&at(1_700_000_000 + 901), now).expect_err("too new");
        assert!(
            new.to_string().starts_with("Signature not yet current"),
            "{new}"
        );
        assert_eq!(parse_amz_date("20231114T221320Z"), Some(1_700_000_000));
        assert_eq!(parse_amz_date("2023-11-14T22:13:20Z"), None);
    }

    #[test]
    fn missing_authorization_is_rejected() {
        let scope = Scope {
            region: "us-east-1",
            service: "personalize",
        };
        let err = verify(
            &[],
            &scope,
            SystemTime::now(),
            "POST",
            "/",
            &HeaderMap::new(),
            b"{}",
        )
        .expect_err("no header");
        assert_eq!(err.code(), "MissingAuthenticationTokenException");
    }
}
