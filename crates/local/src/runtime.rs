//! personalize-runtime (REST JSON): GetRecommendations and GetPersonalizedRanking. Resolves the
//! campaign's serving version, gathers the user's live events and the catalog under the store
//! lock, then calls the engine through `serving.rs` outside it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::campaign::serving_version;
use crate::error::ApiError;
use crate::lifecycle::ACTIVE;
use crate::names::{check_arn, check_len, stable_uuid};
use crate::protocol::{OpResult, decode, encode};
use crate::serving::{self, Inputs};
use crate::training;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsRequest {
    pub campaign_arn: Option<String>,
    pub item_id: Option<String>,
    pub user_id: Option<String>,
    pub num_results: Option<i64>,
    pub context: Option<BTreeMap<String, String>>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
    pub recommender_arn: Option<String>,
    pub promotions: Option<serde_json::Value>,
    pub metadata_columns: Option<serde_json::Value>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictedItem {
    pub item_id: String,
    pub score: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsResponse {
    pub item_list: Vec<PredictedItem>,
    pub recommendation_id: String,
}

/// Everything a request needs plus the campaign's settings.
struct Resolved {
    inputs: Inputs,
    recipe_arn: String,
    exploration: Option<BTreeMap<String, String>>,
}

fn resolve(
    state: &AppState,
    campaign_arn: &str,
    user_id: Option<&str>,
    filter_arn: Option<&str>,
) -> Result<Resolved, ApiError> {
    check_arn("campaignArn", campaign_arn)?;
    if let Some(arn) = filter_arn {
        check_arn("filterArn", arn)?;
    }
    preload_model(state, campaign_arn);
    let store = state.lock();
    let campaign = store
        .campaigns
        .get(campaign_arn)
        .ok_or_else(|| ApiError::not_found(campaign_arn))?;
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
    let version = store
        .solution_versions
        .get(&version_arn)
        .ok_or_else(|| ApiError::not_found(&version_arn))?;
    let dg = version.dataset_group_arn.clone();
    let recipe_arn = version.recipe_arn.clone().unwrap_or_default();
    let model = state
        .serving
        .model(&store, state.config.data_dir.as_deref(), &version_arn)?;
    let trained_seq = store.trained.get(&version_arn).map_or(0, |m| m.trained_seq);
    let live = match (user_id, store.live.get(&dg)) {
        (Some(user), Some(live)) => live.newer_than(user, trained_seq),
        _ => Vec::new(),
    };
    let filter = match filter_arn {
        None => None,
        Some(arn) => {
            let f = store
                .filters
                .get(arn)
                .ok_or_else(|| ApiError::not_found(arn))?;
            if f.dataset_group_arn != dg {
                return Err(ApiError::InvalidInput(format!(
                    "Filter {arn} belongs to another dataset group"
                )));
            }
            if f.status != ACTIVE {
                return Err(ApiError::InvalidInput(format!(
                    "Filter {arn} is in status {}, not ACTIVE",
                    f.status
                )));
            }
            Some(state.serving.filter(arn, &f.filter_expression)?)
        }
    };
    let catalog = state.serving.catalog(&store, &dg);
    let exploration = campaign
        .campaign_config
        .as_ref()
        .and_then(|c| c.item_exploration_config.clone());
    Ok(Resolved {
        inputs: Inputs {
            model,
            catalog,
            live,
            filter,
        },
        recipe_arn,
        exploration,
    })
}

/// Loads the campaign's model outside the store lock if it is not cached yet (after a restart),
/// so PutEvents and other requests do not wait on a deserialization. Errors surface later.
fn preload_model(state: &AppState, campaign_arn: &str) {
    let pending = {
        let store = state.lock();
        store
            .campaigns
            .get(campaign_arn)
            .and_then(|c| serving_version(&store, c))
            .filter(|v| !state.serving.has_model(v))
            .and_then(|v| {
                let file = store.trained.get(&v)?.model_file.clone()?;
                Some((v, file))
            })
    };
    if let Some((arn, file)) = pending
        && let Err(error) = state
            .serving
            .load_model(state.config.data_dir.as_deref(), &arn, &file)
    {
        tracing::warn!(%arn, %error, "model does not load");
    }
}

fn recommendation_id(parts: &[&str]) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_string();
    let mut all = parts.to_vec();
    all.push(&nanos);
    format!("RID-{}", &stable_uuid(&all)[..33])
}

/// `POST /recommendations`.
pub fn get_recommendations(state: &AppState, body: &[u8]) -> OpResult {
    let req: GetRecommendationsRequest = decode(body)?;
    if req.recommender_arn.is_some() {
        return Err(ApiError::InvalidInput(
            "recommenderArn is not supported by personalize-local; use campaignArn".into(),
        ));
    }
    let campaign_arn = req
        .campaign_arn
        .as_deref()
        .ok_or_else(|| ApiError::InvalidInput("campaignArn is required".into()))?;
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
    if let Some(values) = &req.filter_values
        && values.len() > 25
    {
        return Err(ApiError::InvalidInput(
            "filterValues may have at most 25 entries".into(),
        ));
    }
    let resolved = resolve(
        state,
        campaign_arn,
        req.user_id.as_deref(),
        req.filter_arn.as_deref(),
    )?;
    if training::recipe_is_ranking(&resolved.recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {campaign_arn} uses a personalized-ranking recipe: call \
             GetPersonalizedRanking"
        )));
    }
    if training::recipe_is_item_based(&resolved.recipe_arn) {
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
    let empty = BTreeMap::new();
    let scored = serving::recommend(
        &resolved.inputs,
        req.user_id.as_deref(),
        if training::recipe_is_item_based(&resolved.recipe_arn) {
            req.item_id.as_deref()
        } else {
            None
        },
        num_results as usize,
        req.filter_values.as_ref().unwrap_or(&empty),
        serving::exploration(resolved.exploration.as_ref()),
    )?;
    encode(&GetRecommendationsResponse {
        item_list: scored
            .into_iter()
            .map(|s| PredictedItem {
                item_id: s.item_id,
                score: s.score,
            })
            .collect(),
        recommendation_id: recommendation_id(&[
            campaign_arn,
            req.user_id.as_deref().unwrap_or_default(),
            req.item_id.as_deref().unwrap_or_default(),
        ]),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingRequest {
    pub campaign_arn: String,
    pub input_list: Vec<String>,
    pub user_id: String,
    pub context: Option<BTreeMap<String, String>>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
    pub metadata_columns: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingResponse {
    pub personalized_ranking: Vec<PredictedItem>,
    pub recommendation_id: String,
}

/// `POST /personalize-ranking`.
pub fn get_personalized_ranking(state: &AppState, body: &[u8]) -> OpResult {
    let req: GetPersonalizedRankingRequest = decode(body)?;
    check_len("userId", &req.user_id, 1, 256)?;
    if req.input_list.is_empty() || req.input_list.len() > 500 {
        return Err(ApiError::InvalidInput(
            "inputList must have between 1 and 500 item ids".into(),
        ));
    }
    let resolved = resolve(
        state,
        &req.campaign_arn,
        Some(&req.user_id),
        req.filter_arn.as_deref(),
    )?;
    if !training::recipe_is_ranking(&resolved.recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "Campaign {} does not use a personalized-ranking recipe",
            req.campaign_arn
        )));
    }
    let ranked = serving::rank(&resolved.inputs, &req.user_id, &req.input_list);
    encode(&GetPersonalizedRankingResponse {
        personalized_ranking: ranked
            .into_iter()
            .map(|s| PredictedItem {
                item_id: s.item_id,
                score: s.score,
            })
            .collect(),
        recommendation_id: recommendation_id(&[&req.campaign_arn, &req.user_id]),
    })
}
