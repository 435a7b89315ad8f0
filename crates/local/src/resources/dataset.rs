//! Datasets: CreateDataset, UpdateDataset, DeleteDataset (Describe and List: `resource.rs`).
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::dataset_group::require_active;
use crate::resources::job;
use crate::resources::lifecycle::{self, ACTIVE, is_creating};
use crate::resources::resource::{ByArn, Created, begin_delete, get, start_new};
use crate::resources::schema::{check_for_type, parse_columns};
use crate::resources::shapes::{CreateDataset, UpdateDataset};
use crate::resources::tags::{self};
use crate::store::model::{
    Dataset, DatasetExportJob, DatasetImportJob, DatasetSchema, DatasetUpdateSummary,
};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

/// Normalises a dataset type (`Interactions` -> `INTERACTIONS`), rejecting unknown ones.
pub fn normalise_type(dataset_type: &str) -> Result<String, ApiError> {
    let upper = dataset_type.to_ascii_uppercase();
    match upper.as_str() {
        "INTERACTIONS" | "ITEMS" | "USERS" | "ACTIONS" | "ACTION_INTERACTIONS" => Ok(upper),
        _ => Err(ApiError::InvalidInput(format!(
            "Invalid datasetType {dataset_type}: must be one of Interactions, Items, Users, \
             Actions, Action_Interactions"
        ))),
    }
}

pub fn create(state: &AppState, req: CreateDataset) -> Result<Created<Dataset>, ApiError> {
    check_name("name", &req.name)?;
    check_arn("schemaArn", &req.schema_arn)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    let dataset_type = normalise_type(&req.dataset_type)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let mut store = state.lock();
    let group = require_active(&store, &req.dataset_group_arn)?;
    let schema = get::<DatasetSchema>(&store, &req.schema_arn)?;
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
    start_new(state, store, &arn, req.tags);
    Ok(Created::new(arn))
}

pub fn update(state: &AppState, req: UpdateDataset) -> Result<Created<Dataset>, ApiError> {
    check_arn("datasetArn", &req.dataset_arn)?;
    check_arn("schemaArn", &req.schema_arn)?;
    let mut store = state.lock();
    let mut dataset = get::<Dataset>(&store, &req.dataset_arn)?.clone();
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
    let schema = get::<DatasetSchema>(&store, &req.schema_arn)?;
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
    dataset.last_updated_date_time = now;
    let entry = Entry::Dataset(dataset);
    lifecycle::begin_update(state, store, entry, &req.dataset_arn, status, apply_update);
    Ok(Created::new(req.dataset_arn))
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

/// Dataset `arn` and its schema, for a job that reads or writes its rows.
pub fn with_schema<'s>(
    store: &'s Store,
    arn: &str,
) -> Result<(&'s Dataset, &'s DatasetSchema), String> {
    let dataset = store.datasets.get(arn).ok_or("the dataset was deleted")?;
    let schema = store
        .schemas
        .get(&dataset.schema_arn)
        .ok_or("the dataset's schema was deleted")?;
    Ok((dataset, schema))
}

pub fn delete(state: &AppState, req: ByArn<Dataset>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    let running = [
        ("an import", job::running::<DatasetImportJob>(&store, &arn)),
        ("an export", job::running::<DatasetExportJob>(&store, &arn)),
    ];
    if let Some((kind, job)) = running
        .into_iter()
        .find_map(|(kind, job)| Some((kind, job?)))
    {
        return Err(ApiError::InUse(format!(
            "Dataset {arn} has {kind} job in progress: {job}"
        )));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}
