//! The gateway (`personalize-ingest gateway`): the seed's HTTP API, so its curl walkthrough
//! works unchanged. `POST /data` validates the event and puts it on Kinesis; `GET
//! /getRecommendations` calls GetRecommendations (by `campaignArn`, or `campaign=<Campaign CR
//! name>` resolved through the Kubernetes API). [`app`] builds the router; errors map to
//! responses in one place ([`ApiError`]).

use std::collections::HashMap;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_personalizeruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State, rejection::JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use personalize_api::Campaign;
use serde_json::{Value, json};

use crate::record::{self, Origin};

/// What the handlers share.
#[derive(Clone)]
pub struct GatewayState {
    pub kinesis: aws_sdk_kinesis::Client,
    pub runtime: aws_sdk_personalizeruntime::Client,
    /// For `campaign=<name>`; None: only `campaignArn` works.
    pub kube: Option<kube::Client>,
    /// Namespace of Campaign CRs named by `campaign=` (overridable with `namespace=`).
    pub namespace: String,
    /// Stream used when a request has no `stream-name`.
    pub default_stream: Option<String>,
}

/// Everything that can go wrong in a request, mapped to a status and `{"message": ...}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("PutRecord to stream {stream} failed: {message}")]
    PutRecord { stream: String, message: String },
    #[error("GetRecommendations failed: {message}")]
    GetRecommendations { status: u16, message: String },
    #[error("reading Campaign {name}: {message}")]
    ReadCampaign { name: String, message: String },
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PutRecord { .. } | ApiError::ReadCampaign { .. } => StatusCode::BAD_GATEWAY,
            ApiError::GetRecommendations { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

/// The router.
pub fn app(state: GatewayState) -> Router {
    Router::new()
        .route("/data", post(put_data))
        .route("/getRecommendations", get(get_recommendations))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// The partition key: the value of the `Data` field it names when there is one (so a user's
/// events stay in order on one shard with `"PartitionKey": "userId"`), else the key itself.
pub fn partition_key(key: &str, data: &serde_json::Map<String, Value>) -> String {
    match data.get(key) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => key.to_owned(),
    }
}

async fn put_data(
    State(state): State<GatewayState>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(format!("body: {}", e.body_text())))?;
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("body must be a JSON object".into()))?;
    let stream = match obj.get("stream-name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(Value::Null) => state.default_stream.clone().ok_or_else(|| {
            ApiError::BadRequest("stream-name is required (a Kinesis stream name)".into())
        })?,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "stream-name must be a non-empty string".into(),
            ));
        }
    };
    let data = match obj.get("Data") {
        Some(Value::Object(d)) => d.clone(),
        None => {
            return Err(ApiError::BadRequest(
                "Data is required (the event object)".into(),
            ));
        }
        Some(_) => return Err(ApiError::BadRequest("Data must be a JSON object".into())),
    };
    let key = match obj.get("PartitionKey") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => s.clone(),
        None => return Err(ApiError::BadRequest("PartitionKey is required".into())),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "PartitionKey must be a string of 1 to 256 characters".into(),
            ));
        }
    };
    let bytes = serde_json::to_vec(&Value::Object(data.clone()))
        .map_err(|e| ApiError::BadRequest(format!("Data: {e}")))?;
    // Refuse at the door what the sidecar would dead-letter.
    let check = Origin {
        shard_id: "gateway",
        sequence_number: "0",
    };
    record::decode(&bytes, check).map_err(|e| ApiError::BadRequest(format!("Data: {e}")))?;
    let out = state
        .kinesis
        .put_record()
        .stream_name(&stream)
        .partition_key(partition_key(&key, &data))
        .data(Blob::new(bytes))
        .send()
        .await
        .map_err(|e| {
            let message = aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string();
            match e.as_service_error() {
                Some(se) if se.is_resource_not_found_exception() => {
                    ApiError::NotFound(format!("stream {stream} not found"))
                }
                _ => ApiError::PutRecord {
                    stream: stream.clone(),
                    message,
                },
            }
        })?;
    Ok(Json(json!({
        "Message": "Event sent successfully",
        "data": {
            "EncryptionType": out.encryption_type().map(|e| e.as_str()).unwrap_or("NONE"),
            "SequenceNumber": out.sequence_number(),
            "ShardId": out.shard_id(),
        }
    })))
}

async fn campaign_arn(
    state: &GatewayState,
    q: &HashMap<String, String>,
) -> Result<String, ApiError> {
    match (q.get("campaignArn"), q.get("campaign")) {
        (Some(arn), None) if !arn.is_empty() => Ok(arn.clone()),
        (None, Some(name)) if !name.is_empty() => {
            let kube = state.kube.clone().ok_or_else(|| {
                ApiError::Unavailable(
                    "campaign=<name> needs access to the Kubernetes API, which is not configured"
                        .into(),
                )
            })?;
            let ns = q.get("namespace").unwrap_or(&state.namespace);
            let api: kube::Api<Campaign> = kube::Api::namespaced(kube, ns);
            let campaign = api
                .get_opt(name)
                .await
                .map_err(|e| ApiError::ReadCampaign {
                    name: format!("{ns}/{name}"),
                    message: e.to_string(),
                })?
                .ok_or_else(|| ApiError::NotFound(format!("Campaign {ns}/{name} not found")))?;
            campaign.status.and_then(|s| s.resource.arn).ok_or_else(|| {
                ApiError::Unavailable(format!("Campaign {ns}/{name} has no ARN yet"))
            })
        }
        (Some(_), Some(_)) => Err(ApiError::BadRequest(
            "give either campaignArn or campaign, not both".into(),
        )),
        _ => Err(ApiError::BadRequest(
            "campaignArn (or campaign=<Campaign name>) is required".into(),
        )),
    }
}

async fn get_recommendations(
    State(state): State<GatewayState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user_id = match q.get("userId") {
        Some(u) if !u.is_empty() && u.len() <= 256 => u.clone(),
        _ => {
            return Err(ApiError::BadRequest(
                "userId is required (1 to 256 characters)".into(),
            ));
        }
    };
    let num_results = match q.get("numResults") {
        None => None,
        Some(n) => Some(
            n.parse::<i32>()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| {
                    ApiError::BadRequest("numResults must be an integer from 1 to 500".into())
                })?,
        ),
    };
    let campaign_arn = campaign_arn(&state, &q).await?;
    let out = state
        .runtime
        .get_recommendations()
        .campaign_arn(&campaign_arn)
        .user_id(&user_id)
        .set_num_results(num_results)
        .send()
        .await
        .map_err(|e| {
            let (status, message) = match &e {
                SdkError::ServiceError(se) => (
                    se.raw().status().as_u16(),
                    format!(
                        "{}: {}",
                        se.err().code().unwrap_or("Error"),
                        se.err().message().unwrap_or_default()
                    ),
                ),
                _ => (502, DisplayErrorContext(&e).to_string()),
            };
            ApiError::GetRecommendations { status, message }
        })?;
    let items: Vec<Value> = out
        .item_list()
        .iter()
        .map(|i| json!({ "itemId": i.item_id(), "score": i.score() }))
        .collect();
    use aws_sdk_personalizeruntime::operation::RequestId;
    Ok(Json(json!({
        "$metadata": {
            "httpStatusCode": 200,
            "requestId": out.request_id(),
            "attempts": 1,
            "totalRetryDelay": 0,
        },
        "itemList": items,
        "recommendationId": out.recommendation_id(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// A state whose clients are never reached: every request below fails validation first.
    fn state() -> GatewayState {
        let region = aws_sdk_kinesis::config::Region::new("us-east-1");
        GatewayState {
            kinesis: aws_sdk_kinesis::Client::from_conf(
                aws_sdk_kinesis::Config::builder()
                    .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
                    .region(region.clone())
                    .build(),
            ),
            runtime: aws_sdk_personalizeruntime::Client::from_conf(
                aws_sdk_personalizeruntime::Config::builder()
                    .behavior_version(aws_sdk_personalizeruntime::config::BehaviorVersion::latest())
                    .region(region)
                    .build(),
            ),
            kube: None,
            namespace: "default".into(),
            default_stream: None,
        }
    }

    async fn send(req: Request<Body>) -> (StatusCode, String) {
        let resp = app(state()).oneshot(req).await.expect("answers");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&body).expect("json error body");
        (status, v["message"].as_str().unwrap_or_default().to_owned())
    }

    fn post(body: &str) -> Request<Body> {
        Request::post("/data")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request")
    }

    #[tokio::test]
    async fn post_data_says_what_is_wrong() {
        let cases = [
            ("{not json", "body:"),
            ("[1]", "body must be a JSON object"),
            (
                r#"{"Data": {}, "PartitionKey": "userId"}"#,
                "stream-name is required",
            ),
            (
                r#"{"stream-name": "s", "PartitionKey": "userId"}"#,
                "Data is required",
            ),
            (
                r#"{"stream-name": "s", "Data": 5, "PartitionKey": "userId"}"#,
                "Data must be a JSON object",
            ),
            (
                r#"{"stream-name": "s", "Data": {"userId": "1"}}"#,
                "PartitionKey is required",
            ),
            (
                r#"{"stream-name": "s", "Data": {"userId": "1", "itemId": "2", "eventType": "click"}, "PartitionKey": "userId"}"#,
                "Data: required field sentAt is missing",
            ),
            (
                r#"{"stream-name": "s", "Data": {"userId": "1", "eventType": "click", "sentAt": "later"}, "PartitionKey": "userId"}"#,
                "Data: field sentAt is invalid",
            ),
        ];
        for (body, expected) in cases {
            let (status, message) = send(post(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(message.starts_with(expected), "{body}: {message}");
        }
    }

    #[tokio::test]
    async fn get_recommendations_says_what_is_wrong() {
        let cases = [
            ("campaignArn=arn", "userId is required"),
            (
                "userId=1",
                "campaignArn (or campaign=<Campaign name>) is required",
            ),
            (
                "userId=1&campaignArn=a&campaign=b",
                "give either campaignArn or campaign",
            ),
            (
                "userId=1&campaignArn=a&numResults=0",
                "numResults must be an integer from 1 to 500",
            ),
            ("userId=1&campaignArn=a&numResults=x", "numResults must be"),
        ];
        for (query, expected) in cases {
            let req = Request::get(format!("/getRecommendations?{query}"))
                .body(Body::empty())
                .expect("request");
            let (status, message) = send(req).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(message.starts_with(expected), "{query}: {message}");
        }
        let req = Request::get("/getRecommendations?userId=1&campaign=movies")
            .body(Body::empty())
            .expect("request");
        let (status, message) = send(req).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{message}");
    }

    #[test]
    fn partition_key_uses_the_named_field() {
        let data = serde_json::json!({"userId": "429", "n": 5});
        let data = data.as_object().expect("object");
        assert_eq!(partition_key("userId", data), "429");
        assert_eq!(partition_key("n", data), "5");
        assert_eq!(partition_key("fixed", data), "fixed");
    }
}
