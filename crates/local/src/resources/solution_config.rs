//! A solution's configuration checked against its recipe, and what of it reaches the engine:
//! `solutionConfig.eventsConfig` (event types, thresholds and weights; User-Personalization-v2
//! and Personalized-Ranking-v2 only, as AWS documents), `trainingDataConfig` (shared with
//! recommenders, `training_data.rs`), and the members personalize-local cannot honour, refused
//! with InvalidInputException rather than stored and ignored: `performIncrementalUpdate: true`
//! (AWS: aws-semantic-similarity only, a recipe not served here), `hpoConfig`,
//! `featureTransformationParameters`, `optimizationObjective` and `autoMLConfig`.
//! Depends on the store's shapes, the wire errors and the engine's config types only.

use personalize_engine as engine;

use crate::resources::training_data;
use crate::store::model::{EventsConfig, SolutionConfig};
use crate::wire::error::ApiError;

/// The recipes whose solutions take an `eventsConfig` (AWS: "Optimizing a solution with events
/// configuration").
const EVENTS_CONFIG_RECIPES: [&str; 2] = [
    "arn:aws:personalize:::recipe/aws-user-personalization-v2",
    "arn:aws:personalize:::recipe/aws-personalized-ranking-v2",
];

/// Checks an `eventsConfig` for a solution of `recipe_arn`.
pub fn check_events(recipe_arn: &str, events: &EventsConfig) -> Result<(), ApiError> {
    let list = events.event_parameters_list.as_deref().unwrap_or_default();
    if list.is_empty() {
        return Ok(());
    }
    if !EVENTS_CONFIG_RECIPES.contains(&recipe_arn) {
        return Err(ApiError::InvalidInput(format!(
            "eventsConfig applies only to solutions of aws-user-personalization-v2 or \
             aws-personalized-ranking-v2, not {recipe_arn}"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in list {
        let event_type = p.event_type.as_deref().unwrap_or_default();
        if event_type.is_empty() {
            return Err(ApiError::InvalidInput(
                "eventsConfig.eventParametersList: every entry needs an eventType".into(),
            ));
        }
        if !seen.insert(event_type) {
            return Err(ApiError::InvalidInput(format!(
                "eventsConfig.eventParametersList names event type {event_type} twice"
            )));
        }
        if let Some(w) = p.weight
            && !(0.0..=1.0).contains(&w)
        {
            return Err(ApiError::InvalidInput(format!(
                "eventsConfig weight {w} of event type {event_type} must be between 0 and 1"
            )));
        }
    }
    if event_parameters(Some(events))
        .iter()
        .all(|p| p.weight <= 0.0)
    {
        return Err(ApiError::InvalidInput(
            "eventsConfig: every event type has weight 0, so nothing would be trained on; give \
             at least one a weight above 0"
                .into(),
        ));
    }
    Ok(())
}

/// Refuses `performIncrementalUpdate: true`: AWS supports it only for aws-semantic-similarity
/// solutions, which personalize-local does not serve (`false` asks for nothing).
pub fn check_incremental(perform_incremental_update: Option<bool>) -> Result<(), ApiError> {
    if perform_incremental_update == Some(true) {
        return Err(ApiError::InvalidInput(
            "performIncrementalUpdate is supported only for solutions of the \
             aws-semantic-similarity recipe, which personalize-local does not serve; use \
             trainingMode UPDATE (User-Personalization) or retrain instead"
                .into(),
        ));
    }
    Ok(())
}

/// Checks a CreateSolution `solutionConfig` for a solution of `recipe_arn`.
pub fn check(recipe_arn: &str, config: &SolutionConfig) -> Result<(), ApiError> {
    if let Some(events) = &config.events_config {
        check_events(recipe_arn, events)?;
    }
    if let Some(training) = &config.training_data_config {
        training_data::check(training)?;
    }
    if config
        .feature_transformation_parameters
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(ApiError::InvalidInput(
            "solutionConfig.featureTransformationParameters is not supported by \
             personalize-local: its recipes have no feature transformation to configure"
                .into(),
        ));
    }
    for (member, value) in &config.other {
        let off = member == "optimizationObjective"
            && value.get("objectiveSensitivity").and_then(|s| s.as_str()) == Some("OFF");
        if off {
            continue;
        }
        let why = match member.as_str() {
            "hpoConfig" => {
                "with performHPO the engine searches its own grid (algorithmHyperParameters \
                 fixes a value instead)"
            }
            "optimizationObjective" => {
                "it cannot optimise for an item attribute (objectiveSensitivity OFF is accepted)"
            }
            "autoMLConfig" => "performAutoML is not supported: give a recipeArn",
            _ => "it is not a member personalize-local knows",
        };
        return Err(ApiError::InvalidInput(format!(
            "solutionConfig.{member} is not supported by personalize-local: {why}"
        )));
    }
    Ok(())
}

/// The engine's `event_parameters` from an `eventsConfig` (a missing weight counts as 1).
pub fn event_parameters(events: Option<&EventsConfig>) -> Vec<engine::EventParameter> {
    events
        .and_then(|e| e.event_parameters_list.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|p| engine::EventParameter {
            event_type: p.event_type.clone().unwrap_or_default(),
            event_value_threshold: p.event_value_threshold,
            weight: p.weight.unwrap_or(1.0),
        })
        .collect()
}
