//! Filters: CreateFilter, DeleteFilter (Describe and List: `resource.rs`). Expressions are
//! checked by the engine's parser (through `serving.rs`) at create time.
//! Depends on the store, the wire layer and the serving bridge; never on the router.

use crate::resources::AppState;
use crate::resources::dataset_group::require_active;
use crate::resources::lifecycle::{self};
use crate::resources::resource::{ByArn, Created, begin_delete, reserve, start_new};
use crate::resources::serving;
use crate::resources::shapes::CreateFilter;
use crate::resources::tags::{self};
use crate::store::Entry;
use crate::store::model::Filter;
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len, check_name};

pub fn create(state: &AppState, req: CreateFilter) -> Result<Created<Filter>, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    check_len("filterExpression", &req.filter_expression, 1, 2500)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    serving::check_filter(&req.filter_expression)
        .map_err(|e| ApiError::InvalidInput(format!("Invalid filter expression: {e}")))?;
    let (arn, mut store) = reserve::<Filter>(state, "filter", &req.name)?;
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
    start_new(state, store, &arn, req.tags);
    Ok(Created::new(arn))
}

pub fn delete(state: &AppState, req: ByArn<Filter>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    lifecycle::start_delete(state, &mut store, &arn);
    drop(store);
    state.serving.forget(&arn);
    Ok(Empty {})
}
