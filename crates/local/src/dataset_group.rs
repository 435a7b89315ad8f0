//! Dataset groups: CreateDatasetGroup, DescribeDatasetGroup, ListDatasetGroups,
//! DeleteDatasetGroup.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::error::ApiError;
use crate::lifecycle::{self, is_creating, is_deleting};
use crate::names::{check_arn, check_name};
use crate::paging::page;
use crate::protocol::Empty;
use crate::store::Entry;
use crate::tags::{self, Tag};

/// The DatasetGroup shape (also what the store keeps).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetGroup {
    pub name: String,
    pub dataset_group_arn: String,
    pub status: String,
    pub role_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
    pub domain: Option<String>,
}

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetGroupRequest {
    pub name: String,
    pub role_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub domain: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetGroupResponse {
    pub dataset_group_arn: String,
    pub domain: Option<String>,
}

pub fn create(
    state: &AppState,
    req: CreateDatasetGroupRequest,
) -> Result<CreateDatasetGroupResponse, ApiError> {
    check_name("name", &req.name)?;
    check_domain(req.domain.as_deref())?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let arn = state.arns.make("dataset-group", &req.name);
    let mut store = state.lock();
    if store.dataset_groups.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Dataset group {} already exists",
            req.name
        )));
    }
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
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(CreateDatasetGroupResponse {
        dataset_group_arn: arn,
        domain: req.domain,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDatasetGroupRequest {
    pub dataset_group_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDatasetGroupResponse {
    pub dataset_group: DatasetGroup,
}

pub fn describe(
    state: &AppState,
    req: DescribeDatasetGroupRequest,
) -> Result<DescribeDatasetGroupResponse, ApiError> {
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    let store = state.lock();
    let dataset_group = store
        .dataset_groups
        .get(&req.dataset_group_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.dataset_group_arn))?;
    Ok(DescribeDatasetGroupResponse { dataset_group })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDatasetGroupsRequest {
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetGroupSummary {
    pub name: String,
    pub dataset_group_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
    pub domain: Option<String>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDatasetGroupsResponse {
    pub dataset_groups: Vec<DatasetGroupSummary>,
    pub next_token: Option<String>,
}

pub fn list(
    state: &AppState,
    req: ListDatasetGroupsRequest,
) -> Result<ListDatasetGroupsResponse, ApiError> {
    let store = state.lock();
    let mut all: Vec<&DatasetGroup> = store.dataset_groups.values().collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|g| DatasetGroupSummary {
            name: g.name.clone(),
            dataset_group_arn: g.dataset_group_arn.clone(),
            status: g.status.clone(),
            creation_date_time: g.creation_date_time,
            last_updated_date_time: g.last_updated_date_time,
            failure_reason: g.failure_reason.clone(),
            domain: g.domain.clone(),
        })
        .collect();
    let (dataset_groups, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListDatasetGroupsResponse {
        dataset_groups,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDatasetGroupRequest {
    pub dataset_group_arn: String,
}

pub fn delete(state: &AppState, req: DeleteDatasetGroupRequest) -> Result<Empty, ApiError> {
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    let arn = req.dataset_group_arn;
    let mut store = state.lock();
    let group = store
        .dataset_groups
        .get(&arn)
        .ok_or_else(|| ApiError::not_found(&arn))?;
    if is_creating(&group.status) || is_deleting(&group.status) {
        return Err(ApiError::InUse(format!(
            "Dataset group {arn} is in status {} and cannot be deleted",
            group.status
        )));
    }
    let children = store
        .datasets
        .values()
        .filter(|d| d.dataset_group_arn == arn)
        .count()
        + store
            .solutions
            .values()
            .filter(|s| s.dataset_group_arn == arn)
            .count()
        + store
            .event_trackers
            .values()
            .filter(|t| t.dataset_group_arn == arn)
            .count()
        + store
            .filters
            .values()
            .filter(|f| f.dataset_group_arn == arn)
            .count();
    if children > 0 {
        return Err(ApiError::InUse(format!(
            "Cannot delete dataset group {arn}: it still has {children} child resource(s) \
             (datasets, solutions, event trackers or filters)"
        )));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}

/// The dataset group `arn`, which must exist and be ACTIVE, for a child's Create call.
pub fn require_active(store: &crate::store::Store, arn: &str) -> Result<DatasetGroup, ApiError> {
    let group = store
        .dataset_groups
        .get(arn)
        .ok_or_else(|| ApiError::not_found(arn))?;
    if group.status != lifecycle::ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset group {arn} is in status {}, not ACTIVE",
            group.status
        )));
    }
    Ok(group.clone())
}
