//! Recommenders: CreateRecommender, UpdateRecommender, DeleteRecommender, StartRecommender,
//! StopRecommender (Describe and List: `resource.rs`), their training and state machines, and
//! GetRecommendations with `recommenderArn`.
//!
//! A recommender belongs to a Domain dataset group and takes a domain use case as its recipe
//! (`use_case.rs` maps each to an engine recipe). Creating one trains it like a solution version
//! (`CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE | CREATE FAILED`); its model is kept under the
//! recommender's ARN (in `Store::trained`, a file under `<data-dir>/models/`, the serving cache).
//! `STOP PENDING -> STOP IN_PROGRESS -> INACTIVE` and `START PENDING -> START IN_PROGRESS ->
//! ACTIVE` follow Stop/StartRecommender. UpdateRecommender runs `latestRecommenderUpdate`
//! (`CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE | CREATE FAILED`); a changed
//! `trainingDataConfig` retrains, and the recommender serves its old model and configuration
//! until the update is ACTIVE. After a restart, [`resume`] restarts every interrupted driver.
//! Depends on the store, the wire layer, the engine bridges and the runtime; never on the router.

use std::collections::BTreeMap;
use std::sync::Arc;

use personalize_engine as engine;

use crate::resources::AppState;
use crate::resources::campaign::check_exploration;
use crate::resources::dataset_group::require_active;
use crate::resources::lifecycle::{
    self, ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING, is_creating, is_deleting,
    pause, step,
};
use crate::resources::promotion;
use crate::resources::resource::{ByArn, Created, begin_delete, get, reserve};
use crate::resources::runtime::{self, Source};
use crate::resources::serving;
use crate::resources::shapes::{
    CreateRecommender, GetRecommendationsRequest, GetRecommendationsResponse, UpdateRecommender,
};
use crate::resources::tags;
use crate::resources::training::{interactions_of, records_of};
use crate::resources::training_data;
use crate::resources::use_case::{self, Need, UseCase};
use crate::store::model::{Filter, Recommender, RecommenderConfig, RecommenderUpdateSummary};
use crate::store::{Entry, Store, TrainedMeta};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name, stable_hash};

pub const STOP_PENDING: &str = "STOP PENDING";
pub const STOP_IN_PROGRESS: &str = "STOP IN_PROGRESS";
pub const INACTIVE: &str = "INACTIVE";
pub const START_PENDING: &str = "START PENDING";
pub const START_IN_PROGRESS: &str = "START IN_PROGRESS";

const STOPPING: [&str; 3] = [STOP_PENDING, STOP_IN_PROGRESS, INACTIVE];
const STARTING: [&str; 3] = [START_PENDING, START_IN_PROGRESS, ACTIVE];

/// Checks a `recommenderConfig` against the use case it is for.
fn check_config(config: Option<&RecommenderConfig>, use_case: &UseCase) -> Result<(), ApiError> {
    let Some(config) = config else {
        return Ok(());
    };
    if config
        .min_recommendation_requests_per_second
        .is_some_and(|r| r < 1)
    {
        return Err(ApiError::InvalidInput(
            "minRecommendationRequestsPerSecond must be at least 1".into(),
        ));
    }
    if let Some(exploration) = &config.item_exploration_config {
        if !use_case.explores && !exploration.is_empty() {
            return Err(ApiError::InvalidInput(format!(
                "itemExplorationConfig applies only to use cases that personalize for a user \
                 (aws-vod-top-picks, aws-ecomm-recommended-for-you), not {}",
                use_case.name
            )));
        }
        check_exploration(exploration)?;
    }
    if let Some(training) = &config.training_data_config {
        training_data::check(training)?;
    }
    if let Some(member) = config.other.keys().next() {
        return Err(ApiError::InvalidInput(format!(
            "recommenderConfig.{member} is not supported by personalize-local"
        )));
    }
    Ok(())
}

/// The use case of a domain recipe ARN, or `InvalidInputException`.
fn use_case_of(recipe_arn: &str) -> Result<&'static UseCase, ApiError> {
    use_case::by_arn(recipe_arn).ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "Recipe {recipe_arn} is not a domain use case: a recommender takes the recipe ARN \
             of a VIDEO_ON_DEMAND or ECOMMERCE use case (ListRecipes with domain lists them)"
        ))
    })
}

pub fn create(state: &AppState, req: CreateRecommender) -> Result<Created<Recommender>, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    check_arn("recipeArn", &req.recipe_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let use_case = use_case_of(&req.recipe_arn)?;
    check_config(req.recommender_config.as_ref(), use_case)?;
    let (arn, mut store) = reserve::<Recommender>(state, "recommender", &req.name)?;
    let group = require_active(&store, &req.dataset_group_arn)?;
    match group.domain.as_deref() {
        None => {
            return Err(ApiError::InvalidInput(format!(
                "Dataset group {} is not a Domain dataset group: recommenders can be created \
                 only in a Domain dataset group (VIDEO_ON_DEMAND or ECOMMERCE); use a solution \
                 and a campaign instead",
                req.dataset_group_arn
            )));
        }
        Some(domain) if domain != use_case.domain => {
            return Err(ApiError::InvalidInput(format!(
                "Recipe {} is a {} use case; dataset group {} is in domain {domain}",
                req.recipe_arn, use_case.domain, req.dataset_group_arn
            )));
        }
        Some(_) => {}
    }
    let now = store.now();
    let mut config = req.recommender_config.unwrap_or_default();
    config.min_recommendation_requests_per_second =
        Some(config.min_recommendation_requests_per_second.unwrap_or(1));
    store.commit(Entry::Recommender(Recommender {
        recommender_arn: arn.clone(),
        dataset_group_arn: req.dataset_group_arn,
        name: req.name,
        recipe_arn: req.recipe_arn,
        recommender_config: Some(config),
        creation_date_time: now,
        last_updated_date_time: now,
        status: CREATE_PENDING.into(),
        failure_reason: None,
        latest_recommender_update: None,
        model_metrics: None,
    }));
    tags::set_on_create(&mut store, &arn, req.tags);
    drop(store);
    tokio::spawn(drive_create(Arc::clone(state), arn.clone()));
    Ok(Created::new(arn))
}

pub fn update(state: &AppState, req: UpdateRecommender) -> Result<Created<Recommender>, ApiError> {
    check_arn("recommenderArn", &req.recommender_arn)?;
    let mut store = state.lock();
    let mut recommender = get::<Recommender>(&store, &req.recommender_arn)?.clone();
    check_config(
        Some(&req.recommender_config),
        use_case_of(&recommender.recipe_arn)?,
    )?;
    let busy = match &recommender.latest_recommender_update {
        Some(u) if is_creating(&u.status) => Some(format!("an update in {}", u.status)),
        _ => (recommender.status != ACTIVE).then(|| format!("status {}", recommender.status)),
    };
    if let Some(busy) = busy {
        let arn = &req.recommender_arn;
        return Err(ApiError::InUse(format!(
            "Recommender {arn} has {busy}: only an ACTIVE recommender without an update in \
             progress can be updated"
        )));
    }
    let mut config = req.recommender_config;
    config.min_recommendation_requests_per_second =
        Some(config.min_recommendation_requests_per_second.unwrap_or(1));
    let retrain = needs_retraining(&recommender, &config);
    let now = store.now();
    let status = if state.config.transition.is_zero() && !retrain {
        ACTIVE
    } else {
        CREATE_PENDING
    };
    recommender.latest_recommender_update = Some(RecommenderUpdateSummary {
        recommender_config: Some(config),
        creation_date_time: now,
        last_updated_date_time: now,
        status: CREATE_PENDING.into(),
        failure_reason: None,
    });
    recommender.last_updated_date_time = now;
    store.commit(Entry::Recommender(recommender));
    if status == ACTIVE {
        apply_update(&mut store, &req.recommender_arn, ACTIVE, None);
    } else {
        drop(store);
        tokio::spawn(drive_update(Arc::clone(state), req.recommender_arn.clone()));
    }
    Ok(Created::new(req.recommender_arn))
}

/// Whether an update changes what training reads (AWS then retrains in full).
fn needs_retraining(recommender: &Recommender, config: &RecommenderConfig) -> bool {
    let current = recommender
        .recommender_config
        .as_ref()
        .and_then(|c| c.training_data_config.as_ref());
    current.cloned().unwrap_or_default() != config.training_data_config.clone().unwrap_or_default()
}

/// Moves `latestRecommenderUpdate` to `status`; at ACTIVE the recommender takes the new
/// configuration (and `metrics` of the model trained for it, if retrained).
fn apply_update(
    store: &mut Store,
    arn: &str,
    status: &str,
    outcome: Option<Result<BTreeMap<String, f64>, String>>,
) {
    let now = store.now();
    let mut recommender = match store.recommenders.get(arn) {
        Some(r) if r.latest_recommender_update.is_some() => r.clone(),
        _ => return,
    };
    if let Some(update) = recommender.latest_recommender_update.as_mut() {
        update.status = status.into();
        update.last_updated_date_time = now;
        if let Some(Err(reason)) = &outcome {
            update.failure_reason = Some(reason.clone());
        }
    }
    if let Some(Ok(metrics)) = outcome {
        recommender.model_metrics = Some(metrics);
    }
    if status == ACTIVE {
        let config = recommender
            .latest_recommender_update
            .as_ref()
            .and_then(|u| u.recommender_config.clone());
        if config.is_some() {
            recommender.recommender_config = config;
        }
    }
    recommender.last_updated_date_time = now;
    store.commit(Entry::Recommender(recommender));
}

pub fn delete(state: &AppState, req: ByArn<Recommender>) -> Result<Empty, ApiError> {
    let (arn, mut store, recommender) = begin_delete(state, req)?;
    if STOPPING[..2].contains(&recommender.status.as_str())
        || STARTING[..2].contains(&recommender.status.as_str())
    {
        return Err(ApiError::InUse(format!(
            "Recommender {arn} is in status {} and cannot be deleted",
            recommender.status
        )));
    }
    // AWS: modelMetrics is null while a recommender is being deleted.
    if recommender.model_metrics.is_some() {
        let now = store.now();
        store.commit(Entry::Recommender(Recommender {
            model_metrics: None,
            last_updated_date_time: now,
            ..recommender
        }));
    }
    lifecycle::start_delete(state, &mut store, &arn);
    drop(store);
    state.serving.forget(&arn);
    Ok(Empty {})
}

pub fn stop(state: &AppState, req: ByArn<Recommender>) -> Result<Created<Recommender>, ApiError> {
    transition(state, req, ACTIVE, &STOPPING)
}

pub fn start(state: &AppState, req: ByArn<Recommender>) -> Result<Created<Recommender>, ApiError> {
    transition(state, req, INACTIVE, &STARTING)
}

/// Stop or Start: from `from` through `steps` (pending, in progress, final).
fn transition(
    state: &AppState,
    req: ByArn<Recommender>,
    from: &str,
    steps: &'static [&'static str; 3],
) -> Result<Created<Recommender>, ApiError> {
    check_arn("recommenderArn", &req.arn)?;
    let mut store = state.lock();
    let recommender = get::<Recommender>(&store, &req.arn)?;
    if recommender.status != from {
        return Err(ApiError::InUse(format!(
            "Recommender {} is in status {}; it must be {from} to move to {}",
            req.arn, recommender.status, steps[2]
        )));
    }
    let instant = state.config.transition.is_zero();
    let mut entry = Entry::Recommender(recommender.clone());
    let now = store.now();
    entry.set_status(if instant { steps[2] } else { steps[0] }, now);
    store.commit(entry);
    drop(store);
    if !instant {
        tokio::spawn(drive_steps(Arc::clone(state), req.arn.clone(), steps));
    }
    Ok(Created::new(req.arn))
}

async fn drive_steps(state: AppState, arn: String, steps: &'static [&'static str; 3]) {
    pause(&state).await;
    step(&state, &arn, &[steps[0]], steps[1]);
    pause(&state).await;
    step(&state, &arn, &[steps[1]], steps[2]);
}

/// A trained model and what to record about it.
struct Trained {
    model: engine::Model,
    meta: TrainedMeta,
}

/// What training needs, copied out of the store.
struct Job {
    dataset: engine::Dataset,
    config: engine::TrainConfig,
    trained_seq: u64,
    file_name: String,
}

fn prepare(
    state: &AppState,
    store: &mut Store,
    arn: &str,
    config: Option<&RecommenderConfig>,
) -> Result<Job, String> {
    let recommender = store
        .recommenders
        .get(arn)
        .ok_or("the recommender was deleted")?
        .clone();
    let use_case = use_case::by_arn(&recommender.recipe_arn)
        .ok_or_else(|| format!("recipe {} is not a domain use case", recommender.recipe_arn))?;
    let recipe = engine::Recipe::from_arn(&use_case.engine_recipe_arn())
        .ok_or_else(|| format!("recipe {} is not supported", use_case.engine_recipe))?;
    let training = config.and_then(|c| c.training_data_config.as_ref());
    let dg = &recommender.dataset_group_arn;
    let (mut interactions, trained_seq) = interactions_of(store, dg);
    for i in &mut interactions {
        // The use case's event type (`Watch`, `View`, `Purchase`) is matched case-insensitively.
        if let Some(t) = use_case.event_type
            && i.event_type.eq_ignore_ascii_case(t)
        {
            i.event_type = t.to_string();
        }
    }
    let (mut items, mut users) = records_of(store, dg);
    training_data::apply(training, &mut interactions, &mut items, &mut users);
    if use_case.needs_items && items.is_empty() {
        return Err(format!(
            "use case {} needs an Items dataset with imported items",
            use_case.name
        ));
    }
    let n = store.next_counter(&format!("recommender-model:{arn}"));
    let n = n.to_string();
    let mut config = engine::TrainConfig::new(recipe);
    config.event_type = use_case.event_type.map(Into::into);
    config.seed = state.config.seed ^ stable_hash(&[arn, &n]);
    let dataset = engine::Dataset {
        interactions,
        items,
        users,
    };
    Ok(Job {
        dataset,
        config,
        trained_seq,
        file_name: format!("{:016x}.bin", stable_hash(&[arn, &n])),
    })
}

/// Trains a model for recommender `arn` with `config` (off the async threads) and writes it.
async fn train(
    state: &AppState,
    arn: &str,
    config: Option<RecommenderConfig>,
) -> Result<Trained, String> {
    let job = prepare(state, &mut state.lock(), arn, config.as_ref())?;
    let model_dir = state.config.data_dir.as_ref().map(|d| d.join("models"));
    tokio::task::spawn_blocking(move || {
        let model = engine::train(&job.dataset, &job.config).map_err(|e| e.to_string())?;
        let model_file = serving::save_model(model_dir, job.file_name, &model)?;
        let meta = TrainedMeta {
            metrics: model.metrics(),
            trained_seq: job.trained_seq,
            model_file,
            action_rows: 0,
        };
        Ok(Trained { model, meta })
    })
    .await
    .unwrap_or_else(|e| Err(format!("training worker failed: {e}")))
}

/// Records a trained model under the recommender's ARN; returns its metrics.
fn install(
    state: &AppState,
    store: &mut Store,
    arn: &str,
    trained: Trained,
) -> BTreeMap<String, f64> {
    let metrics = trained.meta.metrics.clone();
    store.commit(Entry::Trained {
        arn: arn.to_string(),
        meta: trained.meta,
    });
    state.serving.insert_model(arn, Arc::new(trained.model));
    metrics
}

/// Creation: CREATE PENDING -> CREATE IN_PROGRESS -> (training) -> ACTIVE | CREATE FAILED.
async fn drive_create(state: AppState, arn: String) {
    lifecycle::begin_job(&state, &arn).await;
    let config = {
        let store = state.lock();
        match store.recommenders.get(&arn) {
            Some(r) if r.status == CREATE_IN_PROGRESS => r.recommender_config.clone(),
            _ => return,
        }
    };
    let outcome = train(&state, &arn, config).await;
    pause(&state).await;
    let mut store = state.lock();
    let Some(mut recommender) = store.recommenders.get(&arn).cloned() else {
        return;
    };
    if recommender.status != CREATE_IN_PROGRESS {
        return;
    }
    match outcome {
        Ok(trained) => {
            tracing::info!(%arn, "recommender trained");
            recommender.model_metrics = Some(install(&state, &mut store, &arn, trained));
            recommender.status = ACTIVE.into();
        }
        Err(reason) => {
            tracing::info!(%arn, %reason, "recommender training failed");
            recommender.status = CREATE_FAILED.into();
            recommender.failure_reason = Some(reason);
        }
    }
    recommender.last_updated_date_time = store.now();
    store.commit(Entry::Recommender(recommender));
}

/// An update: CREATE PENDING -> CREATE IN_PROGRESS -> (retraining when the training data
/// configuration changed) -> ACTIVE | CREATE FAILED.
async fn drive_update(state: AppState, arn: String) {
    pause(&state).await;
    let (config, retrain) = {
        let mut store = state.lock();
        let Some(r) = store.recommenders.get(&arn).cloned() else {
            return;
        };
        let Some(config) = r
            .latest_recommender_update
            .as_ref()
            .filter(|u| is_creating(&u.status))
            .and_then(|u| u.recommender_config.clone())
        else {
            return;
        };
        apply_update(&mut store, &arn, CREATE_IN_PROGRESS, None);
        let retrain = needs_retraining(&r, &config);
        (config, retrain)
    };
    let outcome = if retrain {
        Some(train(&state, &arn, Some(config)).await)
    } else {
        None
    };
    pause(&state).await;
    let mut store = state.lock();
    let still_updating = store.recommenders.get(&arn).is_some_and(|r| {
        r.latest_recommender_update
            .as_ref()
            .is_some_and(|u| u.status == CREATE_IN_PROGRESS)
    });
    if !still_updating {
        return;
    }
    match outcome {
        None => apply_update(&mut store, &arn, ACTIVE, None),
        Some(Ok(trained)) => {
            let metrics = install(&state, &mut store, &arn, trained);
            apply_update(&mut store, &arn, ACTIVE, Some(Ok(metrics)));
        }
        Some(Err(reason)) => apply_update(&mut store, &arn, CREATE_FAILED, Some(Err(reason))),
    }
}

/// Restarts the drivers of recommenders caught mid-transition by a restart.
pub fn resume(state: &AppState) {
    let store = state.lock();
    let mut creating = Vec::new();
    let mut updating = Vec::new();
    let mut deleting = Vec::new();
    let mut moving = Vec::new();
    for r in store.recommenders.values() {
        let arn = r.recommender_arn.clone();
        let status = r.status.as_str();
        if status == CREATE_PENDING || status == CREATE_IN_PROGRESS {
            creating.push(arn.clone());
        } else if is_deleting(status) {
            deleting.push(arn.clone());
        } else if STOPPING[..2].contains(&status) {
            moving.push((arn.clone(), &STOPPING));
        } else if STARTING[..2].contains(&status) {
            moving.push((arn.clone(), &STARTING));
        }
        if r.latest_recommender_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
        {
            updating.push(arn);
        }
    }
    drop(store);
    for arn in creating {
        tracing::info!(%arn, "resuming recommender training interrupted by a restart");
        tokio::spawn(drive_create(Arc::clone(state), arn));
    }
    for arn in updating {
        tokio::spawn(resume_update(Arc::clone(state), arn));
    }
    for arn in deleting {
        tokio::spawn(lifecycle::drive_delete(Arc::clone(state), arn));
    }
    for (arn, steps) in moving {
        tokio::spawn(resume_steps(Arc::clone(state), arn, steps));
    }
}

/// An update found in CREATE IN_PROGRESS after a restart starts over from CREATE PENDING.
async fn resume_update(state: AppState, arn: String) {
    apply_update(&mut state.lock(), &arn, CREATE_PENDING, None);
    drive_update(state, arn).await;
}

/// A Stop/Start found midway after a restart finishes from where it was.
async fn resume_steps(state: AppState, arn: String, steps: &'static [&'static str; 3]) {
    step(&state, &arn, &[steps[0]], steps[1]);
    pause(&state).await;
    step(&state, &arn, &[steps[1]], steps[2]);
}

// Runtime.

/// The model key of an ACTIVE recommender (its ARN), for `runtime::resolve`.
pub(crate) fn serving_model_of(store: &Store, arn: &str) -> Result<String, ApiError> {
    let recommender = get::<Recommender>(store, arn)?;
    if recommender.status != ACTIVE {
        return Err(ApiError::InvalidInput(format!(
            "Recommender {arn} is in status {}, not ACTIVE",
            recommender.status
        )));
    }
    Ok(arn.to_string())
}

/// What `runtime::resolve` needs of a recommender: its dataset group, the engine recipe behind
/// its use case, its exploration settings and whether metadata in recommendations is enabled.
pub(crate) type Settings<'s> = (&'s String, String, Option<BTreeMap<String, String>>, bool);

pub(crate) fn serving_settings<'s>(store: &'s Store, arn: &str) -> Result<Settings<'s>, ApiError> {
    let recommender = get::<Recommender>(store, arn)?;
    let use_case = use_case_of(&recommender.recipe_arn)?;
    let exploration = recommender
        .recommender_config
        .as_ref()
        .and_then(|c| c.item_exploration_config.clone())
        .filter(|_| use_case.explores);
    let metadata = recommender
        .recommender_config
        .as_ref()
        .and_then(|c| c.enable_metadata_with_recommendations)
        .unwrap_or(false);
    Ok((
        &recommender.dataset_group_arn,
        use_case.engine_recipe_arn(),
        exploration,
        metadata,
    ))
}

/// The use case's own exclusion `own`, joined with filter `filter_arn`'s expression if given.
fn excluding_seen(store: &Store, own: &str, filter_arn: Option<&str>) -> Result<String, ApiError> {
    Ok(match filter_arn {
        Some(f) => format!("{own} | {}", get::<Filter>(store, f)?.filter_expression),
        None => own.to_string(),
    })
}

/// GetRecommendations with `recommenderArn` (the caller checked numResults, ids and
/// filterValues).
pub(crate) fn get_recommendations(
    state: &AppState,
    arn: &str,
    req: &GetRecommendationsRequest,
) -> Result<GetRecommendationsResponse, ApiError> {
    check_arn("recommenderArn", arn)?;
    let (use_case, auto_filters) = {
        let store = state.lock();
        let recommender = get::<Recommender>(&store, arn)?;
        let use_case = use_case_of(&recommender.recipe_arn)?;
        // The use case's own exclusion of what the user already saw, before the caller's filter
        // and the promotion's.
        let auto_filters = match (use_case.exclude_seen, &req.user_id) {
            (Some(event), Some(_)) => {
                let own = format!("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"{event}\")");
                let promotion_filter = req
                    .promotions
                    .as_deref()
                    .and_then(|p| p.first())
                    .and_then(|p| p.filter_arn.as_deref());
                Some((
                    excluding_seen(&store, &own, req.filter_arn.as_deref())?,
                    promotion_filter
                        .map(|f| excluding_seen(&store, &own, Some(f)))
                        .transpose()?,
                ))
            }
            _ => None,
        };
        (use_case, auto_filters)
    };
    for (name, need, given) in [
        ("userId", use_case.user_id, req.user_id.is_some()),
        ("itemId", use_case.item_id, req.item_id.is_some()),
    ] {
        if need == Need::Required && !given {
            return Err(ApiError::InvalidInput(format!(
                "{name} is required for a recommender of use case {}",
                use_case.name
            )));
        }
    }
    let wanted = runtime::Wanted {
        user_id: req.user_id.as_deref(),
        filter_arn: req.filter_arn.as_deref(),
        metadata_columns: req.metadata_columns.as_ref(),
        promotion: promotion::requested(req.promotions.as_deref())?,
    };
    let mut resolved = runtime::resolve(state, Source::Recommender(arn), wanted)?;
    runtime::check_context(req.context.as_ref())?;
    if let Some((expression, promotion_expression)) = auto_filters {
        resolved.inputs.filter = Some(state.serving.filter(&expression, &expression)?);
        if let (Some(e), Some(p)) = (promotion_expression, resolved.promotion.as_mut()) {
            p.filter = state.serving.filter(&e, &e)?;
        }
    }
    let item_id = match use_case.item_id {
        Need::NotUsed => None,
        _ => req.item_id.as_deref(),
    };
    let num_results = req.num_results.unwrap_or(25) as usize;
    runtime::respond(&resolved, arn, req, item_id, num_results)
}
