//! Next-Best-Action (`aws-next-best-action`, a PERSONALIZED_ACTIONS recipe): what its solutions
//! may ask for, its training data (Actions and Action interactions datasets, item interactions,
//! items and users), PutActions and PutActionInteractions (personalize-events), and
//! GetActionRecommendations (personalize-runtime). The model itself is the engine's
//! [`engine::ActionModel`].
//!
//! Live data: PutActions upserts into the Actions dataset (new actions are candidates at once,
//! unscored until retrained); PutActionInteractions appends to the Action interactions dataset,
//! and the rows after those a model was trained on are the user's live action interactions
//! (a TAKEN event starts the action's repeat frequency at once). Events with an eventId seen
//! before are kept but, as AWS documents, not trained on. The campaign's
//! `itemExplorationConfig` gives its share of the list to fresh unscored actions (score 0.0).
//! Depends on the store, the wire layer, the engine bridge and the runtime's shared helpers;
//! never on the router.

use std::collections::{BTreeMap, HashSet};

use personalize_engine as engine;

use crate::resources::AppState;
use crate::resources::campaign::serving_version;
use crate::resources::event_tracker::group_of_tracker;
use crate::resources::events::put_records;
use crate::resources::lifecycle::ACTIVE;
use crate::resources::resource::get;
use crate::resources::runtime::{active_filter, recommendation_id};
use crate::resources::schema::parse_columns;
use crate::resources::serving::{exploration, live_interactions};
use crate::resources::shapes::{
    ActionInteraction, CreateSolution, GetActionRecommendationsRequest,
    GetActionRecommendationsResponse, PredictedAction, PutActionInteractionsRequest,
    PutActionsRequest,
};
use crate::resources::training::{self, interactions_of, record, records_of};
use crate::store::data::{DatasetRows, InteractionRow};
use crate::store::model::{Campaign, Dataset, SolutionVersion};
use crate::store::{Entry, Store};
use crate::wire::codec::{OpResult, decode, encode};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len};

/// GetActionRecommendations `numResults`: default and maximum (the model's documentation).
const DEFAULT_NUM_RESULTS: i64 = 5;
const MAX_NUM_RESULTS: i64 = 100;

/// Property names PutActionInteractions reserves (AWS: "can't be included as a keyword").
const RESERVED_PROPERTIES: [&str; 6] = [
    "userid",
    "sessionid",
    "eventtype",
    "timestamp",
    "recommendationid",
    "impression",
];

/// CreateSolution members an aws-next-best-action solution cannot use: AWS documents no HPO
/// for the recipe and one hyperparameter (`action_optimization_period`, 7-28 days); the
/// solution trains on every item interaction and on the action interactions, so an eventType,
/// eventValueThreshold or trainingDataConfig would not be honoured.
pub fn check_solution(req: &CreateSolution) -> Result<(), ApiError> {
    if req.perform_hpo == Some(true) {
        return Err(ApiError::InvalidInput(
            "performHPO: the aws-next-best-action recipe doesn't support hyperparameter \
             optimization"
                .into(),
        ));
    }
    if req.event_type.as_deref().is_some_and(|t| !t.is_empty()) {
        return Err(ApiError::InvalidInput(
            "eventType is not supported for aws-next-best-action solutions: the recipe trains \
             on all item interactions and on the Action interactions dataset"
                .into(),
        ));
    }
    let Some(config) = &req.solution_config else {
        return Ok(());
    };
    if config.event_value_threshold.is_some() {
        return Err(ApiError::InvalidInput(
            "solutionConfig.eventValueThreshold is not supported for aws-next-best-action \
             solutions"
                .into(),
        ));
    }
    if config.training_data_config.is_some() {
        return Err(ApiError::InvalidInput(
            "solutionConfig.trainingDataConfig is not supported for aws-next-best-action \
             solutions by personalize-local"
                .into(),
        ));
    }
    let hyper = config
        .algorithm_hyper_parameters
        .clone()
        .unwrap_or_default();
    engine::optimization_period(&hyper)
        .map(|_| ())
        .map_err(|e| {
            ApiError::InvalidInput(format!("solutionConfig.algorithmHyperParameters: {e}"))
        })
}

/// The dataset group's dataset of `dataset_type`.
fn dataset_of<'s>(store: &'s Store, dg: &str, dataset_type: &str) -> Option<&'s Dataset> {
    store
        .datasets
        .values()
        .find(|d| d.dataset_group_arn == dg && d.dataset_type == dataset_type)
}

/// The rows of the group's Action interactions dataset.
fn action_interaction_rows<'s>(store: &'s Store, dg: &str) -> &'s [InteractionRow] {
    match dataset_of(store, dg, "ACTION_INTERACTIONS").and_then(|d| store.data.get(&d.dataset_arn))
    {
        Some(DatasetRows::ActionInteractions(rows)) => rows,
        _ => &[],
    }
}

/// The actions of the group's Actions dataset, as the engine takes them.
fn actions_of(store: &Store, dg: &str) -> Vec<engine::Record> {
    match dataset_of(store, dg, "ACTIONS").and_then(|d| store.data.get(&d.dataset_arn)) {
        Some(DatasetRows::Actions(rows)) => rows.iter().map(record).collect(),
        _ => Vec::new(),
    }
}

/// What training an aws-next-best-action solution version needs, copied out of the store.
pub(crate) struct ActionJob {
    data: engine::ActionDataset,
    period: u32,
    /// The live item-event sequence number the data reaches.
    pub(crate) trained_seq: u64,
    /// The Action interactions rows the data reaches.
    pub(crate) action_rows: u64,
}

/// Gathers the training data of solution version `arn` (AWS requires an Actions dataset).
pub(crate) fn prepare(store: &Store, arn: &str) -> Result<ActionJob, String> {
    let (_, solution) = training::version_and_solution(store, arn)?;
    let dg = &solution.dataset_group_arn;
    let hyper = solution
        .solution_config
        .as_ref()
        .and_then(|c| c.algorithm_hyper_parameters.clone())
        .unwrap_or_default();
    let period = engine::optimization_period(&hyper).map_err(|e| e.to_string())?;
    if dataset_of(store, dg, "ACTIONS").is_none() {
        return Err(format!(
            "aws-next-best-action needs an Actions dataset; dataset group {dg} has none"
        ));
    }
    let (item_interactions, trained_seq) = interactions_of(store, dg);
    let (items, users) = records_of(store, dg);
    let rows = action_interaction_rows(store, dg);
    let mut seen_ids = HashSet::new();
    let action_interactions = rows
        .iter()
        .filter(|r| {
            r.event_id
                .as_ref()
                .is_none_or(|id| seen_ids.insert(id.as_str()))
        })
        .map(training::interaction)
        .collect();
    Ok(ActionJob {
        data: engine::ActionDataset {
            item_interactions,
            action_interactions,
            actions: actions_of(store, dg),
            items,
            users,
        },
        period,
        trained_seq,
        action_rows: rows.len() as u64,
    })
}

/// Trains an aws-next-best-action model (on a blocking thread).
pub(crate) fn train(job: &ActionJob) -> Result<engine::ActionModel, String> {
    engine::train_actions(&job.data, job.period).map_err(|e| e.to_string())
}

/// `POST /actions`: adds or replaces actions of an Actions dataset.
pub fn put_actions(state: &AppState, body: &[u8]) -> OpResult {
    let req: PutActionsRequest = decode(body)?;
    let list = req.actions.into_iter().map(|a| (a.action_id, a.properties));
    put_records(state, &req.dataset_arn, "ACTIONS", list.collect())
}

fn check_interaction(i: usize, e: &ActionInteraction) -> Result<(), ApiError> {
    let at = |m: &str| format!("actionInteractions.{}.member.{m}", i + 1);
    check_len(&at("actionId"), &e.action_id, 1, 256)?;
    check_len(&at("sessionId"), &e.session_id, 1, 256)?;
    check_len(&at("eventType"), &e.event_type, 1, 256)?;
    if let Some(user) = &e.user_id {
        check_len(&at("userId"), user, 1, 256)?;
    }
    if let Some(id) = &e.event_id {
        check_len(&at("eventId"), id, 1, 256)?;
    }
    if let Some(id) = &e.recommendation_id {
        check_len(&at("recommendationId"), id, 1, 40)?;
    }
    if engine::ActionEvent::parse(&e.event_type).is_none() {
        return Err(ApiError::InvalidInput(format!(
            "{} {:?} is not an action interaction event type: use Taken, Not Taken or Viewed",
            at("eventType"),
            e.event_type
        )));
    }
    if !e.timestamp.is_finite() || e.timestamp < 0.0 {
        return Err(ApiError::InvalidInput(format!(
            "{} must be a timestamp",
            at("timestamp")
        )));
    }
    if let Some(impression) = &e.impression {
        if impression.is_empty() || impression.len() > 25 {
            return Err(ApiError::InvalidInput(format!(
                "{} must list 1 to 25 action ids",
                at("impression")
            )));
        }
        for id in impression {
            check_len(&at("impression.member"), id, 1, 256)?;
        }
    }
    Ok(())
}

/// The keys of an action interaction's `properties` (a JSON object as a string), checked: not
/// reserved, and each a field of the Action interactions schema (camelCase of its name).
fn check_properties(member: &str, properties: &str, fields: &[String]) -> Result<(), ApiError> {
    check_len(member, properties, 1, 1024)?;
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(properties) else {
        return Err(ApiError::InvalidInput(format!(
            "{member} must be a JSON object serialised as a string"
        )));
    };
    let normalise = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect()
    };
    for key in object.keys() {
        let key_norm = normalise(key);
        if RESERVED_PROPERTIES.contains(&key_norm.as_str()) {
            return Err(ApiError::InvalidInput(format!(
                "{member}: {key} is a member of the action interaction, not a property"
            )));
        }
        if !fields.iter().any(|f| normalise(f) == key_norm) {
            return Err(ApiError::InvalidInput(format!(
                "{member}: property {key} is not a field of the Action interactions schema"
            )));
        }
    }
    Ok(())
}

/// `POST /action-interactions`: records action interactions in the Action interactions dataset
/// of the event tracker's dataset group.
pub fn put_action_interactions(state: &AppState, body: &[u8]) -> OpResult {
    let req: PutActionInteractionsRequest = decode(body)?;
    check_len("trackingId", &req.tracking_id, 1, 256)?;
    if req.action_interactions.is_empty() || req.action_interactions.len() > 10 {
        return Err(ApiError::InvalidInput(
            "actionInteractions must have between 1 and 10 entries".into(),
        ));
    }
    for (i, e) in req.action_interactions.iter().enumerate() {
        check_interaction(i, e)?;
    }
    let mut store = state.lock();
    let dg = group_of_tracker(&store, &req.tracking_id, ApiError::NotFound)?;
    let dataset = dataset_of(&store, &dg, "ACTION_INTERACTIONS").ok_or_else(|| {
        ApiError::NotFound(format!(
            "Dataset group {dg} has no Action interactions dataset to record action \
             interactions in"
        ))
    })?;
    if dataset.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset {} is in status {}",
            dataset.dataset_arn, dataset.status
        )));
    }
    let dataset_arn = dataset.dataset_arn.clone();
    let fields: Vec<String> = store
        .schemas
        .get(&dataset.schema_arn)
        .map(|s| parse_columns(&s.schema))
        .transpose()
        .map_err(ApiError::InvalidInput)?
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    for (i, e) in req.action_interactions.iter().enumerate() {
        if let Some(properties) = &e.properties {
            let member = format!("actionInteractions.{}.member.properties", i + 1);
            check_properties(&member, properties, &fields)?;
        }
    }
    let rows = req
        .action_interactions
        .into_iter()
        .map(|e| InteractionRow {
            user_id: e.user_id.unwrap_or(e.session_id),
            item_id: e.action_id,
            timestamp: e.timestamp as i64,
            event_type: Some(e.event_type),
            event_value: None,
            extra: None,
            event_id: e.event_id,
        })
        .collect();
    store.commit(Entry::ActionInteractions { dataset_arn, rows });
    Ok(Vec::new())
}

/// `filterValues`: at most 25 entries (the model's limit).
fn check_filter_values(values: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    if values.is_some_and(|v| v.len() > 25) {
        return Err(ApiError::InvalidInput(
            "filterValues may have at most 25 entries".into(),
        ));
    }
    Ok(())
}

/// Everything a GetActionRecommendations request needs, gathered under the store lock.
struct Gathered {
    version_arn: String,
    model_file: Option<String>,
    user: Option<engine::Record>,
    actions: Vec<engine::Record>,
    live_items: Vec<engine::Interaction>,
    live_actions: Vec<engine::Interaction>,
    filter: Option<std::sync::Arc<engine::Filter>>,
    exploration: engine::Exploration,
}

fn gather(
    state: &AppState,
    campaign_arn: &str,
    user_id: &str,
    filter_arn: Option<&str>,
) -> Result<Gathered, ApiError> {
    let store = state.lock();
    let campaign = get::<Campaign>(&store, campaign_arn)?;
    if campaign.status != ACTIVE {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} is in status {}, not ACTIVE",
            campaign.status
        )));
    }
    let version_arn = serving_version(&store, campaign).ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} has no ACTIVE solution version"
        ))
    })?;
    let version = get::<SolutionVersion>(&store, &version_arn)?;
    let recipe = version.recipe_arn.as_deref().unwrap_or_default();
    if !training::recipe_is_next_best_action(recipe) {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} deploys a solution version of {recipe}; \
             GetActionRecommendations needs a campaign of a PERSONALIZED_ACTIONS recipe \
             (aws-next-best-action)"
        )));
    }
    let dg = version.dataset_group_arn.clone();
    let exploration = exploration(
        campaign
            .campaign_config
            .as_ref()
            .and_then(|c| c.item_exploration_config.as_ref()),
    );
    let meta = store.trained.get(&version_arn);
    let trained_seq = meta.map_or(0, |m| m.trained_seq);
    let action_rows = meta.map_or(0, |m| m.action_rows) as usize;
    let filter = match filter_arn {
        None => None,
        Some(arn) => Some(active_filter(state, &store, &dg, "filterArn", arn, true)?),
    };
    let rows = action_interaction_rows(&store, &dg);
    // After a FULL re-import the rows are not those trained on: none of them is live.
    let live_actions = rows
        .get(action_rows..)
        .unwrap_or_default()
        .iter()
        .filter(|r| r.user_id == user_id)
        .map(training::interaction)
        .collect();
    let live_items = match store.live.get(&dg) {
        Some(live) => live_interactions(live.newer_than(user_id, trained_seq)),
        None => Vec::new(),
    };
    let user = state.serving.catalog(&store, &dg).user(user_id).cloned();
    Ok(Gathered {
        model_file: meta.and_then(|m| m.model_file.clone()),
        version_arn,
        user,
        actions: actions_of(&store, &dg),
        live_items,
        live_actions,
        filter,
        exploration,
    })
}

/// `POST /action-recommendations`.
pub fn get_action_recommendations(state: &AppState, body: &[u8]) -> OpResult {
    let req: GetActionRecommendationsRequest = decode(body)?;
    let num_results = req.num_results.unwrap_or(DEFAULT_NUM_RESULTS);
    if !(0..=MAX_NUM_RESULTS).contains(&num_results) {
        return Err(ApiError::InvalidInput(format!(
            "numResults must be between 0 and {MAX_NUM_RESULTS}"
        )));
    }
    let campaign_arn = req
        .campaign_arn
        .as_deref()
        .ok_or_else(|| ApiError::InvalidInput("campaignArn is required".into()))?;
    check_arn("campaignArn", campaign_arn)?;
    let user_id = req
        .user_id
        .as_deref()
        .ok_or_else(|| ApiError::InvalidInput("userId is required".into()))?;
    check_len("userId", user_id, 1, 256)?;
    if let Some(arn) = &req.filter_arn {
        check_arn("filterArn", arn)?;
    }
    check_filter_values(req.filter_values.as_ref())?;
    let gathered = gather(state, campaign_arn, user_id, req.filter_arn.as_deref())?;
    // A model not loaded yet (after a restart) is read with the store lock released.
    let model = state.serving.action_model(
        state.config.data_dir.as_deref(),
        &gathered.version_arn,
        gathered.model_file.as_deref(),
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let empty = BTreeMap::new();
    let values = req.filter_values.as_ref().unwrap_or(&empty);
    let list = model
        .recommend(&engine::ActionRequest {
            user_id,
            user: gathered.user.as_ref(),
            actions: &gathered.actions,
            live_items: &gathered.live_items,
            live_actions: &gathered.live_actions,
            num_results: num_results as usize,
            filter: gathered.filter.as_deref().map(|f| (f, values)),
            exploration: gathered.exploration,
            now,
        })
        .map_err(|e| ApiError::InvalidInput(e.to_string()))?;
    encode(&GetActionRecommendationsResponse {
        action_list: list
            .into_iter()
            .map(|s| PredictedAction {
                action_id: s.action_id,
                score: s.score,
            })
            .collect(),
        recommendation_id: recommendation_id(campaign_arn, &[user_id]),
    })
}
