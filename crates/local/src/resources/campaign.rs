//! Campaigns: CreateCampaign, UpdateCampaign, DeleteCampaign (Describe and List: `resource.rs`).
//! A campaign serves one solution version, or the newest ACTIVE one of its solution when
//! `syncWithLatestSolutionVersion` is set (`solution/<name>/$LATEST`).
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::lifecycle::{self, ACTIVE, CREATE_FAILED, is_creating};
use crate::resources::resource::{ByArn, Created, begin_delete, get, reserve, start_new};
use crate::resources::shapes::{CreateCampaign, UpdateCampaign};
use crate::resources::solution_version::latest_active;
use crate::resources::tags::{self};
use crate::store::model::{
    Campaign, CampaignConfig, CampaignUpdateSummary, Solution, SolutionVersion,
};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

/// Most campaigns per dataset group.
pub const MAX_CAMPAIGNS_PER_DATASET_GROUP: usize = 5;

const LATEST: &str = "/$LATEST";

/// The solution ARN of a solution version ARN (`solution/<name>/<id>`).
pub fn solution_of(version_arn: &str) -> &str {
    version_arn
        .rsplit_once('/')
        .map(|(s, _)| s)
        .unwrap_or(version_arn)
}

/// The version a campaign serves now (resolving `$LATEST`).
pub fn serving_version(store: &Store, campaign: &Campaign) -> Option<String> {
    if campaign.solution_version_arn.ends_with(LATEST) {
        latest_active(store, solution_of(&campaign.solution_version_arn))
    } else {
        Some(campaign.solution_version_arn.clone())
    }
}

fn check_config(config: Option<&CampaignConfig>) -> Result<(), ApiError> {
    check_ranking_influence(config)?;
    match config.and_then(|c| c.item_exploration_config.as_ref()) {
        Some(exploration) => check_exploration(exploration),
        None => Ok(()),
    }
}

/// Refuses a campaign's `rankingInfluence` that would change anything (see
/// [`refuse_ranking_influence`]).
fn check_ranking_influence(config: Option<&CampaignConfig>) -> Result<(), ApiError> {
    refuse_ranking_influence(
        config.and_then(|c| c.ranking_influence.as_ref()),
        "campaigns",
    )
}

/// Refuses a `rankingInfluence` that would change anything: AWS applies POPULARITY and FRESHNESS
/// only to `what` (campaigns, batch inference jobs) of aws-semantic-similarity solutions, a
/// recipe personalize-local does not serve. Weights of 0 (AWS's default) ask for nothing and are
/// accepted.
pub(crate) fn refuse_ranking_influence(
    influence: Option<&std::collections::BTreeMap<String, f64>>,
    what: &str,
) -> Result<(), ApiError> {
    if let Some((factor, weight)) = influence.into_iter().flatten().find(|(_, w)| **w != 0.0) {
        return Err(ApiError::InvalidInput(format!(
            "rankingInfluence {factor}={weight} applies only to {what} of \
             aws-semantic-similarity solutions, which personalize-local does not serve"
        )));
    }
    Ok(())
}

/// Checks an `itemExplorationConfig` (campaigns and recommenders).
pub fn check_exploration(
    exploration: &std::collections::BTreeMap<String, String>,
) -> Result<(), ApiError> {
    for (key, value) in exploration {
        let parsed = value.trim().parse::<f64>();
        let ok = match key.as_str() {
            "explorationWeight" => parsed.is_ok_and(|w| (0.0..=1.0).contains(&w)),
            "explorationItemAgeCutOff" => parsed.is_ok_and(|d| d > 0.0),
            _ => false,
        };
        if !ok {
            return Err(ApiError::InvalidInput(format!(
                "Invalid itemExplorationConfig {key}={value}: explorationWeight is 0..1, \
                 explorationItemAgeCutOff a positive number of days"
            )));
        }
    }
    Ok(())
}

/// A campaign cannot serve a USER_SEGMENTATION solution: those make user segments through
/// batch segment jobs only.
fn refuse_segmentation(recipe_arn: Option<&str>) -> Result<(), ApiError> {
    let recipe = recipe_arn.and_then(personalize_engine::Recipe::from_arn);
    if let Some(recipe) = recipe.filter(|r| r.is_user_segmentation()) {
        return Err(ApiError::InvalidInput(format!(
            "{} is a USER_SEGMENTATION recipe: its solution versions make user segments with \
             CreateBatchSegmentJob and cannot be deployed in a campaign",
            recipe.arn()
        )));
    }
    Ok(())
}

/// Checks the version a campaign is to serve; returns its dataset group.
fn check_version(store: &Store, arn: &str, sync: bool) -> Result<String, ApiError> {
    check_arn("solutionVersionArn", arn)?;
    if sync != arn.ends_with(LATEST) {
        return Err(ApiError::InvalidInput(
            "syncWithLatestSolutionVersion=true requires solutionVersionArn \
             solution/<name>/$LATEST, and $LATEST requires it"
                .into(),
        ));
    }
    if let Some(solution_arn) = arn.strip_suffix(LATEST) {
        let solution = get::<Solution>(store, solution_arn)?;
        refuse_segmentation(solution.recipe_arn.as_deref())?;
        if latest_active(store, solution_arn).is_none() {
            return Err(ApiError::InUse(format!(
                "Solution {solution_arn} has no ACTIVE solution version"
            )));
        }
        return Ok(solution.dataset_group_arn.clone());
    }
    let version = get::<SolutionVersion>(store, arn)?;
    refuse_segmentation(version.recipe_arn.as_deref())?;
    if version.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Solution version {arn} is in status {}, not ACTIVE",
            version.status
        )));
    }
    Ok(version.dataset_group_arn.clone())
}

fn dataset_group_of(store: &Store, campaign: &Campaign) -> Option<String> {
    store
        .solutions
        .get(solution_of(&campaign.solution_version_arn))
        .map(|s| s.dataset_group_arn.clone())
}

pub fn create(state: &AppState, req: CreateCampaign) -> Result<Created<Campaign>, ApiError> {
    check_name("name", &req.name)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let tps = req.min_provisioned_tps.unwrap_or(1);
    if tps < 1 {
        return Err(ApiError::InvalidInput(
            "minProvisionedTPS must be at least 1".into(),
        ));
    }
    check_config(req.campaign_config.as_ref())?;
    let sync = req
        .campaign_config
        .as_ref()
        .and_then(|c| c.sync_with_latest_solution_version)
        .unwrap_or(false);
    let (arn, mut store) = reserve::<Campaign>(state, "campaign", &req.name)?;
    let dg = check_version(&store, &req.solution_version_arn, sync)?;
    let in_group = store
        .campaigns
        .values()
        .filter(|c| dataset_group_of(&store, c).as_deref() == Some(dg.as_str()))
        .count();
    if in_group >= MAX_CAMPAIGNS_PER_DATASET_GROUP {
        return Err(ApiError::LimitExceeded(format!(
            "Dataset group {dg} already has {in_group} campaigns (limit \
             {MAX_CAMPAIGNS_PER_DATASET_GROUP})"
        )));
    }
    let now = store.now();
    store.commit(Entry::Campaign(Campaign {
        name: req.name,
        campaign_arn: arn.clone(),
        solution_version_arn: req.solution_version_arn,
        min_provisioned_tps: tps,
        campaign_config: req.campaign_config,
        status: lifecycle::initial_status(state).into(),
        failure_reason: None,
        creation_date_time: now,
        last_updated_date_time: now,
        latest_campaign_update: None,
    }));
    start_new(state, store, &arn, req.tags);
    Ok(Created::new(arn))
}

pub fn update(state: &AppState, req: UpdateCampaign) -> Result<Created<Campaign>, ApiError> {
    check_arn("campaignArn", &req.campaign_arn)?;
    if req.min_provisioned_tps.is_some_and(|t| t < 1) {
        return Err(ApiError::InvalidInput(
            "minProvisionedTPS must be at least 1".into(),
        ));
    }
    check_config(req.campaign_config.as_ref())?;
    let mut store = state.lock();
    let mut campaign = get::<Campaign>(&store, &req.campaign_arn)?.clone();
    let updating = campaign
        .latest_campaign_update
        .as_ref()
        .is_some_and(|u| is_creating(&u.status));
    if !(campaign.status == ACTIVE || campaign.status == CREATE_FAILED) || updating {
        return Err(ApiError::InUse(format!(
            "Campaign {} is in status {}{}; it can be updated only when ACTIVE or CREATE FAILED",
            req.campaign_arn,
            campaign.status,
            if updating {
                " with an update in progress"
            } else {
                ""
            }
        )));
    }
    let config = req
        .campaign_config
        .clone()
        .or_else(|| campaign.campaign_config.clone());
    let sync = config
        .as_ref()
        .and_then(|c| c.sync_with_latest_solution_version)
        .unwrap_or(false);
    let version = req
        .solution_version_arn
        .clone()
        .unwrap_or_else(|| campaign.solution_version_arn.clone());
    check_version(&store, &version, sync)?;
    let now = store.now();
    let status = lifecycle::update_initial_status(state);
    campaign.latest_campaign_update = Some(CampaignUpdateSummary {
        solution_version_arn: Some(version),
        min_provisioned_tps: Some(
            req.min_provisioned_tps
                .unwrap_or(campaign.min_provisioned_tps),
        ),
        campaign_config: config,
        status: status.into(),
        failure_reason: None,
        creation_date_time: now,
        last_updated_date_time: now,
    });
    campaign.last_updated_date_time = now;
    let entry = Entry::Campaign(campaign);
    lifecycle::begin_update(state, store, entry, &req.campaign_arn, status, apply_update);
    Ok(Created::new(req.campaign_arn))
}

/// Moves `latestCampaignUpdate` to `status`; at ACTIVE the campaign serves the new version
/// (until then it keeps serving the old one).
pub fn apply_update(store: &mut Store, arn: &str, status: &str) {
    let Some(mut campaign) = store.campaigns.get(arn).cloned() else {
        return;
    };
    let now = store.now();
    let Some(update) = campaign.latest_campaign_update.clone() else {
        return;
    };
    if status == ACTIVE {
        if let Some(v) = update.solution_version_arn {
            campaign.solution_version_arn = v;
        }
        if let Some(t) = update.min_provisioned_tps {
            campaign.min_provisioned_tps = t;
        }
        if update.campaign_config.is_some() {
            campaign.campaign_config = update.campaign_config;
        }
        campaign.status = ACTIVE.into();
        campaign.failure_reason = None;
    }
    if let Some(u) = campaign.latest_campaign_update.as_mut() {
        u.status = status.into();
        u.last_updated_date_time = now;
    }
    campaign.last_updated_date_time = now;
    store.commit(Entry::Campaign(campaign));
}

pub fn delete(state: &AppState, req: ByArn<Campaign>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}
