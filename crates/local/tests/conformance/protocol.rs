//! Raw-HTTP edge cases through `tower::ServiceExt::oneshot` (no socket): malformed JSON, wrong
//! types, missing members, unknown targets, oversize bodies, REST JSON status codes, health and
//! metrics.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use personalize_local::{Config, app, open};
use tower::ServiceExt;

async fn call(
    state: &personalize_local::AppState,
    path: &str,
    target: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, String, Option<String>) {
    let mut request = Request::post(path).header("content-type", "application/x-amz-json-1.1");
    if let Some(target) = target {
        request = request.header("x-amz-target", target);
    }
    let response = app(state.clone())
        .oneshot(request.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        error_type,
    )
}

fn error_type(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body).expect("json error body")["__type"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn bad_requests_get_the_aws_error_shape() {
    let state = open(Config::for_tests(None)).expect("state");
    let target = Some("AmazonPersonalize.CreateDatasetGroup");

    let (status, body, header) = call(&state, "/", target, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "SerializationException");
    assert_eq!(header.as_deref(), Some("SerializationException"));

    let (status, body, _) = call(&state, "/", target, r#"{"name": 5}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "InvalidInputException");

    let (status, body, _) = call(&state, "/", target, "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "InvalidInputException");
    assert!(body.contains("name"), "{body}");

    let (status, body, _) = call(&state, "/", Some("AmazonPersonalize.Frobnicate"), "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "UnknownOperationException");

    let (status, body, _) = call(&state, "/", None, "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "UnknownOperationException");

    let huge = format!(r#"{{"name": "{}"}}"#, "a".repeat(2 << 20));
    let (status, body, _) = call(&state, "/", target, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_type(&body), "RequestEntityTooLargeException");

    let (status, body, _) = call(&state, "/", target, r#"{"name": "ok-group"}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("dataset-group/ok-group"));

    // REST JSON: modelled status codes and the x-amzn-errortype header.
    let (status, body, header) = call(
        &state,
        "/events",
        None,
        r#"{"trackingId": "x", "sessionId": "s", "eventList": [{"eventType": "click", "sentAt": 1}]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_type(&body), "ResourceNotFoundException");
    assert_eq!(header.as_deref(), Some("ResourceNotFoundException"));
    let (status, body, _) = call(
        &state,
        "/events",
        None,
        r#"{"trackingId": "x", "sessionId": "s", "eventList": []}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "InvalidInputException");
    let (status, body, _) = call(&state, "/recommendations", None, "[1, 2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = call(&state, "/nowhere", None, "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let state = open(Config::for_tests(None)).expect("state");
    let _ = call(
        &state,
        "/",
        Some("AmazonPersonalize.ListDatasetGroups"),
        "{}",
    )
    .await;
    let response = app(state.clone())
        .oneshot(
            Request::get("/health")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let response = app(state.clone())
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let text =
        String::from_utf8_lossy(&to_bytes(response.into_body(), 1 << 20).await.expect("body"))
            .into_owned();
    assert!(
        text.contains(
            r#"personalize_local_requests_total{operation="ListDatasetGroups",outcome="ok"} 1"#
        ),
        "{text}"
    );
}
