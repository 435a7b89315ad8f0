//! Solutions and solution versions: CreateSolution, UpdateSolution, DescribeSolution,
//! ListSolutions, DeleteSolution, CreateSolutionVersion, DescribeSolutionVersion,
//! ListSolutionVersions, StopSolutionVersionCreation, GetSolutionMetrics. Training itself is in
//! `training.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::dataset_group::require_active;
use crate::error::ApiError;
use crate::lifecycle::{
    self, ACTIVE, CREATE_FAILED, CREATE_PENDING, CREATE_STOPPING, is_creating, is_deleting,
};
use crate::names::{check_arn, check_len, check_name, stable_hash};
use crate::paging::page;
use crate::protocol::Empty;
use crate::store::{Entry, Store};
use crate::tags::{self, Tag};
use crate::training;

/// `solutionConfig`: the members the server uses are typed, the rest is kept as given.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionConfig {
    pub event_value_threshold: Option<String>,
    pub algorithm_hyper_parameters: Option<BTreeMap<String, String>>,
    pub feature_transformation_parameters: Option<BTreeMap<String, String>>,
    pub auto_training_config: Option<AutoTrainingConfig>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoTrainingConfig {
    pub scheduling_expression: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionUpdateConfig {
    pub auto_training_config: Option<AutoTrainingConfig>,
    pub events_config: Option<serde_json::Value>,
}

/// The Solution shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Solution {
    pub name: String,
    pub solution_arn: String,
    #[serde(rename = "performHPO")]
    pub perform_hpo: Option<bool>,
    #[serde(rename = "performAutoML")]
    pub perform_auto_ml: Option<bool>,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub recipe_arn: Option<String>,
    pub dataset_group_arn: String,
    pub event_type: Option<String>,
    pub solution_config: Option<SolutionConfig>,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub latest_solution_version: Option<SolutionVersionSummary>,
    pub latest_solution_update: Option<SolutionUpdateSummary>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionUpdateSummary {
    pub solution_update_config: Option<SolutionUpdateConfig>,
    pub status: String,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

/// The SolutionVersion shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionVersion {
    pub name: Option<String>,
    pub solution_version_arn: String,
    pub solution_arn: String,
    #[serde(rename = "performHPO")]
    pub perform_hpo: Option<bool>,
    #[serde(rename = "performAutoML")]
    pub perform_auto_ml: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub recipe_arn: Option<String>,
    pub event_type: Option<String>,
    pub dataset_group_arn: String,
    pub solution_config: Option<SolutionConfig>,
    pub training_hours: Option<f64>,
    pub training_mode: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub training_type: String,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionVersionSummary {
    pub solution_version_arn: String,
    pub status: String,
    pub training_mode: String,
    pub training_type: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

impl SolutionVersion {
    fn summary(&self) -> SolutionVersionSummary {
        SolutionVersionSummary {
            solution_version_arn: self.solution_version_arn.clone(),
            status: self.status.clone(),
            training_mode: self.training_mode.clone(),
            training_type: self.training_type.clone(),
            creation_date_time: self.creation_date_time,
            last_updated_date_time: self.last_updated_date_time,
            failure_reason: self.failure_reason.clone(),
        }
    }
}

/// Checks `rate(N day[s])` with N in 1..=30.
fn check_schedule(config: Option<&AutoTrainingConfig>) -> Result<(), ApiError> {
    let Some(expr) = config.and_then(|c| c.scheduling_expression.as_deref()) else {
        return Ok(());
    };
    let days = expr
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.strip_suffix(" days").or_else(|| r.strip_suffix(" day")))
        .and_then(|n| n.parse::<u32>().ok());
    match days {
        Some(1..=30) => Ok(()),
        _ => Err(ApiError::InvalidInput(format!(
            "Invalid schedulingExpression {expr}: must be rate(N days) with N between 1 and 30"
        ))),
    }
}

/// Versions of a solution, newest first.
pub fn versions_of<'a>(store: &'a Store, solution_arn: &str) -> Vec<&'a SolutionVersion> {
    let mut versions: Vec<&SolutionVersion> = store
        .solution_versions
        .values()
        .filter(|v| v.solution_arn == solution_arn)
        .collect();
    versions.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    versions
}

/// The newest ACTIVE version of a solution (what `$LATEST` serves).
pub fn latest_active(store: &Store, solution_arn: &str) -> Option<String> {
    versions_of(store, solution_arn)
        .into_iter()
        .find(|v| v.status == ACTIVE)
        .map(|v| v.solution_version_arn.clone())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolutionRequest {
    pub name: String,
    #[serde(rename = "performHPO")]
    pub perform_hpo: Option<bool>,
    #[serde(rename = "performAutoML")]
    pub perform_auto_ml: Option<bool>,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub recipe_arn: Option<String>,
    pub dataset_group_arn: String,
    pub event_type: Option<String>,
    pub solution_config: Option<SolutionConfig>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolutionResponse {
    pub solution_arn: String,
}

pub fn create(
    state: &AppState,
    req: CreateSolutionRequest,
) -> Result<CreateSolutionResponse, ApiError> {
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
            .get_or_insert_with(|| "rate(7 days)".into());
    }
    let arn = state.arns.make("solution", &req.name);
    let mut store = state.lock();
    if store.solutions.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Solution {} already exists",
            req.name
        )));
    }
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
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(CreateSolutionResponse { solution_arn: arn })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSolutionRequest {
    pub solution_arn: String,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub solution_update_config: Option<SolutionUpdateConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSolutionResponse {
    pub solution_arn: String,
}

pub fn update(
    state: &AppState,
    req: UpdateSolutionRequest,
) -> Result<UpdateSolutionResponse, ApiError> {
    check_arn("solutionArn", &req.solution_arn)?;
    check_schedule(
        req.solution_update_config
            .as_ref()
            .and_then(|c| c.auto_training_config.as_ref()),
    )?;
    let mut store = state.lock();
    let mut solution = store
        .solutions
        .get(&req.solution_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.solution_arn))?;
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
    store.commit(Entry::Solution(solution));
    if status == ACTIVE {
        apply_update(&mut store, &req.solution_arn, ACTIVE);
    }
    drop(store);
    lifecycle::start_update(state, req.solution_arn.clone(), apply_update);
    Ok(UpdateSolutionResponse {
        solution_arn: req.solution_arn,
    })
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
        solution.last_updated_date_time = now;
    }
    if let Some(u) = solution.latest_solution_update.as_mut() {
        u.status = status.into();
        u.last_updated_date_time = now;
    }
    store.commit(Entry::Solution(solution));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSolutionRequest {
    pub solution_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSolutionResponse {
    pub solution: Solution,
}

pub fn describe(
    state: &AppState,
    req: DescribeSolutionRequest,
) -> Result<DescribeSolutionResponse, ApiError> {
    check_arn("solutionArn", &req.solution_arn)?;
    let store = state.lock();
    let mut solution = store
        .solutions
        .get(&req.solution_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.solution_arn))?;
    solution.latest_solution_version = versions_of(&store, &req.solution_arn)
        .first()
        .map(|v| v.summary());
    Ok(DescribeSolutionResponse { solution })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSolutionsRequest {
    pub dataset_group_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionSummary {
    pub name: String,
    pub solution_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub recipe_arn: Option<String>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSolutionsResponse {
    pub solutions: Vec<SolutionSummary>,
    pub next_token: Option<String>,
}

pub fn list(
    state: &AppState,
    req: ListSolutionsRequest,
) -> Result<ListSolutionsResponse, ApiError> {
    if let Some(arn) = &req.dataset_group_arn {
        check_arn("datasetGroupArn", arn)?;
    }
    let store = state.lock();
    let mut all: Vec<&Solution> = store
        .solutions
        .values()
        .filter(|s| {
            req.dataset_group_arn
                .as_ref()
                .is_none_or(|g| &s.dataset_group_arn == g)
        })
        .collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|s| SolutionSummary {
            name: s.name.clone(),
            solution_arn: s.solution_arn.clone(),
            status: s.status.clone(),
            creation_date_time: s.creation_date_time,
            last_updated_date_time: s.last_updated_date_time,
            recipe_arn: s.recipe_arn.clone(),
        })
        .collect();
    let (solutions, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListSolutionsResponse {
        solutions,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteSolutionRequest {
    pub solution_arn: String,
}

pub fn delete(state: &AppState, req: DeleteSolutionRequest) -> Result<Empty, ApiError> {
    check_arn("solutionArn", &req.solution_arn)?;
    let arn = req.solution_arn;
    let mut store = state.lock();
    let solution = store
        .solutions
        .get(&arn)
        .ok_or_else(|| ApiError::not_found(&arn))?;
    if is_creating(&solution.status) || is_deleting(&solution.status) {
        return Err(ApiError::InUse(format!(
            "Solution {arn} is in status {} and cannot be deleted",
            solution.status
        )));
    }
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolutionVersionRequest {
    pub name: Option<String>,
    pub solution_arn: String,
    pub training_mode: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolutionVersionResponse {
    pub solution_version_arn: String,
}

pub fn create_version(
    state: &AppState,
    req: CreateSolutionVersionRequest,
) -> Result<CreateSolutionVersionResponse, ApiError> {
    check_arn("solutionArn", &req.solution_arn)?;
    if let Some(name) = &req.name {
        check_name("name", name)?;
    }
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let training_mode = req.training_mode.clone().unwrap_or_else(|| "FULL".into());
    if !["FULL", "UPDATE", "AUTOTRAIN"].contains(&training_mode.as_str()) {
        return Err(ApiError::InvalidInput(format!(
            "Invalid trainingMode {training_mode}: must be FULL, UPDATE or AUTOTRAIN"
        )));
    }
    let mut store = state.lock();
    let solution = store
        .solutions
        .get(&req.solution_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.solution_arn))?;
    if solution.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Solution {} is in status {}, not ACTIVE",
            req.solution_arn, solution.status
        )));
    }
    let versions = versions_of(&store, &req.solution_arn);
    if let Some(v) = versions.iter().find(|v| is_creating(&v.status)) {
        return Err(ApiError::InUse(format!(
            "Solution {} already has a solution version in progress: {}",
            req.solution_arn, v.solution_version_arn
        )));
    }
    if let Some(name) = &req.name
        && versions.iter().any(|v| v.name.as_ref() == Some(name))
    {
        return Err(ApiError::AlreadyExists(format!(
            "Solution version {name} already exists"
        )));
    }
    if training_mode == "UPDATE" {
        let recipe = solution.recipe_arn.clone().unwrap_or_default();
        if !training::recipe_supports_update(&recipe) {
            return Err(ApiError::InvalidInput(format!(
                "trainingMode UPDATE is not supported for recipe {recipe}"
            )));
        }
        if !versions
            .iter()
            .any(|v| v.status == ACTIVE && v.training_mode == "FULL")
        {
            return Err(ApiError::InvalidInput(
                "trainingMode UPDATE needs an ACTIVE solution version trained with FULL".into(),
            ));
        }
    }
    let arn = insert_version(&mut store, &solution, req.name, training_mode);
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    training::start(state, arn.clone());
    Ok(CreateSolutionVersionResponse {
        solution_version_arn: arn,
    })
}

/// Records a new CREATE PENDING version of `solution` (the caller starts training).
fn insert_version(
    store: &mut Store,
    solution: &Solution,
    name: Option<String>,
    training_mode: String,
) -> String {
    let n = store.next_counter(&format!("solution-version:{}", solution.solution_arn));
    let id = format!(
        "{:08x}",
        stable_hash(&[&solution.solution_arn, &n.to_string()]) & 0xffff_ffff
    );
    let arn = format!("{}/{id}", solution.solution_arn);
    let now = store.now();
    store.commit(Entry::SolutionVersion(SolutionVersion {
        name,
        solution_version_arn: arn.clone(),
        solution_arn: solution.solution_arn.clone(),
        perform_hpo: solution.perform_hpo,
        perform_auto_ml: solution.perform_auto_ml,
        perform_incremental_update: solution.perform_incremental_update,
        recipe_arn: solution.recipe_arn.clone(),
        event_type: solution.event_type.clone(),
        dataset_group_arn: solution.dataset_group_arn.clone(),
        solution_config: solution.solution_config.clone(),
        training_hours: None,
        training_type: if training_mode == "AUTOTRAIN" {
            "AUTOMATIC".into()
        } else {
            "MANUAL".into()
        },
        training_mode,
        status: CREATE_PENDING.into(),
        failure_reason: None,
        creation_date_time: now,
        last_updated_date_time: now,
    }));
    arn
}

/// Days between automatic trainings (`rate(N days)`, default 7).
fn auto_training_days(solution: &Solution) -> f64 {
    solution
        .solution_config
        .as_ref()
        .and_then(|c| c.auto_training_config.as_ref())
        .and_then(|a| a.scheduling_expression.as_deref())
        .and_then(|e| e.strip_prefix("rate("))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(7.0)
}

/// Auto-training (`performAutoTraining`, AWS's default): a solution's first AUTOTRAIN version
/// `first_delay` after creation, then one every `rate(N days)` after its newest version. Runs
/// every `tick` until the server stops.
pub async fn auto_train(state: std::sync::Weak<crate::Shared>, first_delay: std::time::Duration) {
    let tick = (first_delay / 4).clamp(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_secs(60),
    );
    loop {
        tokio::time::sleep(tick).await;
        let Some(state) = state.upgrade() else { return };
        let due: Vec<String> = {
            let mut store = state.lock();
            let now = store.now();
            let mut due = Vec::new();
            let solutions: Vec<Solution> = store
                .solutions
                .values()
                .filter(|s| s.status == ACTIVE && s.perform_auto_training == Some(true))
                .cloned()
                .collect();
            for solution in solutions {
                let versions = versions_of(&store, &solution.solution_arn);
                if versions.iter().any(|v| is_creating(&v.status)) {
                    continue;
                }
                let next = match versions.first() {
                    None => solution.creation_date_time + first_delay.as_secs_f64(),
                    Some(v) => v.creation_date_time + auto_training_days(&solution) * 86_400.0,
                };
                if now >= next {
                    due.push(insert_version(
                        &mut store,
                        &solution,
                        None,
                        "AUTOTRAIN".into(),
                    ));
                }
            }
            due
        };
        for arn in due {
            tracing::info!(%arn, "auto-training started a solution version");
            training::start(&state, arn);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSolutionVersionRequest {
    pub solution_version_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSolutionVersionResponse {
    pub solution_version: SolutionVersion,
}

pub fn describe_version(
    state: &AppState,
    req: DescribeSolutionVersionRequest,
) -> Result<DescribeSolutionVersionResponse, ApiError> {
    check_arn("solutionVersionArn", &req.solution_version_arn)?;
    let store = state.lock();
    let solution_version = store
        .solution_versions
        .get(&req.solution_version_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.solution_version_arn))?;
    Ok(DescribeSolutionVersionResponse { solution_version })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSolutionVersionsRequest {
    pub solution_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSolutionVersionsResponse {
    pub solution_versions: Vec<SolutionVersionSummary>,
    pub next_token: Option<String>,
}

pub fn list_versions(
    state: &AppState,
    req: ListSolutionVersionsRequest,
) -> Result<ListSolutionVersionsResponse, ApiError> {
    let store = state.lock();
    let mut all: Vec<&SolutionVersion> = match &req.solution_arn {
        Some(arn) => {
            check_arn("solutionArn", arn)?;
            if !store.solutions.contains_key(arn) {
                return Err(ApiError::not_found(arn));
            }
            versions_of(&store, arn)
        }
        None => store.solution_versions.values().collect(),
    };
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all.into_iter().map(SolutionVersion::summary).collect();
    let (solution_versions, next_token) =
        page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListSolutionVersionsResponse {
        solution_versions,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopSolutionVersionCreationRequest {
    pub solution_version_arn: String,
}

pub fn stop_version(
    state: &AppState,
    req: StopSolutionVersionCreationRequest,
) -> Result<Empty, ApiError> {
    check_arn("solutionVersionArn", &req.solution_version_arn)?;
    let mut store = state.lock();
    let mut version = store
        .solution_versions
        .get(&req.solution_version_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.solution_version_arn))?;
    if version.status == CREATE_STOPPING {
        return Ok(Empty {});
    }
    if !is_creating(&version.status) {
        return Err(ApiError::InvalidInput(format!(
            "Solution version {} is in status {}; only a version being created can be stopped",
            req.solution_version_arn, version.status
        )));
    }
    let now = store.now();
    version.status = CREATE_STOPPING.into();
    version.last_updated_date_time = now;
    store.commit(Entry::SolutionVersion(version));
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetSolutionMetricsRequest {
    pub solution_version_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetSolutionMetricsResponse {
    pub solution_version_arn: String,
    pub metrics: BTreeMap<String, f64>,
}

pub fn metrics(
    state: &AppState,
    req: GetSolutionMetricsRequest,
) -> Result<GetSolutionMetricsResponse, ApiError> {
    check_arn("solutionVersionArn", &req.solution_version_arn)?;
    let store = state.lock();
    let version = store
        .solution_versions
        .get(&req.solution_version_arn)
        .ok_or_else(|| ApiError::not_found(&req.solution_version_arn))?;
    if version.status == CREATE_FAILED || version.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Solution version {} is in status {}, metrics exist only for ACTIVE versions",
            req.solution_version_arn, version.status
        )));
    }
    let metrics = store
        .trained
        .get(&req.solution_version_arn)
        .map(|m| m.metrics.clone())
        .unwrap_or_default();
    Ok(GetSolutionMetricsResponse {
        solution_version_arn: req.solution_version_arn,
        metrics,
    })
}
