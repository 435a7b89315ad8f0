//! `--verify-sigv4`, one test per case: requests signed by AWS's own signer (`aws-sigv4`) and by
//! the SDK clients pass; each way a signature can fail to cover the request (a swapped body, an
//! unsigned or foreign payload hash, a date outside AWS's 15 minutes, a scope naming another
//! region or service, host or date left unsigned, an unknown key) is refused with AWS's code.

use std::time::{Duration, SystemTime};

use aws_sdk_personalize::config::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, Request, Response};
use personalize_local::{AppState, Config, Running, app, open};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::support::*;

const KEY: &str = "AKIDLOCALTEST";
const SECRET: &str = "local-test-secret";
const CREATE: &str = "AmazonPersonalize.CreateDatasetGroup";
const MINUTE: Duration = Duration::from_secs(60);

fn server_config() -> Config {
    Config {
        verify_sigv4: true,
        credentials: vec![(KEY.into(), SECRET.into())],
        ..Config::for_tests(None)
    }
}

/// What to sign: the defaults are a correct CreateDatasetGroup for us-east-1/personalize now.
struct Signing {
    path: &'static str,
    target: Option<&'static str>,
    body: String,
    key: &'static str,
    region: &'static str,
    service: &'static str,
    time: SystemTime,
    content_sha256: bool,
}

impl Default for Signing {
    fn default() -> Self {
        Signing {
            path: "/",
            target: Some(CREATE),
            body: r#"{"name": "signed"}"#.into(),
            key: KEY,
            region: "us-east-1",
            service: "personalize",
            time: SystemTime::now(),
            content_sha256: false,
        }
    }
}

/// The request `s` describes, signed with `aws-sigv4` (AWS's signer, as the SDKs use it).
fn signed(s: &Signing) -> Request<Body> {
    let mut request = Request::post(s.path)
        .header("host", "localhost")
        .header("content-type", "application/x-amz-json-1.1");
    if let Some(target) = s.target {
        request = request.header("x-amz-target", target);
    }
    let mut request = request.body(Body::from(s.body.clone())).expect("request");
    let identity = Credentials::new(s.key, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    if s.content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(s.time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        format!("http://localhost{}", s.path),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(s.body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

/// (status, error code or "", message or body).
async fn send(state: &AppState, request: Request<Body>) -> (u16, String, String) {
    let response: Response<Body> = app(state.clone()).oneshot(request).await.expect("call");
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let body = String::from_utf8_lossy(&body).into_owned();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or(body);
    (status, code, message)
}

fn state() -> AppState {
    open(server_config()).expect("state")
}

async fn accepted(request: Request<Body>) {
    let (status, code, message) = send(&state(), request).await;
    assert_eq!((status, code.as_str()), (200, ""), "{message}");
}

async fn refused(request: Request<Body>, code: &str, says: &str) {
    let state = state();
    let (status, got, message) = send(&state, request).await;
    assert_eq!((status, got.as_str()), (403, code), "{message}");
    assert!(message.contains(says), "{message:?} should say {says:?}");
    assert!(
        state.lock().dataset_groups.is_empty(),
        "a refused request changed nothing"
    );
}

fn header(request: &Request<Body>, name: &str) -> String {
    request.headers()[name]
        .to_str()
        .expect("ascii header")
        .to_string()
}

fn set(request: &mut Request<Body>, name: &'static str, value: &str) {
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(value).expect("header value"));
}

fn hex_sha256(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed request `s`, its body then replaced by `body` (what an attacker who captured it
/// would send).
fn with_body(s: &Signing, body: &str) -> Request<Body> {
    let (parts, _) = signed(s).into_parts();
    let mut request = Request::from_parts(parts, Body::from(body.to_string()));
    set(&mut request, "content-length", &body.len().to_string());
    request
}

// --- accepted ---

#[tokio::test]
async fn a_request_signed_by_aws_sigv4_passes() {
    accepted(signed(&Signing::default())).await;
}

#[tokio::test]
async fn a_signed_matching_content_sha256_header_passes() {
    accepted(signed(&Signing {
        content_sha256: true,
        ..Signing::default()
    }))
    .await;
}

#[tokio::test]
async fn a_date_14_minutes_old_passes() {
    accepted(signed(&Signing {
        time: SystemTime::now() - 14 * MINUTE,
        ..Signing::default()
    }))
    .await;
}

#[tokio::test]
async fn a_date_14_minutes_ahead_passes() {
    accepted(signed(&Signing {
        time: SystemTime::now() + 14 * MINUTE,
        ..Signing::default()
    }))
    .await;
}

#[tokio::test]
async fn events_and_runtime_sign_as_personalize() {
    // Both models' signingName is `personalize`: an unknown tracking id / campaign is then the
    // operation's own error, which proves the signature passed.
    let state = state();
    let events = signed(&Signing {
        path: "/events",
        target: None,
        body: r#"{"trackingId": "t", "sessionId": "s", "eventList": [{"eventType": "click", "sentAt": 1}]}"#.into(),
        ..Signing::default()
    });
    let (status, code, message) = send(&state, events).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "InvalidInputException"),
        "{message}"
    );
    let runtime = signed(&Signing {
        path: "/recommendations",
        target: None,
        body: r#"{"campaignArn": "arn:aws:personalize:us-east-1:000000000000:campaign/none", "userId": "u"}"#.into(),
        ..Signing::default()
    });
    let (status, code, message) = send(&state, runtime).await;
    assert_eq!(
        (status, code.as_str()),
        (404, "ResourceNotFoundException"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_three_sdk_clients_pass() {
    let server = Running::start(server_config())
        .await
        .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;
    cp.create_dataset_group()
        .name("sdk-signed")
        .send()
        .await
        .expect("control plane");
    let event = aws_sdk_personalizeevents::types::Event::builder()
        .event_type("click")
        .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
            1,
        ))
        .build()
        .expect("event");
    let err = events
        .put_events()
        .tracking_id("unknown")
        .session_id("s")
        .event_list(event)
        .send()
        .await
        .expect_err("unknown tracker");
    assert_eq!(
        aws_sdk_personalizeevents::error::ProvideErrorMetadata::code(&err),
        Some("InvalidInputException")
    );
    let err = rt
        .get_recommendations()
        .campaign_arn("arn:aws:personalize:us-east-1:000000000000:campaign/none")
        .user_id("u")
        .send()
        .await
        .expect_err("unknown campaign");
    assert_eq!(
        aws_sdk_personalizeruntime::error::ProvideErrorMetadata::code(&err),
        Some("ResourceNotFoundException")
    );
    server.stop().await.expect("stops");
}

// --- refused: the body ---

#[tokio::test]
async fn a_swapped_body_with_the_old_hash_in_an_unsigned_header_is_refused() {
    let original = Signing::default();
    let mut forged = with_body(&original, r#"{"name": "forged"}"#);
    set(
        &mut forged,
        "x-amz-content-sha256",
        &hex_sha256(&original.body),
    );
    refused(
        forged,
        "InvalidSignatureException",
        "'x-amz-content-sha256' header does not match",
    )
    .await;
}

#[tokio::test]
async fn a_swapped_body_is_refused() {
    let forged = with_body(&Signing::default(), r#"{"name": "forged"}"#);
    refused(
        forged,
        "InvalidSignatureException",
        "does not match the signature",
    )
    .await;
}

#[tokio::test]
async fn a_swapped_body_under_a_signed_content_sha256_is_refused() {
    let s = Signing {
        content_sha256: true,
        ..Signing::default()
    };
    let forged = with_body(&s, r#"{"name": "forged"}"#);
    refused(
        forged,
        "InvalidSignatureException",
        "'x-amz-content-sha256' header does not match",
    )
    .await;
}

#[tokio::test]
async fn unsigned_payload_is_refused() {
    let mut request = signed(&Signing::default());
    set(&mut request, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    refused(request, "InvalidSignatureException", "UNSIGNED-PAYLOAD").await;
}

// --- refused: the date ---

#[tokio::test]
async fn a_date_20_minutes_old_is_refused() {
    let request = signed(&Signing {
        time: SystemTime::now() - 20 * MINUTE,
        ..Signing::default()
    });
    refused(request, "InvalidSignatureException", "Signature expired").await;
}

#[tokio::test]
async fn a_date_20_minutes_ahead_is_refused() {
    let request = signed(&Signing {
        time: SystemTime::now() + 20 * MINUTE,
        ..Signing::default()
    });
    refused(
        request,
        "InvalidSignatureException",
        "Signature not yet current",
    )
    .await;
}

#[tokio::test]
async fn a_date_one_day_old_is_refused() {
    let request = signed(&Signing {
        time: SystemTime::now() - 24 * 60 * MINUTE,
        ..Signing::default()
    });
    refused(request, "InvalidSignatureException", "Signature expired").await;
}

#[tokio::test]
async fn a_scope_day_other_than_the_date_is_refused() {
    let mut request = signed(&Signing::default());
    let authorization = header(&request, "authorization");
    let day = &header(&request, "x-amz-date")[..8];
    set(
        &mut request,
        "authorization",
        &authorization.replacen(&format!("/{day}/"), "/20200101/", 1),
    );
    refused(
        request,
        "InvalidSignatureException",
        "Date in Credential scope",
    )
    .await;
}

#[tokio::test]
async fn a_missing_date_header_is_refused() {
    let mut request = signed(&Signing::default());
    request.headers_mut().remove("x-amz-date");
    refused(
        request,
        "IncompleteSignatureException",
        "'X-Amz-Date' or a 'Date'",
    )
    .await;
}

// --- refused: the scope ---

#[tokio::test]
async fn a_signature_for_another_region_is_refused() {
    let request = signed(&Signing {
        region: "us-west-2",
        ..Signing::default()
    });
    refused(
        request,
        "InvalidSignatureException",
        "scoped to a valid region",
    )
    .await;
}

#[tokio::test]
async fn a_signature_for_another_service_is_refused() {
    let request = signed(&Signing {
        service: "dynamodb",
        ..Signing::default()
    });
    refused(
        request,
        "InvalidSignatureException",
        "scoped to correct service",
    )
    .await;
}

#[tokio::test]
async fn events_signed_for_the_endpoint_name_rather_than_the_signing_name_are_refused() {
    let request = signed(&Signing {
        path: "/events",
        target: None,
        service: "personalize-events",
        body: r#"{"trackingId": "t", "sessionId": "s", "eventList": [{"eventType": "click", "sentAt": 1}]}"#.into(),
        ..Signing::default()
    });
    refused(request, "InvalidSignatureException", "'personalize'").await;
}

// --- refused: what is signed ---

fn without_signed(request: &mut Request<Body>, name: &str) {
    let authorization = header(request, "authorization");
    let (before, after) = authorization
        .split_once("SignedHeaders=")
        .expect("SignedHeaders");
    let (list, rest) = after.split_once(',').expect("Signature follows");
    let kept: Vec<&str> = list.split(';').filter(|h| *h != name).collect();
    set(
        request,
        "authorization",
        &format!("{before}SignedHeaders={},{rest}", kept.join(";")),
    );
}

#[tokio::test]
async fn signed_headers_without_host_are_refused() {
    let mut request = signed(&Signing::default());
    without_signed(&mut request, "host");
    refused(request, "InvalidSignatureException", "'Host'").await;
}

#[tokio::test]
async fn signed_headers_without_x_amz_date_are_refused() {
    let mut request = signed(&Signing::default());
    without_signed(&mut request, "x-amz-date");
    refused(
        request,
        "InvalidSignatureException",
        "'x-amz-date' must be a 'SignedHeader'",
    )
    .await;
}

#[tokio::test]
async fn a_changed_signed_header_is_refused() {
    let mut request = signed(&Signing::default());
    set(
        &mut request,
        "x-amz-target",
        "AmazonPersonalize.DeleteDatasetGroup",
    );
    refused(
        request,
        "InvalidSignatureException",
        "does not match the signature",
    )
    .await;
}

// --- refused: who signs ---

#[tokio::test]
async fn an_unknown_access_key_is_unrecognized() {
    let request = signed(&Signing {
        key: "AKIDUNKNOWN",
        ..Signing::default()
    });
    refused(request, "UnrecognizedClientException", "security token").await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused() {
    let mut request = signed(&Signing::default());
    let authorization = header(&request, "authorization");
    let (head, signature) = authorization.rsplit_once("Signature=").expect("signature");
    let flipped: String = signature
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    set(
        &mut request,
        "authorization",
        &format!("{head}Signature={flipped}"),
    );
    refused(
        request,
        "InvalidSignatureException",
        "does not match the signature",
    )
    .await;
}

#[tokio::test]
async fn no_authorization_is_refused() {
    let mut request = signed(&Signing::default());
    request.headers_mut().remove("authorization");
    refused(request, "MissingAuthenticationTokenException", "Missing").await;
}

#[tokio::test]
async fn a_malformed_authorization_is_incomplete() {
    let mut request = signed(&Signing::default());
    set(
        &mut request,
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST",
    );
    refused(request, "IncompleteSignatureException", "Credential").await;
}

// --- listening beyond loopback ---

#[test]
fn the_binary_refuses_a_public_address_without_authentication() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--listen", "0.0.0.0:0", "--in-memory"])
        .env("RUST_LOG", "error")
        .output()
        .expect("run personalize-local");
    assert!(!output.status.success(), "it must not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--allow-unauthenticated-remote") && stderr.contains("--verify-sigv4"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "it never listened");
}
