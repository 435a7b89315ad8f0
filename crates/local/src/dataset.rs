//! Datasets: CreateDataset, UpdateDataset, DescribeDataset, ListDatasets, DeleteDataset.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::dataset_group::require_active;
use crate::error::ApiError;
use crate::lifecycle::{self, ACTIVE, is_creating, is_deleting};
use crate::names::{check_arn, check_name};
use crate::paging::page;
use crate::protocol::Empty;
use crate::schema::{check_for_type, parse_columns};
use crate::store::{Entry, Store};
use crate::tags::{self, Tag};

/// The Dataset shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub name: String,
    pub dataset_arn: String,
    pub dataset_group_arn: String,
    pub dataset_type: String,
    pub schema_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub latest_dataset_update: Option<DatasetUpdateSummary>,
    pub tracking_id: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetUpdateSummary {
    pub schema_arn: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// Normalises a dataset type (`Interactions` -> `INTERACTIONS`), rejecting unknown ones.
pub fn normalise_type(dataset_type: &str) -> Result<String, ApiError> {
    let upper = dataset_type.to_ascii_uppercase();
    match upper.as_str() {
        "INTERACTIONS" | "ITEMS" | "USERS" => Ok(upper),
        _ => Err(ApiError::InvalidInput(format!(
            "Invalid datasetType {dataset_type}: must be one of Interactions, Items, Users"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetRequest {
    pub name: String,
    pub schema_arn: String,
    pub dataset_group_arn: String,
    pub dataset_type: String,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetResponse {
    pub dataset_arn: String,
}

pub fn create(
    state: &AppState,
    req: CreateDatasetRequest,
) -> Result<CreateDatasetResponse, ApiError> {
    check_name("name", &req.name)?;
    check_arn("schemaArn", &req.schema_arn)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    let dataset_type = normalise_type(&req.dataset_type)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let mut store = state.lock();
    let group = require_active(&store, &req.dataset_group_arn)?;
    let schema = store
        .schemas
        .get(&req.schema_arn)
        .ok_or_else(|| ApiError::not_found(&req.schema_arn))?;
    let columns = parse_columns(&schema.schema).map_err(ApiError::InvalidInput)?;
    check_for_type(&columns, &dataset_type)
        .map_err(|e| ApiError::InvalidInput(format!("Schema does not fit the dataset: {e}")))?;
    let arn = state
        .arns
        .make("dataset", &format!("{}/{dataset_type}", group.name));
    if store.datasets.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Dataset group {} already has a {dataset_type} dataset",
            group.name
        )));
    }
    if store.datasets.values().any(|d| d.name == req.name) {
        return Err(ApiError::AlreadyExists(format!(
            "Dataset {} already exists",
            req.name
        )));
    }
    let now = store.now();
    let tracking_id = store
        .event_trackers
        .values()
        .find(|t| t.dataset_group_arn == req.dataset_group_arn)
        .filter(|_| dataset_type == "INTERACTIONS")
        .map(|t| t.tracking_id.clone());
    store.commit(Entry::Dataset(Dataset {
        name: req.name,
        dataset_arn: arn.clone(),
        dataset_group_arn: req.dataset_group_arn,
        dataset_type,
        schema_arn: req.schema_arn,
        status: lifecycle::initial_status(state).into(),
        creation_date_time: now,
        last_updated_date_time: now,
        latest_dataset_update: None,
        tracking_id,
    }));
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(CreateDatasetResponse { dataset_arn: arn })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDatasetRequest {
    pub dataset_arn: String,
    pub schema_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDatasetResponse {
    pub dataset_arn: String,
}

pub fn update(
    state: &AppState,
    req: UpdateDatasetRequest,
) -> Result<UpdateDatasetResponse, ApiError> {
    check_arn("datasetArn", &req.dataset_arn)?;
    check_arn("schemaArn", &req.schema_arn)?;
    let mut store = state.lock();
    let mut dataset = store
        .datasets
        .get(&req.dataset_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.dataset_arn))?;
    if dataset.status != ACTIVE
        || dataset
            .latest_dataset_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
    {
        return Err(ApiError::InUse(format!(
            "Dataset {} is being created or updated",
            req.dataset_arn
        )));
    }
    let schema = store
        .schemas
        .get(&req.schema_arn)
        .ok_or_else(|| ApiError::not_found(&req.schema_arn))?;
    let columns = parse_columns(&schema.schema).map_err(ApiError::InvalidInput)?;
    check_for_type(&columns, &dataset.dataset_type)
        .map_err(|e| ApiError::InvalidInput(format!("Schema does not fit the dataset: {e}")))?;
    let now = store.now();
    let status = lifecycle::update_initial_status(state);
    dataset.latest_dataset_update = Some(DatasetUpdateSummary {
        schema_arn: req.schema_arn.clone(),
        status: status.into(),
        failure_reason: None,
        creation_date_time: now,
        last_updated_date_time: now,
    });
    if status == ACTIVE {
        dataset.schema_arn = req.schema_arn;
    }
    dataset.last_updated_date_time = now;
    store.commit(Entry::Dataset(dataset));
    drop(store);
    lifecycle::start_update(state, req.dataset_arn.clone(), apply_update);
    Ok(UpdateDatasetResponse {
        dataset_arn: req.dataset_arn,
    })
}

/// Moves `latestDatasetUpdate` to `status`; at ACTIVE the dataset takes the new schema.
pub fn apply_update(store: &mut Store, arn: &str, status: &str) {
    let Some(mut dataset) = store.datasets.get(arn).cloned() else {
        return;
    };
    let now = store.now();
    let Some(update) = dataset.latest_dataset_update.as_mut() else {
        return;
    };
    update.status = status.into();
    update.last_updated_date_time = now;
    if status == ACTIVE {
        dataset.schema_arn = update.schema_arn.clone();
        dataset.last_updated_date_time = now;
    }
    store.commit(Entry::Dataset(dataset));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDatasetRequest {
    pub dataset_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDatasetResponse {
    pub dataset: Dataset,
}

pub fn describe(
    state: &AppState,
    req: DescribeDatasetRequest,
) -> Result<DescribeDatasetResponse, ApiError> {
    check_arn("datasetArn", &req.dataset_arn)?;
    let store = state.lock();
    let dataset = store
        .datasets
        .get(&req.dataset_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.dataset_arn))?;
    Ok(DescribeDatasetResponse { dataset })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDatasetsRequest {
    pub dataset_group_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSummary {
    pub name: String,
    pub dataset_arn: String,
    pub dataset_type: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDatasetsResponse {
    pub datasets: Vec<DatasetSummary>,
    pub next_token: Option<String>,
}

pub fn list(state: &AppState, req: ListDatasetsRequest) -> Result<ListDatasetsResponse, ApiError> {
    if let Some(arn) = &req.dataset_group_arn {
        check_arn("datasetGroupArn", arn)?;
    }
    let store = state.lock();
    let mut all: Vec<&Dataset> = store
        .datasets
        .values()
        .filter(|d| {
            req.dataset_group_arn
                .as_ref()
                .is_none_or(|g| &d.dataset_group_arn == g)
        })
        .collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|d| DatasetSummary {
            name: d.name.clone(),
            dataset_arn: d.dataset_arn.clone(),
            dataset_type: d.dataset_type.clone(),
            status: d.status.clone(),
            creation_date_time: d.creation_date_time,
            last_updated_date_time: d.last_updated_date_time,
        })
        .collect();
    let (datasets, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListDatasetsResponse {
        datasets,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDatasetRequest {
    pub dataset_arn: String,
}

pub fn delete(state: &AppState, req: DeleteDatasetRequest) -> Result<Empty, ApiError> {
    check_arn("datasetArn", &req.dataset_arn)?;
    let arn = req.dataset_arn;
    let mut store = state.lock();
    let dataset = store
        .datasets
        .get(&arn)
        .ok_or_else(|| ApiError::not_found(&arn))?;
    if is_creating(&dataset.status) || is_deleting(&dataset.status) {
        return Err(ApiError::InUse(format!(
            "Dataset {arn} is in status {} and cannot be deleted",
            dataset.status
        )));
    }
    if let Some(job) = store
        .import_jobs
        .values()
        .find(|j| j.dataset_arn == arn && is_creating(&j.status))
    {
        return Err(ApiError::InUse(format!(
            "Dataset {arn} has an import job in progress: {}",
            job.dataset_import_job_arn
        )));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}
