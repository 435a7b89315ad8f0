//! Event trackers: CreateEventTracker, DeleteEventTracker (Describe and List: `resource.rs`).
//! One tracker per dataset group; its trackingId routes PutEvents.
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::dataset_group::require_active;
use crate::resources::lifecycle::{self, ACTIVE};
use crate::resources::resource::{ByArn, begin_delete, first_child, reserve};
use crate::resources::shapes::CreateEventTracker;
use crate::resources::shapes::CreateEventTrackerResponse;
use crate::resources::tags::{self};
use crate::store::model::EventTracker;
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name, stable_uuid};

/// The dataset group of the event tracker with `tracking_id`, which must be ACTIVE; `unknown`
/// makes the error for a tracking id no tracker has (each operation models its own).
pub fn group_of_tracker(
    store: &Store,
    tracking_id: &str,
    unknown: fn(String) -> ApiError,
) -> Result<String, ApiError> {
    let tracker = store
        .event_trackers
        .values()
        .find(|t| t.tracking_id == tracking_id)
        .ok_or_else(|| unknown(format!("No event tracker with trackingId {tracking_id}")))?;
    if tracker.status != ACTIVE {
        return Err(ApiError::InvalidInput(format!(
            "Event tracker {} is in status {}, not ACTIVE",
            tracker.event_tracker_arn, tracker.status
        )));
    }
    Ok(tracker.dataset_group_arn.clone())
}

pub fn create(
    state: &AppState,
    req: CreateEventTracker,
) -> Result<CreateEventTrackerResponse, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let (arn, mut store) = reserve::<EventTracker>(state, "event-tracker", &req.name)?;
    require_active(&store, &req.dataset_group_arn)?;
    if let Some(existing) = first_child::<EventTracker>(&store, &req.dataset_group_arn) {
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

pub fn delete(state: &AppState, req: ByArn<EventTracker>) -> Result<Empty, ApiError> {
    let (arn, mut store, tracker) = begin_delete(state, req)?;
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
