//! Solutions: CreateSolution, UpdateSolution, DeleteSolution, and the shape Describe and List
//! show. Versions are in `solution_version.rs`, the auto-training schedule in `auto_training.rs`,
//! what `solutionConfig` may ask for in `solution_config.rs`.
//! Depends on the store and the wire layer (and the dataset group it belongs to).

use crate::resources::AppState;
use crate::resources::auto_training::{self, check_schedule};
use crate::resources::dataset_group::require_active;
use crate::resources::lifecycle::{self, ACTIVE, is_creating};
use crate::resources::resource::{
    ByArn, Created, Described, Resource, begin_delete, get, reserve, start_new,
};
use crate::resources::shapes::{CreateSolution, UpdateSolution};
use crate::resources::solution_config;
use crate::resources::solution_version::{version_summary, versions_of};
use crate::resources::tags::{self};
use crate::resources::training;
use crate::store::model::{AutoTrainingConfig, Solution, SolutionConfig, SolutionUpdateSummary};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len, check_name};

pub fn create(state: &AppState, req: CreateSolution) -> Result<Created<Solution>, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    if let Some(event_type) = &req.event_type {
        check_len("eventType", event_type, 0, 256)?;
    }
    if req.perform_auto_ml == Some(true) {
        return Err(ApiError::InvalidInput(
            "performAutoML is not supported: give a recipeArn".into(),
        ));
    }
    let recipe_arn = req
        .recipe_arn
        .clone()
        .ok_or_else(|| ApiError::InvalidInput("recipeArn is required".into()))?;
    check_arn("recipeArn", &recipe_arn)?;
    if !training::recipe_supported(&recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "Recipe {recipe_arn} is not supported (see ListRecipes)"
        )));
    }
    if let Some(config) = &req.solution_config {
        solution_config::check(&recipe_arn, config)?;
    }
    if training::recipe_is_next_best_action(&recipe_arn) {
        crate::resources::next_best_action::check_solution(&req)?;
    }
    solution_config::check_incremental(req.perform_incremental_update)?;
    let mut config = req.solution_config.clone();
    let auto_training = req.perform_auto_training.unwrap_or(true);
    check_schedule(
        config
            .as_ref()
            .and_then(|c| c.auto_training_config.as_ref()),
    )?;
    if let Some(threshold) = config
        .as_ref()
        .and_then(|c| c.event_value_threshold.as_deref())
        && threshold.trim().parse::<f64>().is_err()
    {
        return Err(ApiError::InvalidInput(format!(
            "eventValueThreshold {threshold} is not a number"
        )));
    }
    if auto_training {
        let c = config.get_or_insert_with(SolutionConfig::default);
        let at = c
            .auto_training_config
            .get_or_insert_with(AutoTrainingConfig::default);
        at.scheduling_expression
            .get_or_insert_with(|| auto_training::DEFAULT_SCHEDULE.into());
    }
    let (arn, mut store) = reserve::<Solution>(state, "solution", &req.name)?;
    require_active(&store, &req.dataset_group_arn)?;
    let now = store.now();
    store.commit(Entry::Solution(Solution {
        name: req.name,
        solution_arn: arn.clone(),
        perform_hpo: Some(req.perform_hpo.unwrap_or(false)),
        perform_auto_ml: Some(false),
        perform_auto_training: Some(auto_training),
        perform_incremental_update: req.perform_incremental_update,
        recipe_arn: Some(recipe_arn),
        dataset_group_arn: req.dataset_group_arn,
        event_type: req.event_type,
        solution_config: config,
        status: lifecycle::initial_status(state).into(),
        creation_date_time: now,
        last_updated_date_time: now,
        latest_solution_version: None,
        latest_solution_update: None,
    }));
    start_new(state, store, &arn, req.tags);
    Ok(Created::new(arn))
}

/// DescribeSolution: the stored solution with its newest version.
pub fn describe(state: &AppState, req: ByArn<Solution>) -> Result<Described<Solution>, ApiError> {
    check_arn(Solution::ARN_MEMBER, &req.arn)?;
    let store = state.lock();
    let mut solution = get::<Solution>(&store, &req.arn)?.clone();
    solution.latest_solution_version = versions_of(&store, &req.arn)
        .first()
        .map(|v| version_summary(v));
    Ok(Described(solution))
}

pub fn update(state: &AppState, req: UpdateSolution) -> Result<Created<Solution>, ApiError> {
    check_arn("solutionArn", &req.solution_arn)?;
    check_schedule(
        req.solution_update_config
            .as_ref()
            .and_then(|c| c.auto_training_config.as_ref()),
    )?;
    solution_config::check_incremental(req.perform_incremental_update)?;
    let mut store = state.lock();
    let mut solution = get::<Solution>(&store, &req.solution_arn)?.clone();
    if let Some(events) = req
        .solution_update_config
        .as_ref()
        .and_then(|c| c.events_config.as_ref())
    {
        solution_config::check_events(solution.recipe_arn.as_deref().unwrap_or_default(), events)?;
    }
    if solution.status != ACTIVE
        || solution
            .latest_solution_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
    {
        return Err(ApiError::InUse(format!(
            "Solution {} is in status {} or already being updated",
            req.solution_arn, solution.status
        )));
    }
    let now = store.now();
    let status = lifecycle::update_initial_status(state);
    solution.latest_solution_update = Some(SolutionUpdateSummary {
        solution_update_config: req.solution_update_config,
        status: status.into(),
        perform_auto_training: req.perform_auto_training,
        perform_incremental_update: req.perform_incremental_update,
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
    });
    solution.last_updated_date_time = now;
    let entry = Entry::Solution(solution);
    lifecycle::begin_update(state, store, entry, &req.solution_arn, status, apply_update);
    Ok(Created::new(req.solution_arn))
}

/// Moves `latestSolutionUpdate` to `status`; at ACTIVE the solution takes the new settings.
pub fn apply_update(store: &mut Store, arn: &str, status: &str) {
    let Some(mut solution) = store.solutions.get(arn).cloned() else {
        return;
    };
    let now = store.now();
    let Some(update) = solution.latest_solution_update.clone() else {
        return;
    };
    if status == ACTIVE {
        if let Some(auto) = update.perform_auto_training {
            solution.perform_auto_training = Some(auto);
        }
        if let Some(incremental) = update.perform_incremental_update {
            solution.perform_incremental_update = Some(incremental);
        }
        if let Some(at) = update
            .solution_update_config
            .as_ref()
            .and_then(|c| c.auto_training_config.clone())
        {
            solution
                .solution_config
                .get_or_insert_with(SolutionConfig::default)
                .auto_training_config = Some(at);
        }
        // The next solution version trains with the new event types and weights.
        if let Some(events) = update
            .solution_update_config
            .as_ref()
            .and_then(|c| c.events_config.clone())
        {
            solution
                .solution_config
                .get_or_insert_with(SolutionConfig::default)
                .events_config = Some(events);
        }
        solution.last_updated_date_time = now;
    }
    if let Some(u) = solution.latest_solution_update.as_mut() {
        u.status = status.into();
        u.last_updated_date_time = now;
    }
    store.commit(Entry::Solution(solution));
}

pub fn delete(state: &AppState, req: ByArn<Solution>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    let versions = versions_of(&store, &arn);
    if let Some(v) = versions.iter().find(|v| is_creating(&v.status)) {
        return Err(ApiError::InUse(format!(
            "Solution {arn} has a solution version in progress: {} ({})",
            v.solution_version_arn, v.status
        )));
    }
    let prefix = format!("{arn}/");
    if let Some(c) = store.campaigns.values().find(|c| {
        c.solution_version_arn.starts_with(&prefix)
            || c.latest_campaign_update
                .as_ref()
                .and_then(|u| u.solution_version_arn.as_deref())
                .is_some_and(|v| v.starts_with(&prefix))
    }) {
        return Err(ApiError::InUse(format!(
            "Solution {arn} is used by campaign {}",
            c.campaign_arn
        )));
    }
    if let Some(job) = crate::resources::batch::running_job_of(&store, &prefix) {
        return Err(ApiError::InUse(format!(
            "Solution {arn} has a batch job in progress: {job}"
        )));
    }
    let version_arns: Vec<String> = versions
        .iter()
        .map(|v| v.solution_version_arn.clone())
        .collect();
    lifecycle::start_delete(state, &mut store, &arn);
    drop(store);
    for v in version_arns {
        state.serving.forget(&v);
    }
    Ok(Empty {})
}
