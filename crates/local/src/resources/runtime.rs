//! personalize-runtime (REST JSON): GetRecommendations and GetPersonalizedRanking. Resolves the
//! campaign's serving version (or the recommender's model, see `recommender.rs`), gathers the
//! user's live events and the catalog under the store lock, then calls the engine through
//! `serving.rs` outside it.
//! Depends on the store, the wire layer and the serving bridge; never on the router.

use std::collections::BTreeMap;
use std::sync::Arc;

use personalize_engine as engine;

use crate::resources::AppState;
use crate::resources::campaign::serving_version;
use crate::resources::item_metadata;
use crate::resources::lifecycle::ACTIVE;
use crate::resources::promotion;
use crate::resources::recommender;
use crate::resources::resource::get;
use crate::resources::serving::{self, Inputs};
use crate::resources::shapes::{
    GetPersonalizedRankingRequest, GetPersonalizedRankingResponse, GetRecommendationsRequest,
    GetRecommendationsResponse, PredictedItem, Promotion,
};
use crate::resources::training;
use crate::store::Store;
use crate::store::model::{Campaign, Filter, SolutionVersion};
use crate::wire::codec::{OpResult, decode, encode};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len, stable_hash, stable_uuid};

/// Everything a request needs plus the campaign's (or recommender's) settings.
pub(crate) struct Resolved {
    pub(crate) inputs: Inputs,
    pub(crate) recipe_arn: String,
    pub(crate) exploration: Option<BTreeMap<String, String>>,
    /// The Items columns asked for (`metadataColumns`), checked.
    pub(crate) metadata_columns: Option<Vec<String>>,
    /// The promotion, its filter resolved.
    pub(crate) promotion: Option<promotion::Checked>,
}

/// What of a request `resolve` looks up under the store lock.
#[derive(Clone, Copy, Default)]
pub(crate) struct Wanted<'a> {
    pub(crate) user_id: Option<&'a str>,
    pub(crate) filter_arn: Option<&'a str>,
    pub(crate) metadata_columns: Option<&'a BTreeMap<String, Vec<String>>>,
    pub(crate) promotion: Option<&'a Promotion>,
}

/// What serves a request: a campaign (its solution version's model) or a recommender (its own
/// model, kept under the recommender's ARN).
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    Campaign(&'a str),
    Recommender(&'a str),
}

impl Source<'_> {
    fn check(&self) -> Result<(), ApiError> {
        match self {
            Source::Campaign(arn) => check_arn("campaignArn", arn),
            Source::Recommender(arn) => check_arn("recommenderArn", arn),
        }
    }

    /// The key of the model that serves now (models and training results are kept under it).
    fn model_key(&self, store: &Store) -> Result<String, ApiError> {
        match self {
            Source::Campaign(arn) => serving_version_of(store, arn),
            Source::Recommender(arn) => recommender::serving_model_of(store, arn),
        }
    }
}

pub(crate) fn resolve(
    state: &AppState,
    source: Source<'_>,
    wanted: Wanted<'_>,
) -> Result<Resolved, ApiError> {
    source.check()?;
    if let Some(arn) = wanted.filter_arn {
        check_arn("filterArn", arn)?;
    }
    if let Some(arn) = wanted.promotion.and_then(|p| p.filter_arn.as_deref()) {
        check_arn("promotions.1.filterArn", arn)?;
    }
    // One store lock per request. A model not loaded yet (after a restart) is read from disk
    // with the lock released, so PutEvents and other requests do not wait on it.
    let mut store = state.lock();
    let mut version_arn = source.model_key(&store)?;
    if let Some(recipe) = store
        .solution_versions
        .get(&version_arn)
        .and_then(|v| v.recipe_arn.as_deref())
        .filter(|r| training::recipe_is_next_best_action(r))
    {
        return Err(ApiError::InvalidInput(format!(
            "The campaign deploys a solution version of {recipe} (PERSONALIZED_ACTIONS): call \
             GetActionRecommendations"
        )));
    }
    let model = match state.serving.cached_model(&version_arn) {
        Some(model) => model,
        None => {
            let file = store
                .trained
                .get(&version_arn)
                .and_then(|m| m.model_file.clone())
                .ok_or_else(|| ApiError::Internal(format!("no trained model for {version_arn}")))?;
            drop(store);
            state
                .serving
                .load_model(state.config.data_dir.as_deref(), &version_arn, &file)?;
            // Again under the lock: the campaign may have moved on meanwhile.
            store = state.lock();
            version_arn = source.model_key(&store)?;
            state.serving.cached_model(&version_arn).ok_or_else(|| {
                ApiError::Internal(format!("the model of {version_arn} is not loaded"))
            })?
        }
    };
    resolve_locked(state, &store, source, &version_arn, model, wanted)
}

/// The ACTIVE campaign's serving solution version.
fn serving_version_of(store: &Store, campaign_arn: &str) -> Result<String, ApiError> {
    let campaign = get::<Campaign>(store, campaign_arn)?;
    if campaign.status != ACTIVE {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} is in status {}, not ACTIVE",
            campaign.status
        )));
    }
    serving_version(store, campaign).ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} has no ACTIVE solution version"
        ))
    })
}

/// [`resolve`] under the store lock, the model in hand.
fn resolve_locked(
    state: &AppState,
    store: &Store,
    source: Source<'_>,
    version_arn: &str,
    model: serving::ModelRef,
    wanted: Wanted<'_>,
) -> Result<Resolved, ApiError> {
    let (dg, recipe_arn, exploration, metadata_enabled) = match source {
        Source::Campaign(campaign_arn) => {
            let campaign = get::<Campaign>(store, campaign_arn)?;
            let version = get::<SolutionVersion>(store, version_arn)?;
            let config = campaign.campaign_config.as_ref();
            let exploration = config.and_then(|c| c.item_exploration_config.clone());
            let metadata = config
                .and_then(|c| c.enable_metadata_with_recommendations)
                .unwrap_or(false);
            let recipe_arn = version.recipe_arn.clone().unwrap_or_default();
            (
                &version.dataset_group_arn,
                recipe_arn,
                exploration,
                metadata,
            )
        }
        Source::Recommender(arn) => recommender::serving_settings(store, arn)?,
    };
    let owner = match source {
        Source::Campaign(arn) => format!("campaign {arn}"),
        Source::Recommender(arn) => format!("recommender {arn}"),
    };
    let metadata_columns =
        item_metadata::requested(store, dg, &owner, metadata_enabled, wanted.metadata_columns)?;
    let trained_seq = store.trained.get(version_arn).map_or(0, |m| m.trained_seq);
    let live = match (wanted.user_id, store.live.get(dg)) {
        (Some(user), Some(live)) => serving::live_interactions(live.newer_than(user, trained_seq)),
        _ => Vec::new(),
    };
    let filter = match wanted.filter_arn {
        None => None,
        Some(arn) => Some(active_filter(state, store, dg, "filterArn", arn, false)?),
    };
    let promotion = match wanted.promotion {
        None => None,
        Some(p) => {
            let arn = p.filter_arn.as_deref().unwrap_or_default();
            Some(promotion::Checked {
                name: p.name.clone().unwrap_or_default(),
                percent: p.percent_promoted_items.unwrap_or(0).clamp(0, 100) as u32,
                filter: active_filter(state, store, dg, "promotions.1.filterArn", arn, false)?,
                filter_values: p.filter_values.clone().unwrap_or_default(),
            })
        }
    };
    let catalog = state.serving.catalog(store, dg);
    Ok(Resolved {
        inputs: Inputs {
            model,
            catalog,
            live,
            filter,
        },
        recipe_arn,
        exploration,
        metadata_columns,
        promotion,
    })
}

/// Filter `arn` (given as `member`), parsed: it must exist, be ACTIVE, belong to `dg` and
/// select actions (`ActionID`) when `actions`, items (`ItemID`) otherwise.
pub(crate) fn active_filter(
    state: &AppState,
    store: &Store,
    dg: &str,
    member: &str,
    arn: &str,
    actions: bool,
) -> Result<Arc<engine::Filter>, ApiError> {
    let f = get::<Filter>(store, arn)?;
    let problem = if f.dataset_group_arn != dg {
        format!("belongs to dataset group {}, not {dg}", f.dataset_group_arn)
    } else if f.status != ACTIVE {
        format!("is in status {}, not ACTIVE", f.status)
    } else {
        let filter = state.serving.filter(arn, &f.filter_expression)?;
        if filter.selects_actions() == actions {
            return Ok(filter);
        }
        if actions {
            "selects items (ItemID), not actions (ActionID)".to_string()
        } else {
            "selects actions (ActionID): use it with GetActionRecommendations".to_string()
        }
    };
    Err(ApiError::InvalidInput(format!(
        "{member}: filter {arn} {problem}"
    )))
}

/// A fresh recommendationId of an answer from `source_arn` (a campaign or recommender):
/// `RID-<12 hex digits naming the source>-<23 unique characters>`, 40 characters (the model's
/// maximum). The source part makes the id resolvable to what served it (metric attributions,
/// [`source_of_recommendation`]) without storing anything, across restarts.
pub(crate) fn recommendation_id(source_arn: &str, parts: &[&str]) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_string();
    let mut all = vec![source_arn];
    all.extend_from_slice(parts);
    all.push(&nanos);
    let unique = stable_uuid(&all).replace('-', "");
    format!("RID-{}-{}", source_tag(source_arn), &unique[..23])
}

/// The 12 hex digits that name `source_arn` in its recommendation ids.
fn source_tag(source_arn: &str) -> String {
    format!("{:012x}", stable_hash(&[source_arn]) & 0xffff_ffff_ffff)
}

/// The campaign or recommender that served recommendation `id` (made by
/// [`recommendation_id`]), if it still exists.
pub fn source_of_recommendation(store: &Store, id: &str) -> Option<String> {
    let tag = id.strip_prefix("RID-")?.get(..12)?;
    store
        .campaigns
        .keys()
        .chain(store.recommenders.keys())
        .find(|arn| source_tag(arn) == tag)
        .cloned()
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

/// `context` (contextual metadata): the engine trains on no contextual fields, so a non-empty
/// context would change nothing; it is refused rather than ignored (checked after the campaign
/// or recommender is found, so an unknown ARN is still `ResourceNotFoundException`).
pub(crate) fn check_context(context: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    match context.and_then(|c| c.keys().next()) {
        None => Ok(()),
        Some(key) => Err(ApiError::InvalidInput(format!(
            "context ({key}, ...) is not supported by personalize-local: its models are trained \
             without contextual metadata, so the context would not change the answer; leave \
             context out"
        ))),
    }
}

/// The request members `resolve` looks up.
fn wanted(req: &GetRecommendationsRequest) -> Result<Wanted<'_>, ApiError> {
    Ok(Wanted {
        user_id: req.user_id.as_deref(),
        filter_arn: req.filter_arn.as_deref(),
        metadata_columns: req.metadata_columns.as_ref(),
        promotion: promotion::requested(req.promotions.as_deref())?,
    })
}

/// Recommends with `resolved` (its promotion, then its metadata columns) for `ask`.
fn answer(resolved: &Resolved, ask: &promotion::Ask<'_>) -> Result<Vec<PredictedItem>, ApiError> {
    let mut items = promotion::recommend(&resolved.inputs, ask, resolved.promotion.as_ref())?;
    if let Some(columns) = &resolved.metadata_columns {
        item_metadata::attach(&resolved.inputs.catalog, columns, &mut items);
    }
    Ok(items)
}

/// `POST /recommendations`.
pub fn get_recommendations(state: &AppState, body: &[u8]) -> OpResult {
    let req: GetRecommendationsRequest = decode(body)?;
    let num_results = req.num_results.unwrap_or(25);
    if !(0..=500).contains(&num_results) {
        return Err(ApiError::InvalidInput(
            "numResults must be between 0 and 500".into(),
        ));
    }
    for (name, id) in [("userId", &req.user_id), ("itemId", &req.item_id)] {
        if let Some(id) = id {
            check_len(name, id, 1, 256)?;
        }
    }
    check_filter_values(req.filter_values.as_ref())?;
    let campaign_arn = match (req.campaign_arn.as_deref(), req.recommender_arn.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidInput(
                "Provide either campaignArn or recommenderArn, not both".into(),
            ));
        }
        (None, Some(recommender_arn)) => {
            let response = recommender::get_recommendations(state, recommender_arn, &req)?;
            return encode(&response);
        }
        (Some(campaign_arn), None) => campaign_arn,
        (None, None) => {
            return Err(ApiError::InvalidInput(
                "Either campaignArn or recommenderArn is required".into(),
            ));
        }
    };
    let resolved = resolve(state, Source::Campaign(campaign_arn), wanted(&req)?)?;
    check_context(req.context.as_ref())?;
    if training::recipe_is_ranking(&resolved.recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} uses a personalized-ranking recipe: call \
             GetPersonalizedRanking"
        )));
    }
    let item_based = training::recipe_is_item_based(&resolved.recipe_arn);
    if item_based {
        if req.item_id.is_none() {
            return Err(ApiError::InvalidInput(
                "itemId is required for this campaign's recipe".into(),
            ));
        }
    } else if req.user_id.is_none() {
        return Err(ApiError::InvalidInput(
            "userId is required for this campaign's recipe".into(),
        ));
    }
    let item_id = req.item_id.as_deref().filter(|_| item_based);
    encode(&respond(
        &resolved,
        campaign_arn,
        &req,
        item_id,
        num_results as usize,
    )?)
}

/// The GetRecommendations answer of `source_arn` (a campaign or recommender) for `req`, with
/// `item_id` when its recipe uses one.
pub(crate) fn respond(
    resolved: &Resolved,
    source_arn: &str,
    req: &GetRecommendationsRequest,
    item_id: Option<&str>,
    num_results: usize,
) -> Result<GetRecommendationsResponse, ApiError> {
    let empty = BTreeMap::new();
    let user_id = req.user_id.as_deref();
    let ask = promotion::Ask {
        user_id,
        item_id,
        num_results,
        filter_values: req.filter_values.as_ref().unwrap_or(&empty),
        exploration: serving::exploration(resolved.exploration.as_ref()),
        seed: &[
            source_arn,
            user_id.unwrap_or_default(),
            item_id.unwrap_or_default(),
        ],
    };
    Ok(GetRecommendationsResponse {
        item_list: answer(resolved, &ask)?,
        recommendation_id: recommendation_id(
            source_arn,
            &[
                user_id.unwrap_or_default(),
                req.item_id.as_deref().unwrap_or_default(),
            ],
        ),
    })
}

/// `POST /personalize-ranking`.
pub fn get_personalized_ranking(state: &AppState, body: &[u8]) -> OpResult {
    let req: GetPersonalizedRankingRequest = decode(body)?;
    check_len("userId", &req.user_id, 1, 256)?;
    check_filter_values(req.filter_values.as_ref())?;
    if req.input_list.is_empty() || req.input_list.len() > 500 {
        return Err(ApiError::InvalidInput(
            "inputList must have between 1 and 500 item ids".into(),
        ));
    }
    let wanted = Wanted {
        user_id: Some(&req.user_id),
        filter_arn: req.filter_arn.as_deref(),
        metadata_columns: req.metadata_columns.as_ref(),
        promotion: None,
    };
    let resolved = resolve(state, Source::Campaign(&req.campaign_arn), wanted)?;
    check_context(req.context.as_ref())?;
    if !training::recipe_is_ranking(&resolved.recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {} does not use a personalized-ranking recipe",
            req.campaign_arn
        )));
    }
    let empty = BTreeMap::new();
    let ranked = serving::rank(
        &resolved.inputs,
        &req.user_id,
        &req.input_list,
        req.filter_values.as_ref().unwrap_or(&empty),
    )?;
    let mut items: Vec<PredictedItem> = ranked
        .into_iter()
        .map(|s| PredictedItem {
            item_id: s.item_id,
            score: s.score,
            metadata: None,
            promotion_name: None,
        })
        .collect();
    if let Some(columns) = &resolved.metadata_columns {
        item_metadata::attach(&resolved.inputs.catalog, columns, &mut items);
    }
    encode(&GetPersonalizedRankingResponse {
        personalized_ranking: items,
        recommendation_id: recommendation_id(&req.campaign_arn, &[&req.user_id]),
    })
}
