//! Filters: CreateFilter, DescribeFilter, ListFilters, DeleteFilter. Expressions are checked by
//! the engine's parser (through `serving.rs`) at create time.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::dataset_group::require_active;
use crate::error::ApiError;
use crate::lifecycle::{self, is_creating, is_deleting};
use crate::names::{check_arn, check_len, check_name};
use crate::paging::page;
use crate::protocol::Empty;
use crate::serving;
use crate::store::Entry;
use crate::tags::{self, Tag};

/// The Filter shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub name: String,
    pub filter_arn: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub dataset_group_arn: String,
    pub failure_reason: Option<String>,
    pub filter_expression: String,
    pub status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFilterRequest {
    pub name: String,
    pub dataset_group_arn: String,
    pub filter_expression: String,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFilterResponse {
    pub filter_arn: String,
}

pub fn create(
    state: &AppState,
    req: CreateFilterRequest,
) -> Result<CreateFilterResponse, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    check_len("filterExpression", &req.filter_expression, 1, 2500)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    serving::check_filter(&req.filter_expression)
        .map_err(|e| ApiError::InvalidInput(format!("Invalid filter expression: {e}")))?;
    let arn = state.arns.make("filter", &req.name);
    let mut store = state.lock();
    if store.filters.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Filter {} already exists",
            req.name
        )));
    }
    require_active(&store, &req.dataset_group_arn)?;
    let now = store.now();
    store.commit(Entry::Filter(Filter {
        name: req.name,
        filter_arn: arn.clone(),
        creation_date_time: now,
        last_updated_date_time: now,
        dataset_group_arn: req.dataset_group_arn,
        failure_reason: None,
        filter_expression: req.filter_expression,
        status: lifecycle::initial_status(state).into(),
    }));
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(CreateFilterResponse { filter_arn: arn })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeFilterRequest {
    pub filter_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeFilterResponse {
    pub filter: Filter,
}

pub fn describe(
    state: &AppState,
    req: DescribeFilterRequest,
) -> Result<DescribeFilterResponse, ApiError> {
    check_arn("filterArn", &req.filter_arn)?;
    let store = state.lock();
    let filter = store
        .filters
        .get(&req.filter_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.filter_arn))?;
    Ok(DescribeFilterResponse { filter })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFiltersRequest {
    pub dataset_group_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSummary {
    pub name: String,
    pub filter_arn: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub dataset_group_arn: String,
    pub failure_reason: Option<String>,
    pub status: String,
}

/// Note the model's capitalised `Filters` member.
#[skip_serializing_none]
#[derive(Serialize)]
pub struct ListFiltersResponse {
    #[serde(rename = "Filters")]
    pub filters: Vec<FilterSummary>,
    #[serde(rename = "nextToken")]
    pub next_token: Option<String>,
}

pub fn list(state: &AppState, req: ListFiltersRequest) -> Result<ListFiltersResponse, ApiError> {
    if let Some(arn) = &req.dataset_group_arn {
        check_arn("datasetGroupArn", arn)?;
    }
    let store = state.lock();
    let mut all: Vec<&Filter> = store
        .filters
        .values()
        .filter(|f| {
            req.dataset_group_arn
                .as_ref()
                .is_none_or(|g| &f.dataset_group_arn == g)
        })
        .collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|f| FilterSummary {
            name: f.name.clone(),
            filter_arn: f.filter_arn.clone(),
            creation_date_time: f.creation_date_time,
            last_updated_date_time: f.last_updated_date_time,
            dataset_group_arn: f.dataset_group_arn.clone(),
            failure_reason: f.failure_reason.clone(),
            status: f.status.clone(),
        })
        .collect();
    let (filters, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListFiltersResponse {
        filters,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFilterRequest {
    pub filter_arn: String,
}

pub fn delete(state: &AppState, req: DeleteFilterRequest) -> Result<Empty, ApiError> {
    check_arn("filterArn", &req.filter_arn)?;
    let arn = req.filter_arn;
    let mut store = state.lock();
    let filter = store
        .filters
        .get(&arn)
        .ok_or_else(|| ApiError::not_found(&arn))?;
    if is_creating(&filter.status) || is_deleting(&filter.status) {
        return Err(ApiError::InUse(format!(
            "Filter {arn} is in status {} and cannot be deleted",
            filter.status
        )));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    drop(store);
    state.serving.forget(&arn);
    Ok(Empty {})
}
