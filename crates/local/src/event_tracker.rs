//! Event trackers: CreateEventTracker, DescribeEventTracker, ListEventTrackers,
//! DeleteEventTracker. One tracker per dataset group; its trackingId routes PutEvents.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::dataset_group::require_active;
use crate::error::ApiError;
use crate::lifecycle::{self, is_creating, is_deleting};
use crate::names::{check_arn, check_name, stable_uuid};
use crate::paging::page;
use crate::protocol::Empty;
use crate::store::Entry;
use crate::tags::{self, Tag};

/// The EventTracker shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTracker {
    pub name: String,
    pub event_tracker_arn: String,
    pub account_id: String,
    pub tracking_id: String,
    pub dataset_group_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEventTrackerRequest {
    pub name: String,
    pub dataset_group_arn: String,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEventTrackerResponse {
    pub event_tracker_arn: String,
    pub tracking_id: String,
}

pub fn create(
    state: &AppState,
    req: CreateEventTrackerRequest,
) -> Result<CreateEventTrackerResponse, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let arn = state.arns.make("event-tracker", &req.name);
    let mut store = state.lock();
    if store.event_trackers.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Event tracker {} already exists",
            req.name
        )));
    }
    require_active(&store, &req.dataset_group_arn)?;
    if let Some(existing) = store
        .event_trackers
        .values()
        .find(|t| t.dataset_group_arn == req.dataset_group_arn)
    {
        return Err(ApiError::AlreadyExists(format!(
            "Dataset group {} already has an event tracker: {}",
            req.dataset_group_arn, existing.event_tracker_arn
        )));
    }
    let n = store.next_counter("event-tracker");
    let tracking_id = stable_uuid(&[&arn, &n.to_string()]);
    let now = store.now();
    store.commit(Entry::EventTracker(EventTracker {
        name: req.name,
        event_tracker_arn: arn.clone(),
        account_id: state.config.account.clone(),
        tracking_id: tracking_id.clone(),
        dataset_group_arn: req.dataset_group_arn.clone(),
        status: lifecycle::initial_status(state).into(),
        creation_date_time: now,
        last_updated_date_time: now,
    }));
    tags::set_on_create(&mut store, &arn, req.tags);
    // The group's interactions dataset shows the tracker's trackingId.
    if let Some(mut dataset) = store
        .datasets
        .values()
        .find(|d| d.dataset_group_arn == req.dataset_group_arn && d.dataset_type == "INTERACTIONS")
        .cloned()
    {
        dataset.tracking_id = Some(tracking_id.clone());
        store.commit(Entry::Dataset(dataset));
    }
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(CreateEventTrackerResponse {
        event_tracker_arn: arn,
        tracking_id,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeEventTrackerRequest {
    pub event_tracker_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeEventTrackerResponse {
    pub event_tracker: EventTracker,
}

pub fn describe(
    state: &AppState,
    req: DescribeEventTrackerRequest,
) -> Result<DescribeEventTrackerResponse, ApiError> {
    check_arn("eventTrackerArn", &req.event_tracker_arn)?;
    let store = state.lock();
    let event_tracker = store
        .event_trackers
        .get(&req.event_tracker_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.event_tracker_arn))?;
    Ok(DescribeEventTrackerResponse { event_tracker })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEventTrackersRequest {
    pub dataset_group_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTrackerSummary {
    pub name: String,
    pub event_tracker_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEventTrackersResponse {
    pub event_trackers: Vec<EventTrackerSummary>,
    pub next_token: Option<String>,
}

pub fn list(
    state: &AppState,
    req: ListEventTrackersRequest,
) -> Result<ListEventTrackersResponse, ApiError> {
    if let Some(arn) = &req.dataset_group_arn {
        check_arn("datasetGroupArn", arn)?;
    }
    let store = state.lock();
    let mut all: Vec<&EventTracker> = store
        .event_trackers
        .values()
        .filter(|t| {
            req.dataset_group_arn
                .as_ref()
                .is_none_or(|g| &t.dataset_group_arn == g)
        })
        .collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|t| EventTrackerSummary {
            name: t.name.clone(),
            event_tracker_arn: t.event_tracker_arn.clone(),
            status: t.status.clone(),
            creation_date_time: t.creation_date_time,
            last_updated_date_time: t.last_updated_date_time,
        })
        .collect();
    let (event_trackers, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListEventTrackersResponse {
        event_trackers,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEventTrackerRequest {
    pub event_tracker_arn: String,
}

pub fn delete(state: &AppState, req: DeleteEventTrackerRequest) -> Result<Empty, ApiError> {
    check_arn("eventTrackerArn", &req.event_tracker_arn)?;
    let arn = req.event_tracker_arn;
    let mut store = state.lock();
    let tracker = store
        .event_trackers
        .get(&arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&arn))?;
    if is_creating(&tracker.status) || is_deleting(&tracker.status) {
        return Err(ApiError::InUse(format!(
            "Event tracker {arn} is in status {} and cannot be deleted",
            tracker.status
        )));
    }
    if let Some(mut dataset) = store
        .datasets
        .values()
        .find(|d| d.tracking_id.as_deref() == Some(tracker.tracking_id.as_str()))
        .cloned()
    {
        dataset.tracking_id = None;
        store.commit(Entry::Dataset(dataset));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}
