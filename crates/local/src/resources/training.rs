//! The engine facade for training: builds the engine's dataset and config from the store, runs
//! `personalize_engine::train` on a blocking thread, persists the model, and drives a solution
//! version's state machine (`CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE | CREATE FAILED`,
//! or `CREATE STOPPING -> CREATE STOPPED`). Everything engine-facing for training lives here.
//! Depends on the store, the wire layer and the engine; never on the router.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use personalize_engine as engine;

use crate::resources::AppState;
use crate::resources::lifecycle::{self, ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS};
use crate::resources::lifecycle::{CREATE_STOPPED, CREATE_STOPPING};
use crate::resources::{next_best_action, serving, solution_config, training_data};
use crate::store::data::{DatasetRows, FieldValue, InteractionRow, RecordRow};
use crate::store::model::{Solution, SolutionVersion};
use crate::store::{Entry, Store, TrainedMeta};

/// Whether `arn` names a recipe the engine serves.
pub fn recipe_supported(arn: &str) -> bool {
    engine::Recipe::from_arn(arn).is_some() || recipe_is_next_best_action(arn)
}

/// Whether `arn` is aws-next-best-action (a PERSONALIZED_ACTIONS recipe, served by
/// GetActionRecommendations only).
pub fn recipe_is_next_best_action(arn: &str) -> bool {
    arn == engine::NEXT_BEST_ACTION_ARN
}

/// Whether requests to this recipe name an item rather than a user.
pub fn recipe_is_item_based(arn: &str) -> bool {
    engine::Recipe::from_arn(arn).is_some_and(|r| r.is_item_based())
}

/// Whether this recipe answers GetPersonalizedRanking.
pub fn recipe_is_ranking(arn: &str) -> bool {
    engine::Recipe::from_arn(arn) == Some(engine::Recipe::PersonalizedRanking)
}

/// Whether this recipe supports trainingMode UPDATE.
pub fn recipe_supports_update(arn: &str) -> bool {
    engine::Recipe::from_arn(arn) == Some(engine::Recipe::UserPersonalization)
}

pub(crate) fn interaction(row: &InteractionRow) -> engine::Interaction {
    engine::Interaction {
        user_id: row.user_id.clone(),
        item_id: row.item_id.clone(),
        timestamp: row.timestamp,
        event_type: row.event_type.clone().unwrap_or_default(),
        event_value: row.event_value,
    }
}

pub(crate) fn record(row: &RecordRow) -> engine::Record {
    engine::Record {
        id: row.id.clone(),
        fields: row
            .fields
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    FieldValue::Str(s) => engine::FieldValue::Str(s.clone()),
                    FieldValue::Num(n) => engine::FieldValue::Num(*n),
                    FieldValue::List(l) => engine::FieldValue::List(l.clone()),
                };
                (k.clone(), v)
            })
            .collect(),
        created: row.created,
    }
}

/// The item and user records of a dataset group.
pub(crate) fn records_of(store: &Store, dg: &str) -> (Vec<engine::Record>, Vec<engine::Record>) {
    let mut items = Vec::new();
    let mut users = Vec::new();
    for dataset in store
        .datasets
        .values()
        .filter(|d| d.dataset_group_arn == dg)
    {
        match store.data.get(&dataset.dataset_arn) {
            Some(DatasetRows::Items(rows)) => items.extend(rows.iter().map(record)),
            Some(DatasetRows::Users(rows)) => users.extend(rows.iter().map(record)),
            _ => {}
        }
    }
    (items, users)
}

/// Every interaction of a dataset group (imported, then live) and the live-event sequence number
/// they reach.
pub(crate) fn interactions_of(store: &Store, dg: &str) -> (Vec<engine::Interaction>, u64) {
    let mut interactions = Vec::new();
    for dataset in store
        .datasets
        .values()
        .filter(|d| d.dataset_group_arn == dg)
    {
        if let Some(DatasetRows::Interactions(rows)) = store.data.get(&dataset.dataset_arn) {
            interactions.extend(rows.iter().map(interaction));
        }
    }
    let live = store.live.get(dg);
    if let Some(live) = live {
        interactions.extend(serving::live_interactions(live.all()));
    }
    (interactions, live.map_or(0, |l| l.seq))
}

/// The model a trainingMode UPDATE version starts from: the solution's newest ACTIVE version.
struct Base {
    arn: String,
    /// Cached in memory already (else read from `file`).
    model: Option<serving::ModelRef>,
    file: Option<String>,
}

/// What a training run needs, copied out of the store.
struct Job {
    dataset: engine::Dataset,
    config: engine::TrainConfig,
    trained_seq: u64,
    /// Set for trainingMode UPDATE: fold the data into this model instead of refitting.
    base: Option<Base>,
}

/// Solution version `arn` being trained and its solution.
pub(crate) fn version_and_solution<'s>(
    store: &'s Store,
    arn: &str,
) -> Result<(&'s SolutionVersion, &'s Solution), String> {
    let version = store
        .solution_versions
        .get(arn)
        .ok_or("solution version vanished")?;
    let solution = store
        .solutions
        .get(&version.solution_arn)
        .ok_or("the solution was deleted")?;
    Ok((version, solution))
}

fn prepare(state: &AppState, store: &Store, arn: &str, seed: u64) -> Result<Job, String> {
    let (version, solution) = version_and_solution(store, arn)?;
    let recipe_arn = solution.recipe_arn.clone().unwrap_or_default();
    let recipe = engine::Recipe::from_arn(&recipe_arn)
        .ok_or_else(|| format!("recipe {recipe_arn} is not supported"))?;
    let dg = &solution.dataset_group_arn;
    let (mut interactions, trained_seq) = interactions_of(store, dg);
    let (mut items, mut users) = records_of(store, dg);
    if recipe == engine::Recipe::ItemAttributeAffinity
        && !items.iter().any(|i| !i.fields.is_empty())
    {
        return Err(format!(
            "{recipe_arn} needs an Items dataset with at least one metadata column (its \
             segments are for item attributes)"
        ));
    }
    let config_of = solution.solution_config.as_ref();
    training_data::apply(
        config_of.and_then(|c| c.training_data_config.as_ref()),
        &mut interactions,
        &mut items,
        &mut users,
    );
    let event_value_threshold = config_of
        .and_then(|c| c.event_value_threshold.as_deref())
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .map_err(|_| format!("eventValueThreshold {t} is not a number"))
        })
        .transpose()?;
    let hyper_parameters: BTreeMap<String, String> = config_of
        .and_then(|c| c.algorithm_hyper_parameters.clone())
        .unwrap_or_default();
    let base = if version.training_mode == "UPDATE" {
        let base_arn =
            crate::resources::solution_version::versions_of(store, &version.solution_arn)
                .into_iter()
                .find(|v| v.status == ACTIVE && v.solution_version_arn != arn)
                .map(|v| v.solution_version_arn.clone())
                .ok_or("trainingMode UPDATE needs an ACTIVE solution version to update")?;
        Some(Base {
            model: state.serving.cached_model(&base_arn),
            file: store
                .trained
                .get(&base_arn)
                .and_then(|m| m.model_file.clone()),
            arn: base_arn,
        })
    } else {
        None
    };
    Ok(Job {
        dataset: engine::Dataset {
            interactions,
            items,
            users,
        },
        config: engine::TrainConfig {
            recipe,
            event_type: solution.event_type.clone(),
            event_value_threshold,
            hyper_parameters,
            perform_hpo: solution.perform_hpo.unwrap_or(false),
            seed: seed ^ crate::wire::names::stable_hash(&[arn]),
            event_parameters: solution_config::event_parameters(
                config_of.and_then(|c| c.events_config.as_ref()),
            ),
        },
        trained_seq,
        base,
    })
}

/// What a solution version trains: an item model, or a Next-Best-Action model.
enum Work {
    Items(Job),
    Actions(next_best_action::ActionJob),
}

/// A trained model of either kind.
enum Trained {
    Items(Box<engine::Model>),
    Actions(Box<engine::ActionModel>),
}

impl Trained {
    fn metrics(&self) -> BTreeMap<String, f64> {
        match self {
            Trained::Items(m) => m.metrics(),
            Trained::Actions(m) => m.metrics(),
        }
    }
}

fn prepare_work(state: &AppState, store: &Store, arn: &str, seed: u64) -> Result<Work, String> {
    let solution = store
        .solution_versions
        .get(arn)
        .and_then(|v| store.solutions.get(&v.solution_arn));
    if solution.is_some_and(|s| recipe_is_next_best_action(s.recipe_arn.as_deref().unwrap_or(""))) {
        return next_best_action::prepare(store, arn).map(Work::Actions);
    }
    prepare(state, store, arn, seed).map(Work::Items)
}

/// Starts (or, after a restart, re-runs) training of solution version `arn`.
pub fn start(state: &AppState, arn: String) {
    tokio::spawn(drive(Arc::clone(state), arn));
}

async fn drive(state: AppState, arn: String) {
    lifecycle::begin_job(&state, &arn).await;
    let started = Instant::now();
    let prepared = {
        let store = state.lock();
        match store.solution_versions.get(&arn).map(|v| v.status.clone()) {
            Some(status) if status == CREATE_IN_PROGRESS => {
                prepare_work(&state, &store, &arn, state.config.seed)
            }
            Some(status) if status == CREATE_STOPPING => Err(String::new()),
            _ => return,
        }
    };
    let model_dir = state.config.data_dir.as_ref().map(|d| d.join("models"));
    let file_name = format!("{:016x}.bin", crate::wire::names::stable_hash(&[&arn]));
    let outcome = match prepared {
        Err(reason) => Err(reason),
        Ok(Work::Actions(job)) => {
            let file_name = file_name.clone();
            tokio::task::spawn_blocking(move || {
                let model = next_best_action::train(&job)?;
                let model_file = serving::save_model(model_dir, file_name, &model)?;
                Ok((
                    Trained::Actions(Box::new(model)),
                    model_file,
                    job.trained_seq,
                    job.action_rows,
                ))
            })
            .await
            .unwrap_or_else(|e| Err(format!("training worker failed: {e}")))
        }
        Ok(Work::Items(job)) => {
            let trained_seq = job.trained_seq;
            let file_name = file_name.clone();
            let data_dir = state.config.data_dir.clone();
            tokio::task::spawn_blocking(move || {
                let model = match &job.base {
                    None => engine::train(&job.dataset, &job.config).map_err(|e| e.to_string())?,
                    Some(base) => {
                        let previous = match (&base.model, &base.file, &data_dir) {
                            (Some(model), _, _) => Arc::clone(model),
                            (None, Some(file), Some(dir)) => Arc::new(
                                serving::read_model(&dir.join("models").join(file)).map_err(
                                    |e| format!("reading the model of {} failed: {e}", base.arn),
                                )?,
                            ),
                            _ => return Err(format!("the model of {} is not available", base.arn)),
                        };
                        engine::update(&previous, &job.dataset).map_err(|e| e.to_string())?
                    }
                };
                let model_file = serving::save_model(model_dir, file_name, &model)?;
                Ok((Trained::Items(Box::new(model)), model_file, trained_seq, 0))
            })
            .await
            .unwrap_or_else(|e| Err(format!("training worker failed: {e}")))
        }
    };
    let hours = started.elapsed().as_secs_f64() / 3600.0;
    lifecycle::pause(&state).await;
    let mut store = state.lock();
    let Some(mut version) = store.solution_versions.get(&arn).cloned() else {
        return;
    };
    let now = store.now();
    version.last_updated_date_time = now;
    if version.status == CREATE_STOPPING {
        version.status = CREATE_STOPPED.into();
        store.commit(Entry::SolutionVersion(version));
        return;
    }
    if version.status != CREATE_IN_PROGRESS {
        return;
    }
    match outcome {
        Ok((model, model_file, trained_seq, action_rows)) => {
            tracing::info!(%arn, seconds = hours * 3600.0, "training finished");
            store.commit(Entry::Trained {
                arn: arn.clone(),
                meta: TrainedMeta {
                    metrics: model.metrics(),
                    trained_seq,
                    model_file,
                    action_rows,
                },
            });
            version.status = ACTIVE.into();
            version.training_hours = Some(hours);
            store.commit(Entry::SolutionVersion(version));
            match model {
                Trained::Items(model) => state.serving.insert_model(&arn, Arc::new(*model)),
                Trained::Actions(model) => {
                    state.serving.insert_action_model(&arn, Arc::new(*model))
                }
            }
        }
        Err(reason) => {
            tracing::info!(%arn, %reason, "training failed");
            version.status = CREATE_FAILED.into();
            version.failure_reason = Some(reason);
            store.commit(Entry::SolutionVersion(version));
        }
    }
}
