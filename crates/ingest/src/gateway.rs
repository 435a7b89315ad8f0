//! The gateway (`personalize-ingest gateway`): the seed's HTTP API, so its curl walkthrough
//! works unchanged. `POST /data` validates the event and puts it on Kinesis; `GET
//! /getRecommendations` calls GetRecommendations (by `campaignArn`, or `campaign=<Campaign CR
//! name>` resolved through the Kubernetes API) with the runtime parameters of [`Params`].
//! [`app`] builds the router; errors map to responses in one place ([`ApiError`]).
//!
//! A Campaign named by its custom resource is read on every request, and its rollout followed
//! (issue #15, [`crate::arms`]): while `status.rollout` has a candidate campaign serving, a
//! request with a `userId` is answered by the candidate when the sticky split puts the user on
//! it, else by `status.arn`; the answer says which in `x-personalize-arm: stable|candidate` (the
//! body is the same either way). Requests by `campaignArn`, and those with only an `itemId`,
//! are answered by the campaign they name (stable). For CR-named campaigns only, the gateway
//! counts the lists each arm served and the clicks on them, and the latency of the
//! GetRecommendations calls, on `GET /metrics` (Prometheus text: see [`crate::arms::Counts`]).
//! A click is a `POST /data` event, put on Kinesis, whose `userId` was last served, within the
//! hour, a list holding its `itemId`: it counts once per list, and the event is sent with that
//! list's `recommendationId` when it names none, so Personalize's metric attribution credits
//! the arm that served it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_personalizeruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State, rejection::JsonRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use personalize_api::{Campaign, Filter, Recommender};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::arms::{self, ArmLabels, Arms, Claim, Route, Served};
use crate::record::{self, Origin};

/// The response header naming the arm that answered a Campaign named by its custom resource.
pub const ARM_HEADER: &str = "x-personalize-arm";

/// What the handlers share.
#[derive(Clone)]
pub struct GatewayState {
    pub kinesis: aws_sdk_kinesis::Client,
    pub runtime: aws_sdk_personalizeruntime::Client,
    /// For `campaign=<name>` and `filter=<name>`; None: only ARNs work.
    pub kube: Option<kube::Client>,
    /// Namespace of the Campaign and Filter CRs named by `campaign=` and `filter=`
    /// (overridable with `namespace=`).
    pub namespace: String,
    /// Stream used when a request has no `stream-name`.
    pub default_stream: Option<String>,
    /// The rollout split's served lists and per-arm counts.
    pub arms: Arc<Arms>,
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
    #[error("reading {kind} {name}: {message}")]
    ReadObject {
        kind: String,
        name: String,
        message: String,
    },
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PutRecord { .. } | ApiError::ReadObject { .. } => StatusCode::BAD_GATEWAY,
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
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<GatewayState>) -> Response {
    let content_type = [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)];
    (content_type, state.arms.counts.render()).into_response()
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
    let events =
        record::decode(&bytes, CHECK).map_err(|e| ApiError::BadRequest(format!("Data: {e}")))?;
    let partition_key = partition_key(&key, &data);
    let (click, bytes) = attribute(&state.arms, &events, data, bytes);
    let out = state
        .kinesis
        .put_record()
        .stream_name(&stream)
        .partition_key(partition_key)
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
    if let Some(click) = click {
        let first = state.arms.served().take(&click);
        if first {
            state.arms.counts.clicked(&click.labels);
        }
    }
    Ok(Json(json!({
        "Message": "Event sent successfully",
        "data": {
            "EncryptionType": out.encryption_type().map(|e| e.as_str()).unwrap_or("NONE"),
            "SequenceNumber": out.sequence_number(),
            "ShardId": out.shard_id(),
        }
    })))
}

/// The origin events are decoded with when they are checked at the door.
const CHECK: Origin<'static> = Origin {
    shard_id: "gateway",
    sequence_number: "0",
};

/// The click `events` make on the list last served to their user, if any, and the record to
/// put: `data` with that list's `recommendationId` added to the clicking events that name none
/// ([`arms::name_the_list`]), or `bytes` unchanged (no click, nothing to add, or a record the
/// sidecar would refuse once named, e.g. over its size limit).
fn attribute(
    arms: &Arms,
    events: &[record::Event],
    mut data: serde_json::Map<String, Value>,
    bytes: Vec<u8>,
) -> (Option<Claim>, Vec<u8>) {
    let user = events.first().and_then(|e| e.user_id.as_deref());
    let items = events.iter().filter_map(|e| e.item_id.as_deref());
    let Some(click) = user.and_then(|user| arms.served().find(user, items, Instant::now())) else {
        return (None, bytes);
    };
    let named = match &click.recommendation_id {
        Some(id) if arms::name_the_list(&mut data, &click.item_id, id) => {
            serde_json::to_vec(&Value::Object(data))
                .ok()
                .filter(|named| record::decode(named, CHECK).is_ok())
        }
        _ => None,
    };
    (Some(click), named.unwrap_or(bytes))
}

/// The query parameters of `GET /getRecommendations`, checked: what GetRecommendations takes
/// (AWS's names and limits), plus `campaign=`, `filter=` and `namespace=` to name custom
/// resources instead of ARNs. Maps are given one entry per parameter: `filterValues.<NAME>=`
/// (the value as AWS takes it, e.g. `"Comedy"` with the quotes) and `context.<KEY>=`. A
/// parameter the gateway does not pass on is refused, never ignored.
#[derive(Debug, Default, PartialEq)]
pub struct Params {
    pub user_id: Option<String>,
    pub item_id: Option<String>,
    pub num_results: Option<i32>,
    pub campaign: Named,
    pub recommender: Named,
    pub filter: Named,
    pub filter_values: BTreeMap<String, String>,
    pub context: BTreeMap<String, String>,
    /// `metadataColumns.<DATASET>=COL1,COL2`.
    pub metadata_columns: BTreeMap<String, Vec<String>>,
    /// `promotion.name`, `promotion.percentPromotedItems`, `promotion.filterArn` or
    /// `promotion.filter`, `promotion.filterValues.<NAME>` (the model allows one promotion).
    pub promotion: Option<Promotion>,
    pub namespace: Option<String>,
}

/// A promotion: this share of the results chosen by its filter.
#[derive(Debug, Default, PartialEq)]
pub struct Promotion {
    pub name: String,
    pub percent: i32,
    pub filter: Named,
    pub filter_values: BTreeMap<String, String>,
}

/// A resource given by ARN or by the name of its custom resource.
#[derive(Debug, Default, PartialEq)]
pub enum Named {
    #[default]
    Absent,
    Arn(String),
    Object(String),
}

impl Params {
    /// Parses and checks a query.
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        let bad = |m: String| Err(ApiError::BadRequest(m));
        let mut p = Params::default();
        let mut promotion = BTreeMap::new();
        for (key, value) in q {
            if let Some(field) = key.strip_prefix("promotion.") {
                promotion.insert(field.to_owned(), value.clone());
                continue;
            }
            if let Some(dataset) = key.strip_prefix("metadataColumns.") {
                let columns = value.split(',').map(str::to_owned).collect();
                p.metadata_columns.insert(dataset.to_owned(), columns);
                continue;
            }
            if let Some(name) = key.strip_prefix("filterValues.") {
                p.filter_values.insert(name.to_owned(), value.clone());
                continue;
            }
            if let Some(name) = key.strip_prefix("context.") {
                p.context.insert(name.to_owned(), value.clone());
                continue;
            }
            match key.as_str() {
                "userId" => p.user_id = Some(value.clone()),
                "itemId" => p.item_id = Some(value.clone()),
                "numResults" => p.num_results = Some(number(value)?),
                "campaignArn" => p.campaign.set(Named::Arn(value.clone()), "campaign")?,
                "campaign" => p.campaign.set(Named::Object(value.clone()), "campaign")?,
                "recommenderArn" => {
                    p.recommender
                        .set(Named::Arn(value.clone()), "recommender")?;
                }
                "recommender" => {
                    p.recommender
                        .set(Named::Object(value.clone()), "recommender")?;
                }
                "filterArn" => p.filter.set(Named::Arn(value.clone()), "filter")?,
                "filter" => p.filter.set(Named::Object(value.clone()), "filter")?,
                "namespace" => p.namespace = Some(value.clone()),
                other => {
                    return bad(format!(
                        "unknown parameter {other}: the gateway takes userId, itemId, numResults, \
                         campaignArn or campaign, recommenderArn or recommender, filterArn or \
                         filter, filterValues.<NAME>, context.<KEY>, metadataColumns.<DATASET>, \
                         promotion.<FIELD> and namespace"
                    ));
                }
            }
        }
        if !promotion.is_empty() {
            p.promotion = Some(Promotion::parse(promotion)?);
        }
        let id_ok = |id: &Option<String>| id.as_ref().is_none_or(|v| (1..=256).contains(&v.len()));
        if p.user_id.is_none() && p.item_id.is_none() || !id_ok(&p.user_id) || !id_ok(&p.item_id) {
            return bad("userId or itemId is required (1 to 256 characters)".into());
        }
        match (&p.campaign, &p.recommender) {
            (Named::Absent, Named::Absent) => {
                return bad(
                    "campaignArn (or campaign=<Campaign name>) or recommenderArn (or \
                     recommender=<Recommender name>) is required"
                        .into(),
                );
            }
            (Named::Absent, _) | (_, Named::Absent) => {}
            _ => return bad("give a campaign or a recommender, not both".into()),
        }
        if !p.filter_values.is_empty() && p.filter == Named::Absent {
            return bad("filterValues need a filter (filterArn or filter=<Filter name>)".into());
        }
        // (name, entries, longest key) as the runtime model limits them; values up to 1000.
        let maps = [
            ("filterValues", &p.filter_values, 25, 50),
            ("context", &p.context, 150, 150),
        ];
        for (what, map, entries, key) in maps {
            if map.len() > entries {
                return bad(format!("{what} has more than {entries} entries"));
            }
            if map.keys().any(|k| k.is_empty() || k.len() > key) {
                return bad(format!("{what} keys must be 1 to {key} characters"));
            }
            if map.values().any(|v| v.len() > 1000) {
                return bad(format!("{what} values must be at most 1000 characters"));
            }
        }
        Ok(p)
    }
}

impl Promotion {
    /// The promotion of the `promotion.<FIELD>` parameters.
    fn parse(mut fields: BTreeMap<String, String>) -> Result<Self, ApiError> {
        let bad = |m: &str| Err(ApiError::BadRequest(format!("promotion: {m}")));
        let mut promotion = Promotion::default();
        let values: Vec<String> = fields
            .keys()
            .filter(|k| k.starts_with("filterValues."))
            .cloned()
            .collect();
        for key in values {
            let value = fields.remove(&key).unwrap_or_default();
            let name = key.trim_start_matches("filterValues.").to_owned();
            promotion.filter_values.insert(name, value);
        }
        for (field, value) in fields {
            match field.as_str() {
                "name" => promotion.name = value,
                "percentPromotedItems" => {
                    promotion.percent = match value.parse::<i32>() {
                        Ok(n) if (1..=100).contains(&n) => n,
                        _ => return bad("percentPromotedItems must be an integer from 1 to 100"),
                    };
                }
                "filterArn" => promotion
                    .filter
                    .set(Named::Arn(value), "promotion.filter")?,
                "filter" => promotion
                    .filter
                    .set(Named::Object(value), "promotion.filter")?,
                other => {
                    return bad(&format!(
                        "unknown field {other}: a promotion takes name, percentPromotedItems, \
                         filterArn or filter, and filterValues.<NAME>"
                    ));
                }
            }
        }
        if promotion.name.is_empty() || promotion.percent == 0 || promotion.filter == Named::Absent
        {
            return bad("name, percentPromotedItems and filterArn (or filter) are required");
        }
        Ok(promotion)
    }
}

impl Named {
    fn set(&mut self, named: Named, what: &str) -> Result<(), ApiError> {
        let empty = matches!(&named, Named::Arn(v) | Named::Object(v) if v.is_empty());
        if empty || *self != Named::Absent {
            return Err(ApiError::BadRequest(format!(
                "give either {what}Arn or {what} (a non-empty name), not both"
            )));
        }
        *self = named;
        Ok(())
    }
}

fn number(value: &str) -> Result<i32, ApiError> {
    value
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=500).contains(n))
        .ok_or_else(|| ApiError::BadRequest("numResults must be an integer from 1 to 500".into()))
}

/// The ARN of a resource named by ARN or by custom resource: the object's `status.arn`, once
/// its Personalize resource is ACTIVE.
async fn arn_of<K>(
    state: &GatewayState,
    named: &Named,
    ns: &str,
) -> Result<Option<String>, ApiError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + Clone
        + std::fmt::Debug
        + Published,
{
    match named {
        Named::Absent => Ok(None),
        Named::Arn(arn) => Ok(Some(arn.clone())),
        Named::Object(name) => published(&read::<K>(state, name, ns).await?, name, ns).map(Some),
    }
}

/// The custom resource `ns/name`.
async fn read<K>(state: &GatewayState, name: &str, ns: &str) -> Result<K, ApiError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + Clone
        + std::fmt::Debug,
{
    let kind = K::kind(&());
    let kube = state.kube.clone().ok_or_else(|| {
        ApiError::Unavailable(format!(
            "{kind} names need access to the Kubernetes API, which is not configured"
        ))
    })?;
    let api: kube::Api<K> = kube::Api::namespaced(kube, ns);
    api.get_opt(name)
        .await
        .map_err(|e| ApiError::ReadObject {
            kind: kind.to_string(),
            name: format!("{ns}/{name}"),
            message: e.to_string(),
        })?
        .ok_or_else(|| ApiError::NotFound(format!("{kind} {ns}/{name} not found")))
}

/// The ARN `object` (`ns/name`) publishes, or why there is none to call yet.
fn published<K>(object: &K, name: &str, ns: &str) -> Result<String, ApiError>
where
    K: kube::Resource<DynamicType = ()> + Published,
{
    object.published().ok_or_else(|| {
        let kind = K::kind(&());
        ApiError::Unavailable(format!("{kind} {ns}/{name} has no ACTIVE ARN yet"))
    })
}

/// A Campaign named by its custom resource: `<namespace>/<name>` (its counts' `campaign`
/// label) and the route its rollout gives this request.
struct Split {
    campaign: String,
    route: Route,
}

/// Custom resources whose status publishes an ARN to call.
trait Published {
    /// The ARN, once usable.
    fn published(&self) -> Option<String>;
}

impl Published for Campaign {
    fn published(&self) -> Option<String> {
        self.status.as_ref()?.resource.arn.clone()
    }
}

/// A Recommender serves while ACTIVE (not while stopped or starting).
impl Published for Recommender {
    fn published(&self) -> Option<String> {
        active_arn(&self.status.as_ref()?.resource)
    }
}

/// A Filter's `status.arn` is the published filter: ACTIVE, except while the first one is
/// being created.
impl Published for Filter {
    fn published(&self) -> Option<String> {
        active_arn(&self.status.as_ref()?.resource)
    }
}

/// The ARN in a status, while the resource is ACTIVE.
fn active_arn(status: &personalize_api::ResourceStatus) -> Option<String> {
    let active = status.status.as_deref() == Some(personalize_api::aws_status::ACTIVE);
    status.arn.clone().filter(|_| active)
}

async fn get_recommendations(
    State(state): State<GatewayState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let p = Params::parse(&q)?;
    let ns = p.namespace.as_deref().unwrap_or(&state.namespace);
    let (campaign_arn, split) = match &p.campaign {
        Named::Object(name) => {
            let campaign = read::<Campaign>(&state, name, ns).await?;
            let stable = published(&campaign, name, ns)?;
            let rollout = campaign.status.as_ref().and_then(|s| s.rollout.as_ref());
            let route = arms::route(&stable, rollout, p.user_id.as_deref());
            let campaign = format!("{ns}/{name}");
            (Some(route.arn.clone()), Some(Split { campaign, route }))
        }
        named => (arn_of::<Campaign>(&state, named, ns).await?, None),
    };
    let recommender_arn = arn_of::<Recommender>(&state, &p.recommender, ns).await?;
    let filter_arn = arn_of::<Filter>(&state, &p.filter, ns).await?;
    let promotions = match p.promotion {
        None => None,
        Some(promotion) => {
            let filter = arn_of::<Filter>(&state, &promotion.filter, ns).await?;
            let values = (!promotion.filter_values.is_empty())
                .then(|| promotion.filter_values.into_iter().collect());
            let built = aws_sdk_personalizeruntime::types::Promotion::builder()
                .name(promotion.name)
                .percent_promoted_items(promotion.percent)
                .set_filter_arn(filter)
                .set_filter_values(values)
                .build();
            Some(vec![built])
        }
    };
    let columns =
        (!p.metadata_columns.is_empty()).then(|| p.metadata_columns.into_iter().collect());
    let map = |m: BTreeMap<String, String>| (!m.is_empty()).then(|| m.into_iter().collect());
    let started = Instant::now();
    let answer = state
        .runtime
        .get_recommendations()
        .set_campaign_arn(campaign_arn)
        .set_recommender_arn(recommender_arn)
        .set_user_id(p.user_id.clone())
        .set_item_id(p.item_id)
        .set_num_results(p.num_results)
        .set_filter_arn(filter_arn)
        .set_filter_values(map(p.filter_values))
        .set_context(map(p.context))
        .set_metadata_columns(columns)
        .set_promotions(promotions)
        .send()
        .await;
    if let Some(split) = &split {
        let took = started.elapsed();
        state
            .arms
            .counts
            .observe(&split.campaign, split.route.arm, took);
    }
    let out = answer.map_err(|e| {
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
        .map(|i| {
            let mut item = json!({ "itemId": i.item_id(), "score": i.score() });
            if let Some(name) = i.promotion_name() {
                item["promotionName"] = name.into();
            }
            if let Some(metadata) = i.metadata() {
                item["metadata"] = json!(metadata);
            }
            item
        })
        .collect();
    use aws_sdk_personalizeruntime::operation::RequestId;
    let body = Json(json!({
        "$metadata": {
            "httpStatusCode": 200,
            "requestId": out.request_id(),
            "attempts": 1,
            "totalRetryDelay": 0,
        },
        "itemList": items,
        "recommendationId": out.recommendation_id(),
    }));
    let Some(Split { campaign, route }) = split else {
        return Ok(body.into_response());
    };
    let labels = ArmLabels {
        campaign,
        rollout: route.rollout,
        arm: route.arm,
    };
    state.arms.counts.served(&labels);
    if let Some(user) = &p.user_id {
        let rid = out.recommendation_id().map(str::to_owned);
        let items = out.item_list().iter().filter_map(|i| i.item_id());
        let served = Served::new(labels, rid, items, Instant::now());
        state.arms.served().remember(user, served);
    }
    Ok(([(ARM_HEADER, route.arm.as_str())], body).into_response())
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
            arms: Arc::default(),
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
            ("campaignArn=arn", "userId or itemId is required"),
            (
                "userId=1",
                "campaignArn (or campaign=<Campaign name>) or recommenderArn",
            ),
            (
                "userId=1&campaignArn=a&campaign=b",
                "give either campaignArn or campaign",
            ),
            (
                "userId=1&campaignArn=a&filterArn=f&filter=g",
                "give either filterArn or filter",
            ),
            (
                "userId=1&campaignArn=a&filterValues.GENRE=%22Comedy%22",
                "filterValues need a filter",
            ),
            (
                "userId=1&campaignArn=a&promotions=x",
                "unknown parameter promotions",
            ),
            (
                "userId=1&campaignArn=a&promotion.name=p",
                "promotion: name, percentPromotedItems and filterArn",
            ),
            (
                "userId=1&campaignArn=a&promotion.name=p&promotion.filterArn=f&promotion.percentPromotedItems=101",
                "promotion: percentPromotedItems must be",
            ),
            (
                "userId=1&campaignArn=a&promotion.colour=red",
                "promotion: unknown field colour",
            ),
            (
                "userId=1&campaignArn=a&recommenderArn=x",
                "give a campaign or a recommender, not both",
            ),
            (
                "userId=1&campaignArn=a&metadataColumns=x",
                "unknown parameter metadataColumns",
            ),
            (
                "userId=1&campaignArn=a&numresults=5",
                "unknown parameter numresults",
            ),
            ("userId=1&campaignArn=a&context.=x", "context keys must be"),
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
        for query in [
            "userId=1&campaign=movies",
            "userId=1&campaignArn=a&filter=genre",
        ] {
            let req = Request::get(format!("/getRecommendations?{query}"))
                .body(Body::empty())
                .expect("request");
            let (status, message) = send(req).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{message}");
            assert!(message.contains("Kubernetes API"), "{message}");
        }
    }

    #[test]
    fn parses_every_runtime_parameter() {
        let q: HashMap<String, String> = [
            ("itemId", "i1"),
            ("numResults", "7"),
            ("campaign", "movies"),
            ("filter", "genre"),
            ("filterValues.GENRE", "\"Comedy\""),
            ("context.DEVICE", "phone"),
            ("namespace", "team"),
            ("metadataColumns.ITEMS", "GENRES,YEAR"),
            ("promotion.name", "comedy"),
            ("promotion.percentPromotedItems", "20"),
            ("promotion.filter", "genre"),
            ("promotion.filterValues.GENRE", "\"Comedy\""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let p = Params::parse(&q).expect("valid");
        assert_eq!(p.item_id.as_deref(), Some("i1"));
        assert_eq!(p.user_id, None);
        assert_eq!(p.num_results, Some(7));
        assert_eq!(p.campaign, Named::Object("movies".into()));
        assert_eq!(p.filter, Named::Object("genre".into()));
        assert_eq!(p.filter_values["GENRE"], "\"Comedy\"");
        assert_eq!(p.context["DEVICE"], "phone");
        assert_eq!(p.namespace.as_deref(), Some("team"));
        assert_eq!(p.metadata_columns["ITEMS"], ["GENRES", "YEAR"]);
        let promotion = p.promotion.expect("a promotion");
        assert_eq!(promotion.name, "comedy");
        assert_eq!(promotion.percent, 20);
        assert_eq!(promotion.filter, Named::Object("genre".into()));
        assert_eq!(promotion.filter_values["GENRE"], "\"Comedy\"");
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
