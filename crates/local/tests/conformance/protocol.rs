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
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&body), "InvalidInputException");
    assert_eq!(header.as_deref(), Some("InvalidInputException"));
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

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_a_serialization_error() {
    let state = open(Config::for_tests(None)).expect("state");
    for body in ["[]", "[1, 2]", "\"x\"", "null", "42", "true"] {
        for (path, target) in [
            ("/", Some("AmazonPersonalize.ListDatasetGroups")),
            ("/events", None),
            ("/recommendations", None),
        ] {
            let (status, answer, header) = call(&state, path, target, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
            assert_eq!(
                header.as_deref(),
                Some("SerializationException"),
                "{path} {body}"
            );
        }
    }
}

#[tokio::test]
async fn list_errors_are_the_ones_each_list_models() {
    use personalize_local::router::CONTROL_PLANE_OPERATIONS;
    use personalize_local::wire::model::Service;
    let state = open(Config::for_tests(None)).expect("state");
    let model = Service::ControlPlane.model();
    let mut checked = 0;
    for op in CONTROL_PLANE_OPERATIONS
        .iter()
        .filter(|op| op.starts_with("List"))
    {
        let input = model["operations"][op]["input"]["shape"]
            .as_str()
            .expect("input");
        if model["shapes"][input]["members"].get("nextToken").is_none() {
            continue;
        }
        checked += 1;
        let modelled = Service::ControlPlane.errors(op);
        assert!(modelled.contains(&"InvalidNextTokenException"), "{op}");
        let target = format!("AmazonPersonalize.{op}");
        let (status, body, header) =
            call(&state, "/", Some(&target), r#"{"nextToken": "garbage"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{op}: {body}");
        assert_eq!(header.as_deref(), Some("InvalidNextTokenException"), "{op}");
        // A constraint broken: the operation's InvalidInputException, else ValidationException.
        let expected = if modelled.contains(&"InvalidInputException") {
            "InvalidInputException"
        } else {
            "ValidationException"
        };
        for bad in [r#"{"nextToken": "pagé"}"#, r#"{"maxResults": 0}"#] {
            let (_, body, header) = call(&state, "/", Some(&target), bad).await;
            assert_eq!(header.as_deref(), Some(expected), "{op} {bad}: {body}");
        }
    }
    assert!(checked >= 10, "{checked} List operations with a nextToken");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let state = open(Config::for_tests(None)).expect("state");
    let requests = [
        ("/", Some("AmazonPersonalize.ListDatasetGroups"), "{}"),
        ("/", Some("AmazonPersonalize.DescribeSchema"), "{}"),
        ("/", Some("AmazonPersonalize.Frobnicate"), "{}"),
        ("/events", None, "{}"),
        ("/recommendations", None, "[]"),
        ("/nowhere", None, "{}"),
    ];
    let mut seen = std::collections::HashSet::new();
    for (path, target, body) in requests {
        let mut request = Request::post(path);
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        let response = app(state.clone())
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("infallible");
        let id = response
            .headers()
            .get("x-amzn-RequestId")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} {target:?}: no x-amzn-RequestId"))
            .to_string();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12], "{id} is a UUID");
        assert!(
            id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{id}"
        );
        assert!(seen.insert(id), "request ids are unique");
    }
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_400() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = personalize_local::Running::start(Config::for_tests(None))
        .await
        .expect("server starts");
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-amz-json-1.1\r\n\
              x-amz-target: AmazonPersonalize.CreateDatasetGroup\r\ncontent-length: 100\r\n\r\n\
              {\"name\": \"short\"}",
        )
        .await
        .expect("write");
    stream.shutdown().await.expect("half-close");
    let mut answer = String::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_string(&mut answer),
    )
    .await
    .expect("answered in time");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("SerializationException"), "{answer}");
    assert!(server.state.lock().dataset_groups.is_empty());
    server.stop().await.expect("stops");
}

#[tokio::test]
async fn answered_operations_are_recorded_when_asked() {
    let dir = crate::support::temp_dir("record");
    let path = dir.join("record.jsonl");
    let state = open(Config {
        record: Some(path.clone()),
        ..Config::for_tests(None)
    })
    .expect("state");
    let _ = call(
        &state,
        "/",
        Some("AmazonPersonalize.ListDatasetGroups"),
        "{}",
    )
    .await;
    let _ = call(&state, "/recommendations", None, "{}").await;
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .expect("record file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["service"], "personalize");
    assert_eq!(lines[0]["operation"], "ListDatasetGroups");
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["body"]["datasetGroups"].is_array());
    assert_eq!(lines[1]["service"], "personalize-runtime");
    assert_eq!(lines[1]["status"], 400);
    assert_eq!(lines[1]["body"]["__type"], "InvalidInputException");
    let _ = std::fs::remove_dir_all(dir);
}
