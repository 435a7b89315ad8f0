//! Solution versions: CreateSolutionVersion, StopSolutionVersionCreation, GetSolutionMetrics,
//! and the shape Describe and List show. Training itself is in `training.rs`; this module only
//! records versions. Depends on the store, the wire layer and the solution module.

use crate::resources::AppState;
use crate::resources::lifecycle::{
    ACTIVE, CREATE_FAILED, CREATE_PENDING, CREATE_STOPPING, is_creating,
};
use crate::resources::resource::{self, ByArn, Created, ListRequest, Listed, Resource, get};
use crate::resources::shapes::CreateSolutionVersion;
use crate::resources::shapes::GetSolutionMetricsResponse;
use crate::resources::tags::{self};
use crate::resources::training;
use crate::store::model::{Solution, SolutionVersion, SolutionVersionSummary};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name, stable_hash};

/// What a solution shows of one of its versions.
pub fn version_summary(v: &SolutionVersion) -> SolutionVersionSummary {
    SolutionVersionSummary {
        solution_version_arn: v.solution_version_arn.clone(),
        status: v.status.clone(),
        training_mode: v.training_mode.clone(),
        training_type: v.training_type.clone(),
        creation_date_time: v.creation_date_time,
        last_updated_date_time: v.last_updated_date_time,
        failure_reason: v.failure_reason.clone(),
    }
}

/// ListSolutionVersions: NotFound for a solution that does not exist, not an empty list.
pub fn list(
    state: &AppState,
    req: ListRequest<SolutionVersion>,
) -> Result<Listed<SolutionVersion>, ApiError> {
    if let Some(solution_arn) = &req.parent {
        check_arn("solutionArn", solution_arn)?;
        get::<Solution>(&state.lock(), solution_arn)?;
    }
    resource::list(state, req)
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

pub fn create_version(
    state: &AppState,
    req: CreateSolutionVersion,
) -> Result<Created<SolutionVersion>, ApiError> {
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
    let solution = get::<Solution>(&store, &req.solution_arn)?.clone();
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
    Ok(Created::new(arn))
}

/// Records a new CREATE PENDING version of `solution` (the caller starts training).
pub fn insert_version(
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

pub fn stop_version(state: &AppState, req: ByArn<SolutionVersion>) -> Result<Empty, ApiError> {
    check_arn(SolutionVersion::ARN_MEMBER, &req.arn)?;
    let mut store = state.lock();
    let mut version = get::<SolutionVersion>(&store, &req.arn)?.clone();
    if version.status == CREATE_STOPPING {
        return Ok(Empty {});
    }
    if !is_creating(&version.status) {
        return Err(ApiError::InvalidInput(format!(
            "Solution version {} is in status {}; only a version being created can be stopped",
            req.arn, version.status
        )));
    }
    let now = store.now();
    version.status = CREATE_STOPPING.into();
    version.last_updated_date_time = now;
    store.commit(Entry::SolutionVersion(version));
    Ok(Empty {})
}

pub fn metrics(
    state: &AppState,
    req: ByArn<SolutionVersion>,
) -> Result<GetSolutionMetricsResponse, ApiError> {
    check_arn(SolutionVersion::ARN_MEMBER, &req.arn)?;
    let store = state.lock();
    let version = get::<SolutionVersion>(&store, &req.arn)?;
    if version.status == CREATE_FAILED || version.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Solution version {} is in status {}, metrics exist only for ACTIVE versions",
            req.arn, version.status
        )));
    }
    let metrics = store
        .trained
        .get(&req.arn)
        .map(|m| m.metrics.clone())
        .unwrap_or_default();
    Ok(GetSolutionMetricsResponse {
        solution_version_arn: req.arn,
        metrics,
    })
}
