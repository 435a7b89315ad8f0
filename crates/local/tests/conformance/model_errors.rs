//! Every operation the server implements, driven from the official models: a minimal input the
//! model accepts (built from its input shape: required members only, values that satisfy each
//! constraint, ARNs of resources that do not exist) passes validation and answers 200 or an
//! error the operation models; `{}`, a non-object and an input breaking a constraint answer an
//! error the operation models or one AWS returns for every operation. Never a 5xx.

use axum::body::{Body, to_bytes};
use axum::http::Request;
use personalize_local::router::CONTROL_PLANE_OPERATIONS;
use personalize_local::wire::model::{SERVICES, Service, validate};
use personalize_local::{AppState, Config, open};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

/// Errors AWS returns for any operation (as `tests/check_responses.py` lists them).
const COMMON: &[&str] = &[
    "AccessDeniedException",
    "IncompleteSignatureException",
    "InternalFailure",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "RequestEntityTooLargeException",
    "SerializationException",
    "ServiceUnavailable",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationException",
];

/// The REST operations the server routes.
const REST_OPERATIONS: &[&str] = &[
    "PutEvents",
    "PutItems",
    "PutUsers",
    "GetRecommendations",
    "GetPersonalizedRanking",
];

/// A value satisfying a string shape's pattern (one sample per model pattern).
fn sample_string(pattern: Option<&str>, enumeration: Option<&Vec<Value>>) -> String {
    if let Some(first) = enumeration.and_then(|e| e.first()).and_then(Value::as_str) {
        return first.to_string();
    }
    let p = pattern.unwrap_or_default();
    if p.contains(":personalize:") {
        "arn:aws:personalize:us-east-1:000000000000:dataset-group/none".into()
    } else if p.contains(":iam::") {
        "arn:aws:iam::123456789012:role/personalize".into()
    } else if p.contains(":kms:") {
        "arn:aws:kms:us-east-1:123456789012:key/k".into()
    } else if p.contains("s3|http") {
        "s3://bucket/key.csv".into()
    } else if p.contains("rate") {
        "rate(1 day)".into()
    } else if p.starts_with("^[A-Za-z_]+$") {
        "INTERACTIONS".into()
    } else {
        "x1".into()
    }
}

/// A minimal value of `shape_name` the model accepts.
fn sample(service: Service, shape_name: &str) -> Value {
    let shape = &service.model()["shapes"][shape_name];
    let min = shape["min"].as_u64().unwrap_or(0) as usize;
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            let mut members = Map::new();
            for name in shape["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                let member = shape["members"][name]["shape"].as_str().unwrap_or_default();
                members.insert(name.to_string(), sample(service, member));
            }
            Value::Object(members)
        }
        "list" => {
            let member = shape["member"]["shape"].as_str().unwrap_or_default();
            Value::Array((0..min).map(|_| sample(service, member)).collect())
        }
        "map" => Value::Object(Map::new()),
        "string" => json!(sample_string(
            shape["pattern"].as_str(),
            shape["enum"].as_array()
        )),
        "integer" | "long" => json!(shape["min"].as_i64().unwrap_or(1).max(1)),
        "float" | "double" => json!(shape["min"].as_f64().unwrap_or(0.0)),
        "boolean" => json!(false),
        "timestamp" => json!(1_700_000_000),
        _ => json!("x"),
    }
}

async fn call(state: &AppState, service: Service, op: &str, body: &str) -> (u16, String) {
    let request = match service {
        Service::ControlPlane => {
            Request::post("/").header("x-amz-target", format!("AmazonPersonalize.{op}"))
        }
        _ => Request::post(
            service.model()["operations"][op]["http"]["requestUri"]
                .as_str()
                .unwrap_or("/"),
        ),
    };
    app_call(
        state,
        request.body(Body::from(body.to_string())).expect("request"),
    )
    .await
}

async fn app_call(state: &AppState, request: Request<Body>) -> (u16, String) {
    let response = personalize_local::app(state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), 1 << 22).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn implemented(service: Service, op: &str) -> bool {
    match service {
        Service::ControlPlane => CONTROL_PLANE_OPERATIONS.contains(&op),
        _ => REST_OPERATIONS.contains(&op),
    }
}

#[tokio::test]
async fn every_operation_answers_only_errors_its_model_lists() {
    let state = open(Config::for_tests(None)).expect("state");
    let mut problems = Vec::new();
    let mut operations = 0;
    for service in SERVICES {
        let ops = service.model()["operations"]
            .as_object()
            .expect("operations");
        for (op, definition) in ops {
            if !implemented(service, op) {
                continue;
            }
            operations += 1;
            let input = definition["input"]["shape"].as_str().unwrap_or_default();
            let minimal = sample(service, input);
            let minimal_body = minimal.to_string();
            if let Err(e) = validate(service, op, minimal_body.as_bytes()) {
                problems.push(format!("{op}: the sample input is not valid: {e}"));
                continue;
            }
            // A constraint broken: the first required string made 2000 characters long (every
            // string shape in these models has a max below that), or an unknown enum value.
            let mut broken = minimal.clone();
            if let Some((_, v)) = broken
                .as_object_mut()
                .and_then(|m| m.iter_mut().find(|(_, v)| v.is_string()))
            {
                *v = json!("é".repeat(2000));
            }
            let modelled = service.errors(op);
            let bodies = [
                ("minimal", minimal_body.clone()),
                ("empty", "{}".to_string()),
                ("array", "[]".to_string()),
                ("broken", broken.to_string()),
            ];
            for (what, body) in bodies {
                let (status, answer) = call(&state, service, op, &body).await;
                if status == 200 {
                    continue;
                }
                let code = serde_json::from_str::<Value>(&answer)
                    .ok()
                    .and_then(|v| v["__type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let allowed = if what == "minimal" {
                    // A valid input reaches the handler: only the operation's own errors.
                    modelled.contains(&code.as_str())
                } else {
                    modelled.contains(&code.as_str()) || COMMON.contains(&code.as_str())
                };
                if !allowed || status >= 500 {
                    problems.push(format!(
                        "{op} ({what} {body}): {status} {answer} (modelled: {modelled:?})"
                    ));
                }
            }
        }
    }
    assert!(operations >= 49, "only {operations} operations driven");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
