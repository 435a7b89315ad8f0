//! Dataset groups: CreateDatasetGroup, DeleteDatasetGroup, and the ACTIVE check children make
//! (Describe and List: `resource.rs`).
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::job;
use crate::resources::lifecycle;
use crate::resources::resource::{ByArn, begin_delete, count_children, get, reserve, start_new};
use crate::resources::shapes::CreateDatasetGroup;
use crate::resources::shapes::CreateDatasetGroupResponse;
use crate::resources::tags::{self};
use crate::store::model::{
    DataDeletionJob, Dataset, DatasetGroup, EventTracker, Filter, MetricAttribution, Recommender,
    Solution,
};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::check_name;

/// Checks a domain value.
pub fn check_domain(domain: Option<&str>) -> Result<(), ApiError> {
    match domain {
        None | Some("ECOMMERCE") | Some("VIDEO_ON_DEMAND") => Ok(()),
        Some(other) => Err(ApiError::InvalidInput(format!(
            "Value '{other}' at 'domain' failed to satisfy constraint: Member must satisfy enum \
             value set: [ECOMMERCE, VIDEO_ON_DEMAND]"
        ))),
    }
}

pub fn create(
    state: &AppState,
    req: CreateDatasetGroup,
) -> Result<CreateDatasetGroupResponse, ApiError> {
    check_name("name", &req.name)?;
    check_domain(req.domain.as_deref())?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let (arn, mut store) = reserve::<DatasetGroup>(state, "dataset-group", &req.name)?;
    let now = store.now();
    store.commit(Entry::DatasetGroup(DatasetGroup {
        name: req.name,
        dataset_group_arn: arn.clone(),
        status: lifecycle::initial_status(state).into(),
        role_arn: req.role_arn,
        kms_key_arn: req.kms_key_arn,
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
        domain: req.domain.clone(),
    }));
    start_new(state, store, &arn, req.tags);
    Ok(CreateDatasetGroupResponse {
        dataset_group_arn: arn,
        domain: req.domain,
    })
}

pub fn delete(state: &AppState, req: ByArn<DatasetGroup>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    let children = count_children::<Dataset>(&store, &arn)
        + count_children::<Solution>(&store, &arn)
        + count_children::<EventTracker>(&store, &arn)
        + count_children::<Filter>(&store, &arn)
        + count_children::<Recommender>(&store, &arn)
        + count_children::<MetricAttribution>(&store, &arn);
    if children > 0 {
        return Err(ApiError::InUse(format!(
            "Cannot delete dataset group {arn}: it still has {children} child resource(s) \
             (datasets, solutions, event trackers, filters, recommenders or metric \
             attributions)"
        )));
    }
    if let Some(job) = job::running::<DataDeletionJob>(&store, &arn) {
        return Err(ApiError::InUse(format!(
            "Dataset group {arn} has a data deletion job in progress: {job}"
        )));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}

/// The dataset group `arn`, which must exist and be ACTIVE, for a child's Create call.
pub fn require_active(store: &Store, arn: &str) -> Result<DatasetGroup, ApiError> {
    let group = get::<DatasetGroup>(store, arn)?;
    if group.status != lifecycle::ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset group {arn} is in status {}, not ACTIVE",
            group.status
        )));
    }
    Ok(group.clone())
}
