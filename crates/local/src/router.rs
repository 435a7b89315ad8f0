//! The router, the top layer: AWS JSON 1.1 dispatch on `X-Amz-Target` for the control plane,
//! REST JSON routes for events and runtime, and the per-request pipeline (body limit, SigV4, fault
//! injection, validation against the service model, durability wait, metrics, logs, response
//! recording, `x-amzn-RequestId`) shared by all operations. Nothing imports it but the crate root.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::resources::resource::{describe, list};
use crate::resources::{
    AppState, algorithm, batch_inference, batch_segment, campaign, data_deletion, dataset,
    dataset_group, event_tracker, events, export, filter, import, metric_attribution,
    next_best_action, recipe, recommender, runtime, schema, solution, solution_version, tags,
};
use crate::store::model::{
    BatchInferenceJob, BatchSegmentJob, Campaign, DataDeletionJob, Dataset, DatasetExportJob,
    DatasetGroup, DatasetImportJob, DatasetSchema, EventTracker, Filter, MetricAttribution,
    Recommender, Solution, SolutionVersion,
};
use crate::wire::codec::{OpResult, run};
use crate::wire::error::{ApiError, Protocol};
use crate::wire::model::{self, Service};

/// What answers a REST JSON operation: its request body in, its result out.
type RestHandler = fn(&AppState, &[u8]) -> OpResult;

/// The REST JSON operations of the events and runtime services: path, service, operation and
/// handler.
const REST_OPERATIONS: &[(&str, Service, &str, RestHandler)] = &[
    ("/events", Service::Events, "PutEvents", events::put_events),
    ("/items", Service::Events, "PutItems", events::put_items),
    ("/users", Service::Events, "PutUsers", events::put_users),
    (
        "/actions",
        Service::Events,
        "PutActions",
        next_best_action::put_actions,
    ),
    (
        "/action-interactions",
        Service::Events,
        "PutActionInteractions",
        next_best_action::put_action_interactions,
    ),
    (
        "/action-recommendations",
        Service::Runtime,
        "GetActionRecommendations",
        next_best_action::get_action_recommendations,
    ),
    (
        "/recommendations",
        Service::Runtime,
        "GetRecommendations",
        runtime::get_recommendations,
    ),
    (
        "/personalize-ranking",
        Service::Runtime,
        "GetPersonalizedRanking",
        runtime::get_personalized_ranking,
    ),
];

/// Builds the router for all three services.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new().route("/", post(control_plane));
    for &(path, service, op, handler) in REST_OPERATIONS {
        let route = move |State(state): State<AppState>, request: Request| {
            rest(state, request, service, op, handler)
        };
        router = router.route(path, post(route));
    }
    router
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(fallback)
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(with_request_id))
        .with_state(state)
}

/// Every response, success or error, carries a fresh `x-amzn-RequestId` (a UUID), as AWS's do.
async fn with_request_id(mut response: Response) -> Response {
    let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// Reads the whole body (at most `--max-body-bytes`; a body shorter than its Content-Length is a
/// `SerializationException`) and, with `--verify-sigv4`, checks its signature for the service
/// whose signing name is `signing_name`.
async fn read_body(
    state: &AppState,
    request: Request,
    signing_name: &str,
) -> Result<(HeaderMap, String, Bytes), ApiError> {
    let limit = state.config.max_body_bytes;
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.into_inner()
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::Serialization(
                "The request body ended before the length its Content-Length declares".into(),
            )
        }
    })?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    if state.config.verify_sigv4 {
        let scope = crate::wire::sigv4::Scope {
            region: &state.config.region,
            service: signing_name,
        };
        crate::wire::sigv4::verify(
            &state.config.credentials,
            &scope,
            std::time::SystemTime::now(),
            parts.method.as_str(),
            &path,
            &parts.headers,
            &bytes,
        )?;
    }
    Ok((parts.headers, path, bytes))
}

fn is_read_only(op: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| op.starts_with(p))
}

async fn finish(
    state: &AppState,
    service: Service,
    op: &'static str,
    started: Instant,
    result: OpResult,
) -> Response {
    // Durability: a mutating request is answered only once its journal lines are on disk.
    let result = match result {
        Ok(body) if !is_read_only(op) => match &state.journal {
            Some(journal) => journal
                .wait_durable(journal.appended())
                .await
                .map(|()| body),
            None => Ok(body),
        },
        other => other,
    };
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    state.metrics.record(op, outcome, elapsed);
    let protocol = match service {
        Service::ControlPlane => Protocol::AwsJson,
        Service::Events | Service::Runtime => Protocol::RestJson,
    };
    if let Some(recorder) = &state.recorder {
        match &result {
            Ok(body) => recorder.record(service.name(), op, 200, body),
            Err(e) => recorder.record(
                service.name(),
                op,
                e.status(protocol).as_u16(),
                e.body().as_bytes(),
            ),
        }
    }
    match result {
        Ok(body) => {
            tracing::debug!(op, ms = elapsed.as_secs_f64() * 1e3, "ok");
            let content_type = match protocol {
                Protocol::AwsJson => "application/x-amz-json-1.1",
                Protocol::RestJson => "application/json",
            };
            let mut response = Response::new(Body::from(body));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(error) => {
            if error.is_server_error() {
                tracing::warn!(op, code = error.code(), %error, "request failed");
            } else {
                tracing::debug!(op, code = error.code(), %error, "request rejected");
            }
            error.into_response(protocol)
        }
    }
}

async fn control_plane(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let op = target
        .strip_prefix("AmazonPersonalize.")
        .unwrap_or_default()
        .to_string();
    let known = control_plane_op_name(&op);
    let result = async {
        let service = Service::ControlPlane;
        let (_, _, body) = read_body(&state, request, service.signing_name()).await?;
        let Some(name) = known else {
            return Err(ApiError::UnknownOperation(format!(
                "Unknown operation: X-Amz-Target '{target}'"
            )));
        };
        state.faults.inject(name).await?;
        model::validate(service, name, &body)?;
        dispatch(&state, name, &body)
    }
    .await;
    finish(
        &state,
        Service::ControlPlane,
        known.unwrap_or("Unknown"),
        started,
        result,
    )
    .await
}

macro_rules! operations {
    ($($name:literal => $handler:path),* $(,)?) => {
        /// The static name of a supported control-plane operation (bounded metric labels).
        fn control_plane_op_name(op: &str) -> Option<&'static str> {
            match op {
                $($name => Some($name),)*
                _ => None,
            }
        }

        fn dispatch(state: &AppState, op: &str, body: &[u8]) -> OpResult {
            match op {
                $($name => run(state, body, $handler),)*
                other => Err(ApiError::UnknownOperation(format!("Unknown operation {other}"))),
            }
        }

        /// Every supported control-plane operation.
        pub const CONTROL_PLANE_OPERATIONS: &[&str] = &[$($name),*];
    };
}

operations! {
    "CreateDatasetGroup" => dataset_group::create,
    "DescribeDatasetGroup" => describe::<DatasetGroup>,
    "ListDatasetGroups" => list::<DatasetGroup>,
    "DeleteDatasetGroup" => dataset_group::delete,
    "CreateSchema" => schema::create,
    "DescribeSchema" => describe::<DatasetSchema>,
    "ListSchemas" => list::<DatasetSchema>,
    "DeleteSchema" => schema::delete,
    "CreateDataset" => dataset::create,
    "UpdateDataset" => dataset::update,
    "DescribeDataset" => describe::<Dataset>,
    "ListDatasets" => list::<Dataset>,
    "DeleteDataset" => dataset::delete,
    "CreateDatasetImportJob" => import::create,
    "DescribeDatasetImportJob" => describe::<DatasetImportJob>,
    "ListDatasetImportJobs" => list::<DatasetImportJob>,
    "CreateSolution" => solution::create,
    "UpdateSolution" => solution::update,
    "DescribeSolution" => solution::describe,
    "ListSolutions" => list::<Solution>,
    "DeleteSolution" => solution::delete,
    "CreateSolutionVersion" => solution_version::create_version,
    "DescribeSolutionVersion" => describe::<SolutionVersion>,
    "ListSolutionVersions" => solution_version::list,
    "StopSolutionVersionCreation" => solution_version::stop_version,
    "GetSolutionMetrics" => solution_version::metrics,
    "CreateCampaign" => campaign::create,
    "UpdateCampaign" => campaign::update,
    "DescribeCampaign" => describe::<Campaign>,
    "ListCampaigns" => list::<Campaign>,
    "DeleteCampaign" => campaign::delete,
    "CreateEventTracker" => event_tracker::create,
    "DescribeEventTracker" => describe::<EventTracker>,
    "ListEventTrackers" => list::<EventTracker>,
    "DeleteEventTracker" => event_tracker::delete,
    "CreateFilter" => filter::create,
    "DescribeFilter" => describe::<Filter>,
    "ListFilters" => list::<Filter>,
    "DeleteFilter" => filter::delete,
    "CreateRecommender" => recommender::create,
    "UpdateRecommender" => recommender::update,
    "DescribeRecommender" => describe::<Recommender>,
    "ListRecommenders" => list::<Recommender>,
    "DeleteRecommender" => recommender::delete,
    "StartRecommender" => recommender::start,
    "StopRecommender" => recommender::stop,
    "CreateMetricAttribution" => metric_attribution::create,
    "UpdateMetricAttribution" => metric_attribution::update,
    "DescribeMetricAttribution" => describe::<MetricAttribution>,
    "ListMetricAttributions" => list::<MetricAttribution>,
    "DeleteMetricAttribution" => metric_attribution::delete,
    "ListMetricAttributionMetrics" => metric_attribution::list_metrics,
    // Batch jobs.
    "CreateBatchInferenceJob" => batch_inference::create,
    "DescribeBatchInferenceJob" => describe::<BatchInferenceJob>,
    "ListBatchInferenceJobs" => list::<BatchInferenceJob>,
    "CreateBatchSegmentJob" => batch_segment::create,
    "DescribeBatchSegmentJob" => describe::<BatchSegmentJob>,
    "ListBatchSegmentJobs" => list::<BatchSegmentJob>,
    "ListRecipes" => recipe::list,
    "DescribeRecipe" => recipe::describe,
    // Dataset export and data deletion jobs; algorithms and feature transformations.
    "CreateDatasetExportJob" => export::create,
    "DescribeDatasetExportJob" => describe::<DatasetExportJob>,
    "ListDatasetExportJobs" => list::<DatasetExportJob>,
    "CreateDataDeletionJob" => data_deletion::create,
    "DescribeDataDeletionJob" => describe::<DataDeletionJob>,
    "ListDataDeletionJobs" => list::<DataDeletionJob>,
    "DescribeAlgorithm" => algorithm::describe,
    "DescribeFeatureTransformation" => algorithm::describe_feature_transformation,
    "TagResource" => tags::tag,
    "UntagResource" => tags::untag,
    "ListTagsForResource" => tags::list,
}

async fn rest(
    state: AppState,
    request: Request,
    service: Service,
    op: &'static str,
    handler: RestHandler,
) -> Response {
    let started = Instant::now();
    let result = async {
        let (_, _, body) = read_body(&state, request, service.signing_name()).await?;
        state.faults.inject(op).await?;
        model::validate(service, op, &body)?;
        handler(&state, &body)
    }
    .await;
    finish(&state, service, op, started, result).await
}

async fn health(State(state): State<AppState>) -> Response {
    let healthy = state.journal.as_ref().is_none_or(|j| !j.has_failed());
    let (resources, live_events) = {
        let store = state.lock();
        let resources = store.dataset_groups.len()
            + store.schemas.len()
            + store.datasets.len()
            + store.import_jobs.len()
            + store.solutions.len()
            + store.solution_versions.len()
            + store.campaigns.len()
            + store.event_trackers.len()
            + store.filters.len()
            + store.recommenders.len()
            + store.metric_attributions.len()
            + store.batch_inference_jobs.len()
            + store.batch_segment_jobs.len()
            + store.export_jobs.len()
            + store.deletion_jobs.len();
        let events: usize = store.live.values().map(|l| l.count()).sum();
        (resources, events)
    };
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "journal write failed" },
        "resources": resources,
        "liveEvents": live_events,
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::wire::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

async fn fallback(request: Request) -> Response {
    let message = format!(
        "No operation for {} {}",
        request.method(),
        request.uri().path()
    );
    let mut response = ApiError::UnknownOperation(message).into_response(Protocol::RestJson);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
